"""Small generated clips for the masks, guides, pre-filter and Texler tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def texture(height: int, width: int, seed: int = 0, blur: float = 2.0) -> np.ndarray:
    """A smooth random colour texture (H, W, 3) uint8 with strong gradients everywhere."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, size=(height, width, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), blur)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min() + 1e-6) * 255
    return smooth.astype(np.uint8)


def shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Translate by (dx, dy) with bilinear interpolation and reflected borders."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def write_folder(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, rgb in enumerate(frames):
        cv2.imwrite(str(folder / f"{index:06d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return folder


def hud_clip(count: int = 24, size: tuple[int, int] = (160, 120)) -> tuple[list[np.ndarray], np.ndarray]:
    """A camera panning over a textured world with a static HUD: (frames, true HUD mask)."""
    width, height = size
    world = texture(height + 80, width + 200, seed=1)
    hud = np.zeros((height, width), dtype=bool)
    hud[6:30, 8:60] = True       # a timer box with "digits"
    hud[height - 34:height - 6, width - 44:width - 6] = True  # a minimap
    panel = texture(height, width, seed=7, blur=1.0)
    frames = []
    for t in range(count):
        x0, y0 = 5 + int(round(3.3 * t)), 20 + int(round(8 * np.sin(t / 5)))
        rgb = world[y0:y0 + height, x0:x0 + width].copy()
        rgb[hud] = panel[hud] // 2 + 40
        rgb[10:26, 12:56] = (230, 230, 40)  # flat bright interior
        frames.append(rgb)
    return frames, hud


def waves(height: int, width: int, seed: int, dx: float = 0.0, dy: float = 0.0,
          waves_per_channel: int = 10) -> np.ndarray:
    """A sum of random plane waves sampled at (x - dx, y - dy): a texture that
    translates exactly by sub-pixel amounts (no resampling blur). (H, W, 3) float32 0-255."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs, ys = xs - dx, ys - dy
    out = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        for _ in range(waves_per_channel):
            wavelength = rng.uniform(7.0, 28.0)
            angle = rng.uniform(0, np.pi)
            phase = rng.uniform(0, 2 * np.pi)
            k = 2 * np.pi / wavelength
            out[..., channel] += np.cos(k * (np.cos(angle) * xs + np.sin(angle) * ys) + phase)
    out = out / (2.0 * np.sqrt(waves_per_channel / 2.0))
    return np.clip(127.5 + 110.0 * out, 0, 255)


def box_coverage(height: int, width: int, x: float, y: float, w: int, h: int) -> np.ndarray:
    """Anti-aliased coverage (0-1) of the box [x, x + w) x [y, y + h) per pixel."""
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)
    cover_x = np.clip(np.minimum(xs + 1, x + w) - np.maximum(xs, x), 0, 1)
    cover_y = np.clip(np.minimum(ys + 1, y + h) - np.maximum(ys, y), 0, 1)
    return cover_y[:, None] * cover_x[None, :]


def moving_object_clip(count: int = 31, size: tuple[int, int] = (160, 120),
                       speed: tuple[float, float] = (1.5, 0.5),
                       box: tuple[int, int, int, int] = (30, 40, 48, 36)
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A textured object translating over a static textured background: (frames, true masks)."""
    width, height = size
    background = waves(height, width, seed=2) * 0.7
    frames, masks = [], []
    for t in range(count):
        x, y = box[0] + speed[0] * t, box[1] + speed[1] * t
        alpha = box_coverage(height, width, x, y, box[2], box[3])
        x0, y0 = max(0, int(x) - 1), max(0, int(y) - 1)
        x1, y1 = min(width, int(x) + box[2] + 2), min(height, int(y) + box[3] + 2)
        sprite = np.zeros((height, width, 3), np.float32)  # evaluated on the box only: fast
        sprite[y0:y1, x0:x1] = waves(y1 - y0, x1 - x0, seed=3, dx=x - x0, dy=y - y0) * 0.5 + 120
        rgb = background * (1 - alpha[..., None]) + sprite * alpha[..., None]
        frames.append(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
        masks.append(alpha >= 0.5)
    return frames, masks
