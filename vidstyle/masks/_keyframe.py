"""Masks from painted keyframes and from colour keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from .._shapes import check_shape
from ..errors import UsageError
from ._ops import as_bool, clean_mask


def mask_from_keyframe(frame_rgb: np.ndarray, painted: np.ndarray, *, threshold: int = 24,
                       min_area: int = 16) -> np.ndarray:
    """The region an artist changed on a keyframe, as an (H, W) bool mask.

    Args:
        frame_rgb: (H, W, 3) uint8 original frame.
        painted: (H, W, 3) RGB or (H, W, 4) RGBA uint8 painted frame. When its alpha
            channel is not fully opaque, the alpha (>= MASK_THRESHOLD) is the mask.
        threshold: smallest per-channel change (0-255) that counts as painted, after a 3x3
            median that hides compression noise.
        min_area: painted regions smaller than this many pixels are dropped as specks.

    Raises:
        ValueError: when the images differ in size (callers turn it into an InputError).
    """
    check_shape(frame_rgb, "H, W, 3", "frame")
    check_shape(painted, "H, W, 3|4", "painted image")
    if painted.shape[:2] != frame_rgb.shape[:2]:
        raise ValueError(f"painted image is {painted.shape[1]}x{painted.shape[0]} but the frame is "
                         f"{frame_rgb.shape[1]}x{frame_rgb.shape[0]}")
    if painted.shape[2] == 4 and painted[..., 3].min() < 255:
        return clean_mask(as_bool(painted[..., 3]), open_radius=0, close_radius=0, fill_holes=False)
    difference = np.abs(painted[..., :3].astype(np.int16) - frame_rgb.astype(np.int16)).max(axis=2)
    # A median hides isolated compression noise without spreading the painted edge.
    difference = cv2.medianBlur(difference.astype(np.uint8), 3)
    return clean_mask(difference >= threshold, open_radius=1, close_radius=3, min_area=min_area)


@dataclass(frozen=True)
class HsvRange:
    """An HSV box: hue in degrees (0-360, wraps when ``hue_min > hue_max``),
    saturation and value in percent (0-100)."""

    hue_min: float
    hue_max: float
    sat_min: float = 0.0
    sat_max: float = 100.0
    val_min: float = 0.0
    val_max: float = 100.0

    @classmethod
    def parse(cls, text: str) -> "HsvRange":
        """Parse ``"H1-H2[,S1-S2[,V1-V2]]"``, e.g. ``"90-150,40-100,20-100"`` (green)."""
        parts = [p.strip() for p in text.split(",")]
        ranges: list[tuple[float, float]] = []
        for part in parts:
            match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)", part)
            if not match:
                ranges = []
                break
            ranges.append((float(match[1]), float(match[2])))
        if not 1 <= len(ranges) <= 3 or len(ranges) != len(parts):
            raise UsageError(f"bad HSV range {text!r}: expected H1-H2[,S1-S2[,V1-V2]], hue in degrees "
                             "and saturation/value in percent, e.g. 90-150,40-100,20-100")
        while len(ranges) < 3:
            ranges.append((0.0, 100.0))
        (h0, h1), (s0, s1), (v0, v1) = ranges
        if h0 > 360 or h1 > 360 or max(s0, s1, v0, v1) > 100 or s0 > s1 or v0 > v1:
            raise UsageError(f"bad HSV range {text!r}: hue is 0-360, saturation and value 0-100 "
                             "(low-high)")
        return cls(h0, h1, s0, s1, v0, v1)


def color_key_mask(rgb: np.ndarray, hsv_range: HsvRange | str) -> np.ndarray:
    """(H, W) bool: pixels of an (H, W, 3) uint8 RGB frame inside ``hsv_range``."""
    if isinstance(hsv_range, str):
        hsv_range = HsvRange.parse(hsv_range)
    check_shape(rgb, "H, W, 3", "frame")
    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)  # H 0-360, S, V 0-1
    hue, sat, val = hsv[..., 0], hsv[..., 1] * 100.0, hsv[..., 2] * 100.0
    r = hsv_range
    if r.hue_min <= r.hue_max:
        in_hue = (hue >= r.hue_min) & (hue <= r.hue_max)
    else:  # wraps through red
        in_hue = (hue >= r.hue_min) | (hue <= r.hue_max)
    return in_hue & (sat >= r.sat_min) & (sat <= r.sat_max) & (val >= r.val_min) & (val <= r.val_max)
