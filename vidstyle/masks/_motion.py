"""Moving objects over a static camera, by background subtraction."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..io import clip_length, read_frames
from ..progress import warn
from ._ops import clean_mask


def estimate_background(source: str | Path, *, size: tuple[int, int] | None = None,
                        samples: int = 50) -> np.ndarray:
    """The per-pixel median of ``samples`` frames spread over the clip: (H, W, 3) uint8.

    Objects that move are somewhere else in most samples, so the median is the
    empty scene (for a camera that does not move).
    """
    count = clip_length(source)
    picks = set(np.unique(np.linspace(0, count - 1, min(samples, count)).round().astype(int)).tolist())
    stack = [frame.rgb for position, frame in enumerate(read_frames(source, size=size))
             if position in picks]
    return np.median(np.stack(stack), axis=0).astype(np.uint8)


def motion_masks(source: str | Path, *, size: tuple[int, int] | None = None, threshold: int = 30,
                 samples: int = 50, min_area: int | None = None,
                 background: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, (H, W) bool mask) of what moves over a static background.

    Args:
        source: video or image folder filmed by a camera that does not move.
        threshold: smallest per-channel difference (0-255) from the background, after
            a light blur, that counts as foreground.
        samples: frames used for the median background.
        min_area: smallest object in pixels (default 0.05% of the frame).
        background: a known empty-scene image instead of the estimated median.
    """
    if background is None:
        background = estimate_background(source, size=size, samples=samples)
    reference = cv2.GaussianBlur(background, (5, 5), 0).astype(np.int16)
    height, width = background.shape[:2]
    area = max(9, int(0.0005 * height * width)) if min_area is None else min_area
    coverage: list[float] = []
    for frame in read_frames(source, size=size):
        if frame.rgb.shape != background.shape:
            raise ValueError(f"background is {background.shape}, frame is {frame.rgb.shape}")
        blurred = cv2.GaussianBlur(frame.rgb, (5, 5), 0).astype(np.int16)
        foreground = np.abs(blurred - reference).max(axis=2) >= threshold
        mask = clean_mask(foreground, open_radius=1, close_radius=2, fill_holes=True, min_area=area)
        coverage.append(float(mask.mean()))
        yield frame.index, mask
    if coverage and float(np.median(coverage)) > 0.5:
        warn(f"{source}: more than half of most frames differs from the background; motion=True needs a "
             "camera that does not move", params=("motion",))
