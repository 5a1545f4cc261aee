"""Tiny generated clips and keyframes for the training tests (no /work/shared)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def moving_scene(frames: int = 8, width: int = 48, height: int = 40, seed: int = 0) -> np.ndarray:
    """(N, H, W, 3) uint8: a smooth coloured texture with shapes panning 1 px per frame."""
    rng = np.random.default_rng(seed)
    big_w, big_h = width + frames + 8, height + 8
    base = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (big_w, big_h),
                      interpolation=cv2.INTER_CUBIC)
    for _ in range(6):
        centre = (int(rng.integers(0, big_w)), int(rng.integers(0, big_h)))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(base, centre, int(rng.integers(3, 8)), color, -1)
    return np.stack([base[4:4 + height, 4 + t:4 + t + width] for t in range(frames)])


def simple_style(rgb: np.ndarray) -> np.ndarray:
    """An easy local style to learn: inverted colours, channels swapped."""
    return np.ascontiguousarray(255 - rgb[..., ::-1])


def write_frames(folder: Path, frames: np.ndarray, digits: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, rgb in enumerate(frames):
        cv2.imwrite(str(folder / f"{index:0{digits}d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return folder


def write_png(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if rgb.ndim == 2:
        cv2.imwrite(str(path), rgb)
    else:
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))
