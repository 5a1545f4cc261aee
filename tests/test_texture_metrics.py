"""Texture fidelity measures on synthetic images with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidstyle.metrics import detail_ratio, gradient_energy, level_distances, texture_distance, texture_signature


@pytest.fixture(scope="module")
def strokes() -> np.ndarray:
    """A painterly texture: random oriented dark strokes over coloured noise blobs."""
    rng = np.random.default_rng(3)
    image = cv2.resize(rng.integers(60, 200, (12, 16, 3), dtype=np.uint8), (160, 120),
                       interpolation=cv2.INTER_CUBIC)
    for _ in range(120):
        x, y = rng.integers(0, 160), rng.integers(0, 120)
        dx, dy = rng.integers(-12, 13, size=2)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.line(image, (int(x), int(y)), (int(x + dx), int(y + dy)), colour, int(rng.integers(1, 3)))
    return image


def test_identical_images_give_one_and_zero(strokes: np.ndarray) -> None:
    assert detail_ratio(strokes, strokes) == pytest.approx(1.0)
    assert texture_distance(strokes, strokes) == 0.0


def test_blur_loses_detail_and_texture_a_shift_does_not(strokes: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(strokes, (0, 0), 1.5)
    shifted = np.roll(strokes, (7, 11), axis=(0, 1))
    assert detail_ratio(blurred, strokes) < 0.7
    assert detail_ratio(shifted, strokes) == pytest.approx(1.0, abs=0.05)
    assert texture_distance(blurred, strokes) > 3 * texture_distance(shifted, strokes)


def test_colour_change_counts_as_texture_distance(strokes: np.ndarray) -> None:
    tinted = np.clip(strokes.astype(np.int16) + (40, -20, 0), 0, 255).astype(np.uint8)
    assert texture_distance(tinted, strokes) > texture_distance(np.roll(strokes, 9, axis=1), strokes)


def test_level_distances_tell_strokes_from_colours(strokes: np.ndarray) -> None:
    """A tint moves the coarse level most, a blur the finest band; their mean is the distance."""
    def levels(image: np.ndarray) -> list[float]:
        return level_distances(texture_signature(image), texture_signature(strokes))

    tinted = levels(np.clip(strokes.astype(np.int16) + (40, -20, 0), 0, 255).astype(np.uint8))
    blurred = levels(cv2.GaussianBlur(strokes, (0, 0), 1.5))
    assert len(tinted) == len(blurred) == 4
    assert tinted[-1] == max(tinted) and tinted[-1] > 5 * max(tinted[:-1])
    assert blurred[0] == max(blurred) and blurred[0] > 3 * blurred[-1]
    assert np.mean(blurred) == pytest.approx(texture_distance(cv2.GaussianBlur(strokes, (0, 0), 1.5), strokes))


def test_float_and_uint8_agree_and_sizes_may_differ(strokes: np.ndarray) -> None:
    as_float = strokes.astype(np.float32) / 255
    assert gradient_energy(as_float) == pytest.approx(gradient_energy(strokes), rel=1e-4)
    assert texture_distance(as_float, strokes) == pytest.approx(0.0, abs=1e-3)
    crop = strokes[10:100, 20:150]
    assert texture_distance(crop, strokes) < texture_distance(cv2.GaussianBlur(strokes, (0, 0), 1.5), strokes)


def test_bad_shapes_are_refused(strokes: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detail_ratio(strokes[..., 0], strokes)
    with pytest.raises(ValueError, match="at least"):
        texture_distance(strokes[:4, :4], strokes)
    assert np.isnan(detail_ratio(strokes, np.full_like(strokes, 128)))
