"""``vidstyle.shots.scan``: thumbnails in the colours the stream is tagged with, chunked measures
equal to one chunk; ``detect_cuts`` on fades between still scenes and cuts out of black."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.shots import scan
from vidstyle.shots import _scan

from ._media import make_clip, textured_frame

COLOUR = (200, 40, 90)


def flat_colour(index: int, width: int, height: int) -> np.ndarray:
    return np.broadcast_to(np.array(COLOUR, np.uint8), (height, width, 3)).copy()


@pytest.mark.parametrize("full_range, colorspace, size", [(False, 1, (64, 48)), (True, 1, (64, 48)),
                                                        (False, 5, (64, 48)), (False, 2, (64, 48)),
                                                        (False, 1, (63, 47))])
def test_thumbnails_are_in_the_source_colours(tmp_path, quiet, full_range, colorspace, size):
    # colorspace 2 is untagged: under 720 lines, so BT.601 is assumed, as make_clip encodes it;
    # an odd size is encoded as yuv444p.
    clip = make_clip(tmp_path / "flat.mp4", frames=3, size=size, full_range=full_range,
                     colorspace=colorspace, make_frame=flat_colour, audio=False)
    measured = scan(clip)
    image = measured.descriptors[0][:_scan.DESCRIPTOR_SIZE[0] * _scan.DESCRIPTOR_SIZE[1] * 3].reshape(-1, 3) * 255
    assert np.abs(image - COLOUR).max() <= 3  # wrong range or matrix: 10-30 levels off
    luma = 0.299 * COLOUR[0] + 0.587 * COLOUR[1] + 0.114 * COLOUR[2]
    assert measured.mean[0] == pytest.approx(luma, abs=3) and measured.std[0] < 1


def test_chunked_measures_equal_a_single_chunk(tmp_path, quiet, monkeypatch):
    clip = make_clip(tmp_path / "moving.mp4", frames=23, make_frame=textured_frame, audio=False)
    whole = scan(clip)
    monkeypatch.setattr(_scan, "_CHUNK", 5)  # chunk boundaries at 5, 10, 15, 20 and a short tail
    chunked = scan(clip)
    assert whole.frames == chunked.frames == 23 and whole.diff[0] == 0 and whole.diff[1:].min() > 0
    for name in ("diff", "hist", "mean", "std", "descriptors"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name


def static_fade(index: int, width: int, height: int) -> np.ndarray:
    """A bright still scene fades out over 4 frames (12-15), 4 black frames, a plain grey loading
    screen (20-27), then a second still scene. Each fade frame differs from the last by about 37
    levels, far more than the still frames around them (and above the cut test's floor of 20)."""
    if index < 16:
        scene = np.clip(textured_frame(0, width, height).astype(np.int16) + 70, 0, 255)
        return (scene * min(1.0, (16 - index) / 5)).astype(np.uint8)
    if index < 28:
        return np.full((height, width, 3), 0 if index < 20 else 128, np.uint8)
    return 255 - textured_frame(5, width, height)


def test_a_fade_between_still_scenes_is_one_boundary(tmp_path, quiet):
    from vidstyle.shots import Transition, detect_cuts

    clip = make_clip(tmp_path / "fade.mp4", frames=40, size=(96, 64), make_frame=static_fade, audio=False)
    measured = scan(clip)
    # The fade's frames differ from the one before by about the still frames' noise once scaled
    # to its brightness (unscaled: 37, which made its first frame a cut), and the switch from
    # black to the flat grey screen is no cut: the shot starts where the picture stops being flat.
    assert measured.diff[12:16].max() < 3
    assert detect_cuts(measured) == [(28, Transition.FADE)]


def test_a_cut_out_of_black_is_one_boundary(tmp_path, quiet):
    from vidstyle.shots import Transition, detect_cuts

    def black_then_picture(index: int, width: int, height: int) -> np.ndarray:
        return textured_frame(index, width, height) if index >= 10 else np.zeros((height, width, 3), np.uint8)

    clip = make_clip(tmp_path / "black.mp4", frames=30, size=(96, 64), make_frame=black_then_picture, audio=False)
    # Frame 10 is both a fade's end and, by its difference, a cut: once (this raised TypeError).
    assert detect_cuts(scan(clip)) == [(10, Transition.FADE)]
