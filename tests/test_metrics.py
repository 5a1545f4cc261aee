"""vidstyle.metrics: the warping error against an independent implementation and analytic values."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.flow import compute_flow, flow_to_tensor, validity_mask
from vidstyle.metrics import (TEXTURE_PANEL, FlowOrigin, flicker, plot_flicker, static_flicker, still_mask,
                              warping_error,
                              warping_error_torch)

from ._fixtures_flow import texture, translated_sequence
from .test_flow import plain_bilinear


pytestmark = pytest.mark.usefixtures("quiet")  # tests/conftest.py


def plain_lai(frame, next_frame, forward, backward):
    """Lai et al.'s e_t written out independently: mask by the two tests, then the masked mean."""
    height, width = forward.shape[:2]
    forward = forward.astype(np.float64)
    back_warped = plain_bilinear(backward, forward)
    occluded = np.zeros((height, width), bool)
    for y in range(height):
        for x in range(width):
            u, v = forward[y, x]
            bu, bv = back_warped[y, x]
            if (u + bu) ** 2 + (v + bv) ** 2 > 0.01 * (u * u + v * v + bu * bu + bv * bv) + 0.5:
                occluded[y, x] = True
            du = forward[y, x + 1] - forward[y, x] if x + 1 < width else np.zeros(2)
            dv = forward[y + 1, x] - forward[y, x] if y + 1 < height else np.zeros(2)
            if (du ** 2).sum() + (dv ** 2).sum() > 0.01 * (u * u + v * v) + 0.002:
                occluded[y, x] = True
    mask = ~occluded
    warped = plain_bilinear(next_frame / 255.0, forward)
    total = sum(((warped[y, x] - frame[y, x] / 255.0) ** 2).sum()
                for y in range(height) for x in range(width) if mask[y, x])
    return total / (3 * mask.sum()), mask


def test_library_matches_an_independent_implementation_on_fixed_flows():
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)
    next_frame = rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)
    forward = np.empty((20, 28, 2), np.float32)
    forward[:] = (2.3, -1.1)
    forward[5:12, 8:16] = (-3.4, 2.6)  # a block moving the other way: boundaries and occlusions
    backward = -forward + np.float32(0.3) * rng.standard_normal((20, 28, 2)).astype(np.float32)
    expected, expected_mask = plain_lai(frame, next_frame, forward, backward)
    mask = validity_mask(forward, backward)
    assert 0.2 < mask.mean() < 0.95  # both tests fire somewhere: the comparison means something
    assert np.array_equal(mask, expected_mask)
    assert warping_error(frame, next_frame, forward, mask) == pytest.approx(expected, abs=1e-6)
    as_tensor = lambda image: torch.from_numpy(image / 255.0).permute(2, 0, 1)[None].float()  # noqa: E731
    torch_value = warping_error_torch(as_tensor(frame), as_tensor(next_frame), flow_to_tensor(forward)[None],
                                      torch.from_numpy(mask)[None])
    assert float(torch_value[0]) == pytest.approx(expected, abs=1e-6)


def test_exact_warp_sequence_scores_near_zero():
    frames = translated_sequence(6, step=2)
    report = flicker(frames, source=frames, tof=False, exclude_outside=True)
    assert report.warp_error < 1e-4
    # Lai's original mask keeps the 2 columns that enter from outside the frame, hence a little more
    assert flicker(frames, source=frames, tof=False).warp_error < 2e-4


def test_brightness_jitter_gives_the_analytic_value_within_5_percent():
    frames = [np.rint(f * 0.8 + 25).astype(np.uint8) for f in translated_sequence(7, step=2)]
    offsets = np.array([0, 9, -7, 4, 12, -10, 3])  # whole grey levels: no rounding, no clipping
    jittered = [(f.astype(int) + o).astype(np.uint8) for f, o in zip(frames, offsets)]
    report = flicker(jittered, source=frames, exclude_outside=True)
    analytic = np.square(np.diff(offsets) / 255.0)
    assert report.flow_origin is FlowOrigin.SOURCE
    assert np.allclose(report.stylized.warp_error, analytic, rtol=0.05)
    assert report.warp_error == pytest.approx(analytic.mean(), rel=0.05)
    assert report.source.warp_error.max() < 1e-4 and report.ratio > 100
    assert report.tof is not None and report.tof.max() < 0.5  # a brightness change barely moves DIS


