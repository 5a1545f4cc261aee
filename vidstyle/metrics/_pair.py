"""Per-pair flicker measures: Lai et al.'s warping error (numpy and torch), static-region
flicker and flow difference."""

from __future__ import annotations

import numpy as np
import torch

from ..flow import warp, warp_numpy

# BT.709 luma weights (vidstyle decodes to BT.709-interpreted RGB).
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
STILL_MOTION_PX = 0.5   # |F| at or below this counts as not moving
STILL_LUMA_LEVELS = 3.0  # source luma change (0-255) at or below this counts as unchanged


def to_unit(image: np.ndarray) -> np.ndarray:
    """An RGB image as float32 in [0, 1]: uint8 is divided by 255, floats are kept."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1 / 255)
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float32, copy=False)
    raise ValueError(f"images must be uint8 or float in [0, 1], got {image.dtype}")


def luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB -> (H, W) float32 BT.709 luma in 0-255 levels (uint8 or [0, 1] float in)."""
    scale = 1.0 if image.dtype == np.uint8 else 255.0
    return (image.astype(np.float32) @ LUMA_WEIGHTS) * np.float32(scale)


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
    if frame.shape != next_frame.shape or frame.ndim != 3:
        raise ValueError(f"frames must be equal (H, W, C) arrays, got {frame.shape} and {next_frame.shape}")
    if mask.shape != frame.shape[:2]:
        raise ValueError(f"mask must be {frame.shape[:2]}, got {mask.shape}")
    valid = mask.astype(bool)
    count = int(valid.sum())
    if count == 0:
        return float("nan")
    warped = warp_numpy(to_unit(next_frame), forward)
    squared = np.square(warped - to_unit(frame))[valid]
    return float(squared.sum(dtype=np.float64) / (frame.shape[2] * count))


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
    if frame.shape != next_frame.shape or frame.ndim != 4:
        raise ValueError(f"frames must be equal (B, C, H, W) tensors, got {tuple(frame.shape)} "
                         f"and {tuple(next_frame.shape)}")
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    if mask.shape != (frame.shape[0], 1, *frame.shape[2:]):
        raise ValueError(f"mask must be (B, 1, H, W) for frames {tuple(frame.shape)}, got {tuple(mask.shape)}")
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
    speed_sq = np.square(forward).sum(axis=-1)
    change = np.abs(luma(source_next) - luma(source_frame))
    return valid & (speed_sq <= STILL_MOTION_PX ** 2) & (change <= STILL_LUMA_LEVELS)


def static_flicker(frame: np.ndarray, next_frame: np.ndarray, still: np.ndarray) -> float:
    """Mean |luma(t+1) - luma(t)| (0-255 levels) over the ``still`` pixels; NaN if none."""
    count = int(still.sum())
    if count == 0:
        return float("nan")
    change = np.abs(luma(next_frame) - luma(frame))[still]
    return float(change.sum(dtype=np.float64) / count)


def flow_difference(flow_a: np.ndarray, flow_b: np.ndarray) -> float:
    """tOF of one pair: mean over pixels of |flow_a - flow_b| (end-point distance, px)."""
    if flow_a.shape != flow_b.shape:
        raise ValueError(f"flows differ in shape: {flow_a.shape} vs {flow_b.shape}")
    return float(np.sqrt(np.square(flow_a - flow_b).sum(axis=-1)).mean(dtype=np.float64))
