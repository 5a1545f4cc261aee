"""HUD detection: screen overlays that stay put while the scene moves under them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from ..flow import DisFlow, FlowPreset
from ..progress import progress, warn
from ._clip import clip_frames, clip_length
from ._ops import clean_mask


@dataclass(frozen=True)
class HudEvidence:
    """What :func:`detect_hud` measured, for reports and tuning.

    ``still_score`` and ``steady_score`` are (H, W) float32 fractions in [0, 1]:
    of the sampled pairs where the scene moved, how often the pixel kept its colour
    (and did not move or is textured); and of the sampled frames, how often the
    pixel matched its long-term median colour.
    """

    mask: np.ndarray
    still_score: np.ndarray
    steady_score: np.ndarray
    moving_pairs: int
    sampled_pairs: int


def detect_hud(source: str | Path, *, size: tuple[int, int] | None = None, samples: int = 40,
               color_tolerance: float = 10.0, flow_tolerance: float = 0.5,
               min_scene_motion: float = 1.0, min_score: float = 0.7, min_steady: float = 0.3,
               min_area: int | None = None, preset: FlowPreset | str = FlowPreset.FAST) -> np.ndarray:
    """Detect static screen overlays (timer, minimap, gauges) of a clip.

    A pixel is HUD when, over pairs of consecutive frames in which the scene moves
    (median flow at least ``min_scene_motion`` px), it keeps its colour and either
    has no flow of its own or is textured (a textured scene pixel could not stay
    unchanged while moving), and when over the whole clip it stays at its median
    colour. Enclosed holes up to 5% of the frame (flat HUD interiors, changing
    digits) are filled. A chase camera's own car also stays put on screen and may
    be partly detected.

    Args:
        source: video file or image folder.
        size: (width, height) to analyse at; the mask has this size.
        samples: frame pairs analysed, spread evenly over the clip.
        color_tolerance: largest per-channel change (0-255) counted as "same colour".
        flow_tolerance: largest flow (px) counted as "not moving".
        min_score: fraction of the moving pairs in which a HUD pixel must look still.
        min_steady: fraction of the sampled frames in which a HUD pixel must be near its
            median colour (low, because translucent HUD parts take colour from the scene).
        min_area: smallest HUD region in pixels (default 0.05% of the frame).

    Returns:
        (H, W) bool mask, True = HUD. Empty (with a warning) when the scene never
        moves, since a still scene cannot be told from an overlay.
    """
    return hud_evidence(source, size=size, samples=samples, color_tolerance=color_tolerance,
                        flow_tolerance=flow_tolerance, min_scene_motion=min_scene_motion,
                        min_score=min_score, min_steady=min_steady, min_area=min_area, preset=preset).mask


def hud_evidence(source: str | Path, *, size: tuple[int, int] | None = None, samples: int = 40,
                 color_tolerance: float = 10.0, flow_tolerance: float = 0.5,
                 min_scene_motion: float = 1.0, min_score: float = 0.7, min_steady: float = 0.3,
                 min_area: int | None = None, preset: FlowPreset | str = FlowPreset.FAST) -> HudEvidence:
    """:func:`detect_hud` with the per-pixel scores it decided from."""
    count = clip_length(source)
    if count < 2:
        raise_short(source)
    starts = set(np.unique(np.linspace(0, count - 2, min(samples, count - 1)).round().astype(int)).tolist())
    dis = DisFlow(preset)
    still = None
    moving = 0
    kept: list[np.ndarray] = []
    previous = None
    with progress(count, "hud") as bar:
        for position, frame in enumerate(clip_frames(source, size=size)):
            rgb = frame.rgb
            if position in starts:
                kept.append(rgb)
            if previous is not None:
                flow = dis(previous, rgb)
                magnitude = np.linalg.norm(flow, axis=2)
                if float(np.median(magnitude)) >= min_scene_motion:
                    moving += 1
                    same_colour = np.abs(rgb.astype(np.int16) - previous.astype(np.int16)).max(axis=2) \
                        <= color_tolerance
                    evidence = same_colour & ((magnitude <= flow_tolerance) | _textured(previous))
                    still = evidence.astype(np.float32) if still is None else still + evidence
            previous = rgb if position in starts else None
            bar.update(1)
    height, width = kept[0].shape[:2]
    steady = _steady_score(kept, color_tolerance)
    if moving == 0 or still is None:
        warn(f"{source}: the scene never moves in the sampled frames; cannot tell a HUD from still "
             "scenery, so no HUD was detected")
        empty = np.zeros((height, width), dtype=bool)
        return HudEvidence(empty, np.zeros_like(steady), steady, 0, len(starts))
    still /= moving
    raw = (still >= min_score) & (steady >= min_steady)
    area = max(16, int(0.0005 * height * width)) if min_area is None else min_area
    mask = clean_mask(raw, open_radius=1, close_radius=3, fill_holes=False, min_area=area)
    mask = _fill_small_holes(mask, int(0.05 * height * width))
    return HudEvidence(mask, still, steady, moving, len(starts))


def _fill_small_holes(mask: np.ndarray, max_area: int) -> np.ndarray:
    """Fill enclosed background regions up to ``max_area`` pixels (not a minimap's loop)."""
    holes = ndimage.binary_fill_holes(mask) & ~mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    small = np.zeros(count, dtype=bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] <= max_area
    return mask | small[labels]


def _textured(rgb: np.ndarray, threshold: float = 12.0) -> np.ndarray:
    """Pixels near a clear edge (Sobel magnitude of luma over ``threshold``)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 4.0
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 4.0
    edges = (np.hypot(gx, gy) >= threshold).astype(np.uint8)
    return cv2.dilate(edges, np.ones((3, 3), np.uint8)) > 0


def _steady_score(frames: list[np.ndarray], tolerance: float) -> np.ndarray:
    """Fraction of frames in which each pixel is within ``tolerance`` of its median colour."""
    stack = np.stack(frames).astype(np.int16)  # (N, H, W, 3), N <= samples
    median = np.median(stack, axis=0).astype(np.int16)
    near = np.abs(stack - median).max(axis=3) <= 2 * tolerance
    return near.mean(axis=0).astype(np.float32)


def raise_short(source: str | Path) -> None:
    from ..errors import InputError

    raise InputError("needs at least 2 frames to tell moving scenery from a static overlay", source)
