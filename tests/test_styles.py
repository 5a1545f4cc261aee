"""Reference stylizers and the paint command."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.cli import main
from vidstyle.errors import UsageError
from vidstyle.io import read_image_rgb
from vidstyle.styles import PICO8_PALETTE, ReferenceStyle, stylize, toon_ink

from ._fixtures_train import moving_scene, write_frames


@pytest.mark.parametrize("style", list(ReferenceStyle))
def test_styles_are_deterministic_and_change_the_frame(style):
    frame = moving_scene(1, 61, 47)[0]
    a, b = stylize(frame, style), stylize(frame.copy(), style)
    assert a.shape == frame.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - frame).mean() > 5


def test_pixel_art_uses_only_the_palette_in_blocks():
    out = stylize(moving_scene(1, 40, 32)[0], "pixel-art")
    colours = {tuple(c) for c in out.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in PICO8_PALETTE}
    assert np.array_equal(out[0:4, 0:4], np.broadcast_to(out[0, 0], (4, 4, 3)))


def test_toon_inks_its_ink_pixels_dark():
    frame = np.full((48, 64, 3), 200, np.uint8)
    frame[:, 32:] = 60  # one vertical edge
    ink = toon_ink(frame)
    assert ink.any() and not ink[:, :24].any() and not ink[:, 40:].any()
    luma = stylize(frame, "toon").astype(np.float32).mean(axis=2)
    assert luma[ink].mean() < 0.5 * luma[:, :24].mean()


def test_toon_ink_thresholds_separate_the_strong_edges_from_what_hysteresis_links_to_them():
    """An edge whose step fades along it: all of it is inked at 60 / 140 (the weak half linked to
    the strong one), only its strong half at 140 / 140; the same weak step alone is not inked."""
    step = np.clip(80 - 4 * (np.arange(64) - 24), 20, 80).astype(np.uint8)  # 80 above row 24, 20 from row 39
    frame = np.full((64, 64, 3), 100, np.uint8)
    frame[:, 32:] += step[:, None, None]
    frame[:, 56:] = 100
    frame[40:, 56:] = 120  # the weak step on its own
    ink, strong = toon_ink(frame), toon_ink(frame, low=140, high=140)
    assert ink[8:24, 30:34].any(axis=1).all() and ink[40:56, 30:34].any(axis=1).all()
    assert strong[8:24, 30:34].any(axis=1).all() and not strong[40:, 30:34].any()
    assert not ink[44:60, 54:58].any() and np.all(strong <= ink)


def test_unknown_style_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown style"):
        stylize(np.zeros((8, 8, 3), np.uint8), "oil")


def test_paint_command_writes_keyframes_by_index(tmp_path, capsys):
    frames = moving_scene(6, 32, 24)
    source = write_frames(tmp_path / "in", frames, digits=3)
    assert main(["paint", str(source), "-o", str(tmp_path / "keys"), "--frames", "1,4", "-q"]) == 0
    files = sorted(p.name for p in (tmp_path / "keys").glob("*.png"))
    assert files == ["000001.png", "000004.png"]  # frame_name: six digits, as every writer names frames
    assert np.array_equal(read_image_rgb(tmp_path / "keys" / "000004.png"), stylize(frames[4], "toon"))
    assert main(["paint", str(source), "-o", str(tmp_path / "keys"), "--frames", "9", "-q"]) == 2
    assert main(["paint", str(source), "-o", str(tmp_path / "k2"), "--frames", "9", "-q"]) == 2
    assert "no frame 9" in capsys.readouterr().err
    code = main(["paint", str(source), "-o", str(tmp_path / "k3"), "--frames", "1", "--crf", "20", "--start", "0",
                 "-q"])
    assert code == 2 and "--start, --crf only apply to a whole-clip paint" in capsys.readouterr().err
    assert not (tmp_path / "k3").exists()
