"""``vidstyle.shots.scan``: thumbnails in the colours the stream is tagged with, and the chunked
measures equal to measuring frame by frame."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.shots import scan
from vidstyle.shots import _scan

from ._media import make_clip, textured_frame

COLOUR = (200, 40, 90)


def flat_colour(index: int, width: int, height: int) -> np.ndarray:
    return np.broadcast_to(np.array(COLOUR, np.uint8), (height, width, 3)).copy()


@pytest.mark.parametrize("full_range, colorspace", [(False, 1), (True, 1), (False, 5), (False, 2)])
def test_thumbnails_are_in_the_source_colours(tmp_path, quiet, full_range, colorspace):
    # colorspace 2 is untagged: 64 lines, so BT.601 is assumed, as make_clip encodes it.
    clip = make_clip(tmp_path / "flat.mp4", frames=3, size=(64, 48), full_range=full_range,
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
