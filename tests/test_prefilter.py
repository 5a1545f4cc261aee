"""Pre-filter: noise drops on a static scene, a moving edge stays put, outputs."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from tests._fixtures_masks import waves, write_folder
from vidstyle.cli import main
from vidstyle.io import Frame
from vidstyle.prefilter import temporal_bilateral_frames

H, W = 72, 96


pytestmark = pytest.mark.usefixtures("quiet")  # tests/conftest.py


def _frames(images):
    return [Frame(i, i * 50, Fraction(1, 1000), image) for i, image in enumerate(images)]


def test_noise_on_a_static_scene_drops_by_half():
    scene = waves(H, W, seed=4) * 0.8 + 20
    rng = np.random.default_rng(0)
    noisy = [np.clip(np.rint(scene + rng.normal(0, 5, scene.shape)), 0, 255).astype(np.uint8)
             for _ in range(16)]
    out = list(temporal_bilateral_frames(iter(_frames(noisy)), radius=15))
    assert [f.index for f in out] == list(range(16)) and [f.pts for f in out] == [i * 50 for i in range(16)]
    before = np.std([f.astype(float) - scene for f in noisy])
    after = np.std([f.rgb.astype(float) - scene for f in out])
    assert before > 4.5 and after <= 0.5 * before


def _edge_position(rgb: np.ndarray, low: float, high: float) -> float:
    """Sub-pixel x where the mean row profile crosses halfway between low and high."""
    profile = rgb.astype(float).mean(axis=(0, 2))
    mid = (low + high) / 2
    i = int(np.nonzero(profile > mid)[0][0])
    return i - 1 + (mid - profile[i - 1]) / (profile[i] - profile[i - 1]) + 0.5


def test_a_moving_edge_stays_within_one_pixel():
    xs = np.arange(W, dtype=np.float32)
    images, truth = [], []
    for t in range(14):
        edge = 30 + 1.3 * t
        ramp = np.clip(xs - edge + 0.5, 0, 1)  # exact coverage of a step at `edge`
        image = np.repeat((50 + 150 * ramp)[None, :, None], H, axis=0).repeat(3, axis=2)
        image = image + waves(H, W, seed=6, dx=1.3 * t) * 0.1 - 12  # texture moving with the edge
        images.append(np.clip(np.rint(image), 0, 255).astype(np.uint8))
        truth.append(edge)
    out = list(temporal_bilateral_frames(iter(_frames(images)), radius=6))
    for frame, edge, image in zip(out, truth, images):
        assert abs(_edge_position(frame.rgb, 50, 200) - _edge_position(image, 50, 200)) <= 1.0
        assert abs(_edge_position(frame.rgb, 50, 200) - edge) <= 1.0


def test_cli_prefilter_writes_a_frame_folder(tmp_path):
    scene = np.clip(waves(H, W, seed=1), 0, 255).astype(np.uint8)
    source = write_folder(tmp_path / "in", [scene] * 5)
    assert main(["prefilter", str(source), "-o", str(tmp_path / "out"), "--radius", "2", "-q"]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 5
    assert main(["prefilter", str(source), "-o", str(tmp_path / "x"), "--radius", "0", "-q"]) == 2


def test_cli_prefilter_honours_encoder_preset_and_no_audio(tmp_path, capsys):
    from tests._media import make_clip
    from vidstyle.io import probe

    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "out.mp4"
    assert main(["prefilter", str(clip), "-o", str(out), "--radius", "1", "--preset", "bogus", "-q"]) == 2
    assert "preset 'bogus'" in capsys.readouterr().err and not out.exists()
    assert main(["prefilter", str(clip), "-o", str(out), "--radius", "1", "--preset", "ultrafast",
                 "--no-audio", "-q"]) == 0
    assert probe(clip).audio and not probe(out).audio
