"""Deterministic painterly filters that stand in for an artist.

Each filter maps one (H, W, 3) uint8 RGB frame to a stylized frame of the same
size and depends on nothing but that frame (no randomness, no state), so it can
paint a keyframe for training and give the ground truth for every other frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._shapes import check_shape

# PICO-8's 16-colour palette: a well-known, fixed pixel-art palette.
PICO8_PALETTE = np.array([
    (0, 0, 0), (29, 43, 83), (126, 37, 83), (0, 135, 81), (171, 82, 54), (95, 87, 79),
    (194, 195, 199), (255, 241, 232), (255, 0, 77), (255, 163, 0), (255, 236, 39), (0, 228, 54),
    (41, 173, 255), (131, 118, 156), (255, 119, 168), (255, 204, 170)], dtype=np.uint8)


def _check_rgb(rgb: np.ndarray) -> None:
    check_shape(rgb, "H, W, 3", "an RGB frame", dtype=np.uint8)


def toon_ink(rgb: np.ndarray, *, low: float = 60.0, high: float = 140.0) -> np.ndarray:
    """(H, W) bool: the pixels :func:`toon` inks, the Canny edges (hysteresis thresholds ``low`` /
    ``high``) of the 5x5 median-filtered luma of (H, W, 3) uint8 ``rgb``. Benchmarks score ink
    lines on them; ``low=high`` gives the strong edges alone, without the weaker stretches that
    hysteresis links to them."""
    _check_rgb(rgb)
    gray = cv2.cvtColor(cv2.medianBlur(rgb, 5), cv2.COLOR_RGB2GRAY)
    return cv2.Canny(gray, low, high) > 0


def toon(rgb: np.ndarray, *, levels: int = 5, edge_strength: float = 0.85) -> np.ndarray:
    """Cel shading: edge-preserving smoothing, posterised brightness, dark ink lines.

    Brightness (HSV value) is quantised to ``levels`` bands while hue and
    saturation are kept and boosted; edges of the smoothed luma get dark lines.
    """
    _check_rgb(rgb)
    smooth = cv2.bilateralFilter(rgb, 7, 50, 7)
    smooth = cv2.bilateralFilter(smooth, 7, 50, 7)
    hsv = cv2.cvtColor(smooth, cv2.COLOR_RGB2HSV).astype(np.float32)
    step = 255.0 / levels
    hsv[..., 2] = np.clip((np.floor(hsv[..., 2] / step) + 0.5) * step * 1.05, 0, 255)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.3, 0, 255)
    flat = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    edges = cv2.GaussianBlur(toon_ink(rgb).astype(np.float32), (3, 3), 0.7)
    ink = 1.0 - edge_strength * np.clip(edges * 1.6, 0, 1)
    return np.clip(flat * ink[..., None], 0, 255).astype(np.uint8)


def pixel_art(rgb: np.ndarray, *, block: int = 4, palette: np.ndarray = PICO8_PALETTE) -> np.ndarray:
    """Chunky pixels in a fixed palette: block averages snapped to the nearest
    palette colour (RGB distance), shown as ``block``-sized squares."""
    _check_rgb(rgb)
    height, width = rgb.shape[:2]
    small_size = (max(1, -(-width // block)), max(1, -(-height // block)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA).astype(np.float32)
    distance = ((small[..., None, :] - palette.astype(np.float32)) ** 2).sum(axis=-1)
    snapped = palette[distance.argmin(axis=-1)]
    big = cv2.resize(snapped, (small_size[0] * block, small_size[1] * block),
                     interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(big[:height, :width])


def _paper_texture(height: int, width: int) -> np.ndarray:
    """A fixed grain pattern in [0.88, 1.0] (seeded, so every frame gets the same paper)."""
    noise = np.random.default_rng(1234).random((height, width), dtype=np.float32)
    grain = cv2.GaussianBlur(noise, (0, 0), 1.2)
    fibres = cv2.GaussianBlur(noise, (0, 0), 6.0)
    texture = 0.6 * (grain - grain.mean()) / (grain.std() + 1e-6) + \
        0.4 * (fibres - fibres.mean()) / (fibres.std() + 1e-6)
    return (0.94 + 0.03 * np.clip(texture, -2, 2)).astype(np.float32)


def watercolor(rgb: np.ndarray, *, wash: float = 0.45) -> np.ndarray:
    """Watercolour-like: flattened colour washes, darkened pigment at region
    borders (edge darkening), lightened overall, on a fixed paper grain."""
    _check_rgb(rgb)
    height, width = rgb.shape[:2]
    flat = cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=30, sigma_r=wash)
    flat = cv2.medianBlur(flat, 5).astype(np.float32) / 255.0
    # Pigment pools at the borders of washes: darken where the wash changes.
    gray = cv2.cvtColor((flat * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    gradient = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    pooling = 1.0 - 0.35 * np.clip(cv2.GaussianBlur(gradient, (0, 0), 1.0) * 1.5, 0, 1)
    # Transparent pigment on white paper: pull colours towards white.
    painted = 1.0 - (1.0 - flat) * 0.85
    out = painted * pooling[..., None] * _paper_texture(height, width)[..., None]
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
