"""Per-pair flicker measures: Lai et al.'s warping error (numpy and torch), static-region
flicker and flow difference."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .._shapes import check_shape
from ..flow import warp, warp_numpy

# BT.709 luma weights (vidstyle decodes to BT.709-interpreted RGB).
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
STILL_MOTION_PX = 0.5   # |F| at or below this counts as not moving
STILL_LUMA_LEVELS = 3.0  # source luma change (0-255) at or below this counts as unchanged


def luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB -> (H, W) float32 BT.709 luma in 0-255 levels (uint8 or [0, 1] float in)."""
    scale = 1.0 if image.dtype == np.uint8 else 255.0
    weights = (LUMA_WEIGHTS * np.float32(scale))[None, :]
    return cv2.transform(image.astype(np.float32, copy=False), weights)


def warping_error(frame: np.ndarray, next_frame: np.ndarray, forward: np.ndarray,
                  mask: np.ndarray) -> float:
    """Lai et al.'s warping error of one pair, RGB in [0, 1].

    e_t = sum_{x,c} M(x) (O_{t+1}(x + F(x), c) - O_t(x, c))^2 / (3 sum_x M(x)),
    with bilinear, border-clamped warping. This is the per-channel mean; the
    per-pixel form some papers quote is 3x larger.

    Args:
        frame: O_t, (H, W, 3) uint8 or float in [0, 1].
        next_frame: O_{t+1}, same shape.
        forward: (H, W, 2) flow(t -> t+1), computed on the *source* frames.
        mask: (H, W) validity mask M_t (bool or 0/1).

    Returns:
        e_t, or NaN when the mask is empty (no pixel can be compared).
    """
    sizes = check_shape(frame, "H, W, C", "frame")
    check_shape(next_frame, "H, W, C", "next frame", **sizes)
    check_shape(mask, "H, W", "mask", H=sizes["H"], W=sizes["W"])
    valid = mask.astype(np.uint8, copy=False)
    count = cv2.countNonZero(valid)
    if count == 0:
        return float("nan")
    # Warping is linear, so 8-bit frames are warped in 0-255 units and scaled once at the end.
    scale = 1 / 255 if frame.dtype == np.uint8 else 1.0
    if frame.dtype != np.uint8 and not np.issubdtype(frame.dtype, np.floating):
        raise ValueError(f"images must be uint8 or float in [0, 1], got {frame.dtype}")
    difference = warp_numpy(next_frame.astype(np.float32, copy=False), forward)
    cv2.subtract(difference, frame.astype(np.float32, copy=False), dst=difference)
    cv2.multiply(difference, difference, dst=difference)
    channels = frame.shape[2]
    if channels <= 4:  # cv2.mean accumulates in double precision
        total = sum(cv2.mean(difference, mask=valid)[:channels]) * count
    else:
        total = float(difference[valid.astype(bool)].sum(dtype=np.float64))
    return float(total / (channels * count) * scale * scale)


def warping_error_torch(frame: torch.Tensor, next_frame: torch.Tensor, forward: torch.Tensor,
                        mask: torch.Tensor) -> torch.Tensor:
    """Batched, differentiable :func:`warping_error` (e.g. a temporal loss or GPU metric).

    Args:
        frame: (B, C, H, W) O_t in [0, 1].
        next_frame: (B, C, H, W) O_{t+1}.
        forward: (B, 2, H, W) flow(t -> t+1).
        mask: (B, 1, H, W) or (B, H, W) validity mask (bool or float weights).

    Returns:
        (B,) per-pair error; NaN where a mask is empty.
    """
    sizes = check_shape(frame, "B, C, H, W", "frames")
    check_shape(next_frame, "B, C, H, W", "next frames", **sizes)
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    check_shape(mask, "B, 1, H, W", "mask", B=sizes["B"], H=sizes["H"], W=sizes["W"])
    weights = mask.to(frame.dtype)
    squared = (warp(next_frame, forward) - frame).square()
    total = (squared * weights).sum(dim=(1, 2, 3))
    count = weights.sum(dim=(1, 2, 3)) * frame.shape[1]
    return total / count  # 0/0 -> NaN for an empty mask, as in the numpy version


class WarpingError(torch.nn.Module):
    """Module form of :func:`warping_error_torch`."""

    def forward(self, frame: torch.Tensor, next_frame: torch.Tensor, flow: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        return warping_error_torch(frame, next_frame, flow, mask)


def still_mask(source_frame: np.ndarray, source_next: np.ndarray, forward: np.ndarray,
               valid: np.ndarray) -> np.ndarray:
    """(H, W) bool: valid pixels where the source neither moves nor changes brightness."""
    u, v = cv2.split(np.ascontiguousarray(forward, dtype=np.float32))
    speed_sq = u * u + v * v
    change = np.abs(luma(source_next) - luma(source_frame))
    return valid & (speed_sq <= STILL_MOTION_PX ** 2) & (change <= STILL_LUMA_LEVELS)


def static_flicker(frame: np.ndarray, next_frame: np.ndarray, still: np.ndarray) -> float:
    """Mean |luma(t+1) - luma(t)| (0-255 levels) over the ``still`` pixels; NaN if none."""
    selected = still.astype(np.uint8, copy=False)
    if cv2.countNonZero(selected) == 0:
        return float("nan")
    return float(cv2.mean(cv2.absdiff(luma(next_frame), luma(frame)), mask=selected)[0])


def flow_difference(flow_a: np.ndarray, flow_b: np.ndarray) -> float:
    """tOF of one pair: mean over pixels of |flow_a - flow_b| (end-point distance, px)."""
    if flow_a.shape != flow_b.shape:
        raise ValueError(f"flows differ in shape: {flow_a.shape} vs {flow_b.shape}")
    du, dv = cv2.split(np.ascontiguousarray(flow_a - flow_b, dtype=np.float32))
    return float(cv2.mean(cv2.magnitude(du, dv))[0])
