"""Mask files and the operations every mode shares: combine, erode, dilate, feather, clean.

A mask is an (H, W) uint8 array, 255 = use (white) and 0 = ignore; functions also
accept bool arrays. Soft masks (after :func:`feather`) use the values in between.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
from scipy import ndimage

from .._shapes import check_shape
from ..errors import InputError, UsageError
from ..io import numbered_images, write_image

MASK_THRESHOLD = 128  # a uint8 mask is "on" (use this pixel) from this value up: at least half white


class MaskOp(enum.Enum):
    """How :func:`combine_masks` merges several masks."""

    UNION = "union"
    INTERSECTION = "intersection"
    SUBTRACT = "subtract"  # the first minus all the others

    @classmethod
    def parse(cls, text: "str | MaskOp") -> "MaskOp":
        if isinstance(text, MaskOp):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UsageError(f"unknown mask combination {text!r} (union, intersection, subtract)") from None


def as_bool(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: True where ``mask`` is at least half on (>= :data:`MASK_THRESHOLD`, or True)."""
    check_shape(mask, "H, W", "a mask")
    return mask if mask.dtype == bool else mask >= MASK_THRESHOLD


def as_uint8(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 with 255 = use; bool masks become 0/255, uint8 pass through."""
    check_shape(mask, "H, W", "a mask")
    if mask.dtype == bool:
        return mask.astype(np.uint8) * 255
    if mask.dtype != np.uint8:
        return np.clip(np.rint(mask), 0, 255).astype(np.uint8)
    return mask


def read_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask PNG as (H, W) uint8 (255 = use).

    Colour images are reduced to their luma; an image with an alpha channel that is
    not fully opaque uses the alpha. ``size`` (width, height) must match when given.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such mask file", path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("not a readable image", path)
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 4 and image[..., 3].min() < 255:
        mask = image[..., 3]
    elif image.ndim == 3:
        mask = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    else:
        mask = image
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        raise InputError(f"mask is {mask.shape[1]}x{mask.shape[0]} but the frames are "
                         f"{size[0]}x{size[1]}", path)
    return np.ascontiguousarray(mask)


def write_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write a mask as an 8-bit greyscale PNG (bool becomes 0/255)."""
    write_image(path, as_uint8(mask))


def read_mask_folder(folder: str | Path, size: tuple[int, int] | None = None) -> dict[int, np.ndarray]:
    """All masks of a folder keyed by frame index (names as :func:`vidstyle.io.numbered_images` reads them)."""
    return {index: read_mask(file, size) for index, file in numbered_images(folder, what="mask").items()}


def combine_masks(masks: Iterable[np.ndarray], op: MaskOp | str = MaskOp.UNION) -> np.ndarray:
    """Merge masks of one size into a bool mask by ``op`` (subtract: first minus the rest)."""
    op = MaskOp.parse(op)
    items = [as_bool(m) for m in masks]
    if not items:
        raise ValueError("combine_masks needs at least one mask")
    shapes = {m.shape for m in items}
    if len(shapes) > 1:
        raise ValueError(f"masks differ in size: {sorted(shapes)}")
    result = items[0].copy()
    for other in items[1:]:
        if op is MaskOp.UNION:
            result |= other
        elif op is MaskOp.INTERSECTION:
            result &= other
        else:
            result &= ~other
    return result


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def erode_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrink the white region by ``radius`` pixels (disc element); uint8 out."""
    if radius <= 0:
        return as_uint8(mask)
    return cv2.erode(as_uint8(mask), _disc(radius), borderType=cv2.BORDER_REPLICATE)


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow the white region by ``radius`` pixels (disc element); uint8 out."""
    if radius <= 0:
        return as_uint8(mask)
    return cv2.dilate(as_uint8(mask), _disc(radius), borderType=cv2.BORDER_REPLICATE)


def feather_mask(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften the edge over about ``radius`` pixels (Gaussian, sigma = radius / 2); uint8 out."""
    if radius <= 0:
        return as_uint8(mask)
    blurred = cv2.GaussianBlur(as_uint8(mask).astype(np.float32), (0, 0), sigmaX=radius / 2.0,
                               borderType=cv2.BORDER_REPLICATE)
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


def clean_mask(mask: np.ndarray, *, open_radius: int = 1, close_radius: int = 2,
               fill_holes: bool = True, min_area: int = 0) -> np.ndarray:
    """Remove specks (opening), bridge small gaps (closing), fill enclosed holes and
    drop connected regions smaller than ``min_area`` pixels. Bool out."""
    result = as_uint8(mask)
    if open_radius > 0:
        result = cv2.morphologyEx(result, cv2.MORPH_OPEN, _disc(open_radius))
    if close_radius > 0:
        # Pad so that closing does not glue regions to the frame border.
        pad = close_radius + 1
        padded = cv2.copyMakeBorder(result, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        result = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disc(close_radius))[pad:-pad, pad:-pad]
    binary = as_bool(result)
    if fill_holes:
        binary = ndimage.binary_fill_holes(binary)
    if min_area > 0:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
        keep = np.zeros(count, dtype=bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
        binary = keep[labels]
    return binary


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    a, b = as_bool(a), as_bool(b)
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)