def test_occluder_is_masked_out_of_the_warping_error():
    background = texture(96, 128)
    patch = cv2.rotate(texture(32, 32, blur=0.5), cv2.ROTATE_180)
    frames = []
    for left in (20, 28, 36, 44):
        frame = background.copy()
        frame[30:62, left:left + 32] = patch
        frames.append(frame)
    report = flicker(frames, source=frames, tof=False)
    assert report.valid_fraction.max() < 0.97  # the occluded strip is excluded
    forward = compute_flow(frames[0], frames[1])
    everything = np.ones(forward.shape[:2], bool)
    unmasked = warping_error(frames[0], frames[1], forward, everything)
    assert report.stylized.warp_error[0] < 0.25 * unmasked


def test_static_flicker_counts_only_still_valid_pixels():
    frame = texture(32, 32)
    flow = np.zeros((32, 32, 2), np.float32)
    flow[:, 16:, 0] = 3  # the right half moves
    still = still_mask(frame, frame, flow, np.ones((32, 32), bool))
    assert still[:, :16].all() and not still[:, 16:].any()
    brighter = frame.copy()
    brighter[:, :16] += 2
    brighter[:, 16:] += 40
    assert static_flicker(frame, brighter, still) == pytest.approx(2.0, abs=1e-4)


def test_report_json_csv_plot_and_resampling(tmp_path):
    source = translated_sequence(5, step=1)
    rng = np.random.default_rng(6)
    stylized = [cv2.resize(np.clip(f + rng.integers(0, 6, f.shape), 0, 255).astype(np.uint8), (64, 48))
                for f in source]
    report = flicker(stylized, source=source, reference=source)
    data = json.loads(report.write_json(tmp_path / "r.json").read_text())
    assert data["pairs"] == 4 and data["frames"] == 5 and data["size"] == [128, 96]
    assert data["ratio"] == pytest.approx(data["stylized"]["warp_error"] / data["source"]["warp_error"])
    assert data["warp_error"] == pytest.approx(np.mean(data["stylized"]["per_pair"]["warp_error"]))
    assert len(data["per_frame"]["psnr"]) == 5 and 0 < data["ssim"] < 1 and data["psnr"] > 10
    assert data["reference"]["warp_error"] == pytest.approx(data["source"]["warp_error"])
    assert "resampled" in " ".join(data["notes"]) and "RGB in [0,1]" in data["protocol"]["warp_error"]
    rows = report.write_csv(tmp_path / "r.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("frame,next_frame,time_s,ewarp_stylized,ewarp_source")
    assert data["texture"]["reference"]["size"] == [128, 96] and data["texture"]["keyframes"] is None
    assert len(data["texture"]["reference"]["per_frame"]["detail_ratio"]) == 5 and 0 < data["detail_ratio"]
    png = plot_flicker(report, tmp_path / "r.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and cv2.imread(str(png)).shape == (520 + TEXTURE_PANEL, 1200, 3)
    assert "E_warp" in report.table() and "weaker" not in report.table().lower()


def test_without_source_the_report_says_it_is_the_weaker_variant():
    frames = translated_sequence(3)
    report = flicker(frames)
    assert report.flow_origin is FlowOrigin.STYLIZED and report.source is None and report.tof is None
    assert "WEAKER VARIANT" in report.protocol["warp_error"] and report.ratio is None


def test_frame_count_mismatch_is_an_error_unless_trimmed():
    frames = translated_sequence(5)
    with pytest.raises(InputError, match="allow_trim=True"):
        flicker(frames[:4], source=frames)
    report = flicker(frames[:4], source=frames, allow_trim=True, tof=False)
    assert report.frames == 4 and any("differ in length" in note for note in report.notes)
    assert flicker(frames[:4], source=frames, max_frames=3, tof=False).frames == 3
