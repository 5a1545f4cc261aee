"""vidstyle.flow: flow accuracy, warps, masks, .flo files, the cache and video_flows."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.flow import (FlowCache, FlowPrecision, FlowPreset, MotionEstimator, SourceId, compute_flow, flow_stretch,
                           flow_to_color, flow_to_tensor, read_flo, validity_mask, video_flows, warp, warp_numpy, write_flo)

from ._fixtures_flow import SAMPLE, texture


def plain_bilinear(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Independent reference: out(x) = image(x + flow(x)), bilinear, positions clamped to the frame."""
    height, width = flow.shape[:2]
    image = image.astype(np.float64).reshape(height, width, -1)
    out = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            px = min(max(x + float(flow[y, x, 0]), 0.0), width - 1.0)
            py = min(max(y + float(flow[y, x, 1]), 0.0), height - 1.0)
            x0, y0 = int(np.floor(px)), int(np.floor(py))
            x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
            ax, ay = px - x0, py - y0
            out[y, x] = ((1 - ay) * ((1 - ax) * image[y0, x0] + ax * image[y0, x1])
                         + ay * ((1 - ax) * image[y1, x0] + ax * image[y1, x1]))
    return out


def affine_pair(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame a, frame b with b(A x) = a(x), and the true flow F(x) = A x - x."""
    a = texture(192, 256, blur=1.0)
    b = cv2.warpAffine(a, matrix, (256, 192), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    ys, xs = np.mgrid[0:192, 0:256].astype(np.float64)
    true = np.stack([matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2] - xs,
                     matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2] - ys], axis=-1)
    return a, b, true


@pytest.mark.parametrize("name,matrix", [
    ("translation", np.array([[1, 0, 3.4], [0, 1, -1.7]])),
    ("rotation", cv2.getRotationMatrix2D((128.0, 96.0), 3.0, 1.0)),
])
def test_dis_flow_end_point_error_on_real_texture(name, matrix):
    a, b, true = affine_pair(matrix)
    flow = compute_flow(a, b, FlowPreset.MEDIUM)
    error = np.linalg.norm(flow - true, axis=-1)[16:-16, 16:-16]  # away from the borders
    assert np.abs(true).max() > 1.5  # the motion is real
    assert error.mean() < 0.5, f"{name}: mean EPE {error.mean():.3f} px"


def test_dis_flow_on_tiny_and_short_wide_frames():
    """OpenCV's DIS raises on frames under 8-12 px and crashes the process on short
    wide ones; DisFlow pads them, so run it in a child process to see a crash."""
    import subprocess
    import sys

    code = ("import numpy as np; from vidstyle.flow import DisFlow, FlowPreset\n"
            "for p in FlowPreset:\n"
            "    dis = DisFlow(p)\n"
            "    for h, w in [(2, 2), (8, 8), (6, 40), (12, 40), (20, 100), (30, 512), (40, 12)]:\n"
            "        a = np.random.default_rng(h).integers(0, 255, (h, w, 3), np.uint8)\n"
            "        flow = dis(a, np.roll(a, 1, axis=1))\n"
            "        assert flow.shape == (h, w, 2) and np.isfinite(flow).all(), (h, w)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])


def test_numpy_warp_is_exact_bilinear_on_a_sharp_texture():
    rng = np.random.default_rng(1)
    image = rng.random((24, 32, 3)).astype(np.float32)  # every pixel an edge
    flow = (rng.standard_normal((24, 32, 2)) * 4).astype(np.float32)
    flow[0, 0] = (1e3, -1e3)  # far outside: clamps to the corner
    expected = plain_bilinear(image, flow)
    assert np.abs(warp_numpy(image, flow) - expected).max() < 1e-6
    # 8-bit images are warped exactly and rounded (remap alone quantises positions to 1/32 px)
    image8 = (image * 255).astype(np.uint8)
    assert np.abs(warp_numpy(image8, flow).astype(np.float64) - plain_bilinear(image8, flow)).max() <= 0.5 + 1e-6


def test_torch_and_numpy_warps_agree_to_1e4_at_1080p_width():
    rng = np.random.default_rng(2)
    image = (np.indices((40, 1920)).sum(0) % 2).astype(np.float32)[..., None].repeat(3, axis=2)
    flow = (rng.standard_normal((40, 1920, 2)) * 5).astype(np.float32)
    ours = warp(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous(), flow_to_tensor(flow)[None])
    assert np.abs(ours[0].permute(1, 2, 0).numpy() - warp_numpy(image, flow)).max() < 1e-4


def test_torch_warp_is_batched_and_differentiable():
    torch.manual_seed(0)
    image = torch.rand(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    flow = (torch.rand(2, 2, 4, 5, dtype=torch.float64) * 3 - 1.5 + 0.37).requires_grad_(True)
    assert torch.autograd.gradcheck(warp, (image, flow), eps=1e-6, atol=1e-5)
    with pytest.raises(ValueError):
        warp(image[0], flow[0])


@pytest.mark.needs_cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_torch_warp_on_cuda_matches_cpu():
    image, flow = torch.rand(1, 3, 32, 48), torch.randn(1, 2, 32, 48) * 3
    assert torch.allclose(warp(image.cuda(), flow.cuda()).cpu(), warp(image, flow), atol=1e-5)


def test_validity_mask_catches_an_occluder_with_known_flows():
    height, width = 40, 100
    forward = np.zeros((height, width, 2), np.float32)
    backward = np.zeros_like(forward)
    forward[10:30, 40:60, 0] = 10   # a square moving right by 10 px over a still background
    backward[10:30, 50:70, 0] = -10
    valid = validity_mask(forward, backward)
    assert not valid[12:28, 62:69].any()  # background covered by the square in t+1
    assert valid[12:28, 42:58].all() and valid[:, :30].all() and valid[:, 80:].all()
    # motion boundary: the flow's gradient at the square's edge
    assert not valid[20, 59] and not valid[20, 39]


def test_validity_mask_with_dis_on_a_moving_textured_square():
    background = texture(96, 128, blur=1.0)
    patch = cv2.rotate(texture(32, 32, blur=0.5), cv2.ROTATE_180)
    frames = []
    for left in (30, 40):
        frame = background.copy()
        frame[30:62, left:left + 32] = patch
        frames.append(frame)
    forward = compute_flow(frames[0], frames[1])
    backward = compute_flow(frames[1], frames[0])
    valid = validity_mask(forward, backward)
    covered = valid[34:58, 64:70]  # background of frame 0 hidden under the square in frame 1
    assert covered.mean() < 0.5
    assert valid[:, 100:].mean() > 0.9


def test_exclude_outside_rejects_flow_leaving_the_frame():
    forward = np.zeros((10, 10, 2), np.float32)
    forward[:, :, 0] = -3  # everything moves left by 3 px: the left 3 columns leave the frame
    backward = -forward
    assert validity_mask(forward, backward)[:, :3].all()  # Lai's original test keeps them
    strict = validity_mask(forward, backward, exclude_outside=True)
    assert not strict[:, :3].any() and strict[:, 3:].all()


def test_flo_round_trip_and_layout(tmp_path):
    flow = np.random.default_rng(3).standard_normal((5, 7, 2)).astype(np.float32)
    path = write_flo(tmp_path / "a.flo", flow)
    raw = path.read_bytes()
    assert raw[:4] == b"PIEH" and np.frombuffer(raw[4:12], "<i4").tolist() == [7, 5]
    assert np.frombuffer(raw[4:8], "<f4").size == 1 and np.frombuffer(raw[:4], "<f4")[0] == np.float32(202021.25)
    assert len(raw) == 12 + 5 * 7 * 8
    assert np.array_equal(read_flo(path), flow)
    (tmp_path / "bad.flo").write_bytes(b"PIEH" + np.array([7, 5], "<i4").tobytes() + b"\0" * 10)
    with pytest.raises(InputError, match="bad.flo"):
        read_flo(tmp_path / "bad.flo")
    (tmp_path / "x.flo").write_bytes(b"not a flow file at all")
    with pytest.raises(InputError, match="PIEH"):
        read_flo(tmp_path / "x.flo")


def test_flow_cache_round_trip_keys_and_invalidation(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(SAMPLE.read_bytes())
    cache = FlowCache(tmp_path / "cache")
    flow = (np.random.default_rng(4).standard_normal((6, 8, 2)) * 20).astype(np.float32)
    assert cache.get(video, 0, 1, preset="medium", size=(8, 6)) is None
    stored = cache.put(video, 0, 1, flow, preset="medium")
    assert np.abs(stored - flow).max() <= np.abs(flow).max() * 2 ** -11  # float16 rounding only
    assert np.array_equal(cache.get(video, 0, 1, preset="medium", size=(8, 6)), stored)
    assert cache.get(video, 1, 0, preset="medium", size=(8, 6)) is None       # other pair
    assert cache.get(video, 0, 1, preset="fast", size=(8, 6)) is None         # other preset
    assert cache.get(video, 0, 1, preset="medium", size=(16, 12)) is None     # other size
    os.utime(video, ns=(1, 1))                                                # the file changed
    assert cache.get(video, 0, 1, preset="medium", size=(8, 6)) is None
    full = FlowCache(tmp_path / "full", FlowPrecision.FULL)
    assert np.array_equal(full.put(video, 0, 1, flow, preset="medium"), flow)
    entry = full.folder(video, "medium", (8, 6)) / "0-1.npy"
    entry.write_bytes(b"garbage")                                             # a corrupt entry is a miss
    assert full.get(video, 0, 1, preset="medium", size=(8, 6)) is None
    assert SourceId.of_file(video, content=True) == SourceId.of_file(SAMPLE, content=True)


def test_flow_cache_that_is_a_file_or_cannot_be_written_is_a_one_line_error(tmp_path):
    from vidstyle.errors import VidstyleError

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x")
    with pytest.raises(InputError, match="clip.mp4: flow cache is not a folder"):
        FlowCache(video)
    blocked = FlowCache(tmp_path / "clip.mp4.cache")
    (tmp_path / "clip.mp4.cache").write_text("a file appeared where the cache should go")
    with pytest.raises(VidstyleError, match="cannot write the flow cache"):
        blocked.put(video, 0, 1, np.zeros((6, 8, 2), np.float32), preset="medium")


def test_video_flows_streams_pairs_and_reuses_the_cache(tmp_path):
    cache = FlowCache(tmp_path / "cache")
    pairs = list(video_flows(SAMPLE, end_frame=5, size=(160, 120), cache=cache, workers=2))
    assert [p.index for p in pairs] == [0, 1, 2, 3] and [p.next_index for p in pairs] == [1, 2, 3, 4]
    assert pairs[0].forward.shape == (120, 160, 2) and pairs[0].backward.shape == (120, 160, 2)
    assert pairs[1].time == pytest.approx(0.05)
    assert cache.misses == 8 and cache.hits == 0
    again = list(video_flows(SAMPLE, end_frame=5, size=(160, 120), cache=cache, workers=1))
    assert cache.hits == 8
    for first, second in zip(pairs, again):
        assert np.array_equal(first.forward, second.forward) and np.array_equal(first.backward, second.backward)
    # without a cache: exactly DIS on the decoded frames, forward and backward
    plain = list(video_flows(SAMPLE, end_frame=3, size=(160, 120), workers=2))
    assert np.array_equal(plain[1].forward, compute_flow(plain[1].image, plain[1].next_image))
    assert np.array_equal(plain[1].backward, compute_flow(plain[1].next_image, plain[1].image))
    assert np.abs(plain[1].forward - pairs[1].forward).max() <= np.abs(plain[1].forward).max() * 2 ** -10
    assert plain[0].validity_mask().shape == (120, 160)


def test_video_flows_from_arrays_forward_only():
    frames = [texture(48, 64), np.roll(texture(48, 64), 2, axis=1), np.roll(texture(48, 64), 4, axis=1)]
    pairs = list(video_flows(frames, backward=False, preset="fast", start_frame=1))
    assert len(pairs) == 1 and pairs[0].index == 1 and pairs[0].backward is None and pairs[0].time is None
    with pytest.raises(ValueError, match="backward"):
        pairs[0].validity_mask()
    with pytest.raises(InputError, match="frame 1"):
        list(video_flows([texture(48, 64), texture(50, 64)]))


def test_flow_colour_wheel():
    flow = np.zeros((2, 3, 2), np.float32)
    flow[0, 1] = (1, 0)
    flow[0, 2] = (np.nan, 0)
    colours = flow_to_color(flow, max_motion=1)
    assert colours.dtype == np.uint8 and colours.shape == (2, 3, 3)
    assert colours[0, 0].tolist() == [255, 255, 255]  # no motion is white
    assert colours[0, 1].tolist() == [255, 0, 0]      # rightward is red on the Middlebury wheel
    assert colours[0, 2].tolist() == [0, 0, 0]        # unknown is black


def _affine_flow(matrix: list[list[float]], height: int = 30, width: int = 40) -> torch.Tensor:
    """(1, 2, H, W) flow of the backward warp that samples at ``matrix @ (x, y)`` about the centre."""
    ys, xs = torch.meshgrid(torch.arange(height) - height / 2, torch.arange(width) - width / 2, indexing="ij")
    (a, b), (c, d) = matrix
    return torch.stack((a * xs + b * ys - xs, c * xs + d * ys - ys))[None].float()


def test_flow_stretch_is_zero_for_rigid_motion_and_log_scale_for_a_zoom():
    angle = 0.3
    rotation = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    assert flow_stretch(_affine_flow(rotation) + 3.7).abs().max() < 1e-5  # rotation plus a pan
    zoom = flow_stretch(_affine_flow([[0.9, 0.0], [0.0, 0.9]]))  # magnified by 1/0.9 everywhere
    assert zoom.shape == (1, 1, 30, 40)
    assert torch.allclose(zoom, torch.full_like(zoom, -np.log(0.9)), atol=1e-5)
    sheared = flow_stretch(_affine_flow([[1.2, 0.0], [0.0, 1.0]]))  # stretched along x only
    assert torch.allclose(sheared, torch.full_like(sheared, np.log(1.2)), atol=1e-5)
    assert flow_stretch(torch.zeros(2, 2, 1, 5)).abs().max() == 0  # one row: no slope along y
    with pytest.raises(ValueError, match="flow"):
        flow_stretch(torch.zeros(1, 3, 8, 8))


def test_motion_stream_on_threads_gives_the_motions_of_calls_in_order():
    """MotionEstimator.stream computes pairs side by side; each motion is the one a call in
    order gives, including None for the first frame and after a size change."""
    base = texture(200, 300, blur=1.0)
    frames = [np.ascontiguousarray(base[4 * t:4 * t + 120, 3 * t:3 * t + 160]) for t in range(6)]
    frames.insert(4, cv2.resize(frames[3], (80, 60)))  # a size change: no motion to or from it
    serial = MotionEstimator("medium")
    expected = [serial(f) for f in frames]
    streamed = list(MotionEstimator("medium").stream(enumerate(frames), lambda p: p[1],
                                                          workers=3, ahead=2))
    assert [i for (i, _), _ in streamed] == list(range(len(frames)))
    assert [m is None for m in expected] == [m is None for _, m in streamed] == [True, False, False, False,
                                                                                True, True, False]
    for want, (_, got) in zip(expected, streamed):
        if want is not None:
            assert np.array_equal(want.flow, got.flow) and np.array_equal(want.valid, got.valid)
    # the window moves 3 px right and 4 px down a frame: frame t(x) = frame t-1(x + (3, 4))
    assert np.allclose(np.median(streamed[2][1].flow[20:-20, 20:-20], axis=(0, 1)), (3, 4), atol=0.5)
