"""Small generated fixtures for the flow and metrics tests (no files outside the repo)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from skimage import data

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hacienda_320x240.mp4"


def texture(height: int = 192, width: int = 256, blur: float = 1.0) -> np.ndarray:
    """A real photographic texture (skimage's astronaut), (H, W, 3) uint8."""
    image = data.astronaut()[40:40 + 2 * height, 100:100 + 2 * width]
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(image, (0, 0), blur) if blur else image


def translated_sequence(frames: int = 5, step: int = 2, height: int = 96, width: int = 128) -> list[np.ndarray]:
    """Frames panning right over a bigger texture by ``step`` px a frame: frame t(x) = frame t+1(x - step)."""
    big = texture(height + 8, width + step * frames + 8)
    return [np.ascontiguousarray(big[4:4 + height, 4 + step * t:4 + step * t + width]) for t in range(frames)]


def write_video(path: Path, frames: list[np.ndarray], fps: int = 20) -> Path:
    from vidstyle.io import VideoWriter

    height, width = frames[0].shape[:2]
    with VideoWriter(path, width=width, height=height, time_base=Fraction(1, fps), rate=fps, crf=0,
                     preset="ultrafast") as writer:
        for index, frame in enumerate(frames):
            writer.write(frame, pts=index)
    return path
