"""Run-time temporal blending (``--stabilize S``) for models trained without a temporal loss.

Each output frame is blended with the previous (already blended) output,
warped onto it by the optical flow of the *source* frames, only where that
flow is trustworthy (Lai et al.'s forward-backward test, ``validity_mask``):

    out_t = styl_t + S * valid_t * (warp(out_{t-1}, flow_t) - styl_t)

The flow is computed in the decode stage (DIS on greyscale, at most
``max_width`` pixels wide and scaled up) so it overlaps with the model; the
blend runs on the model's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from ..errors import UsageError
from ..flow import DisFlow, FlowPreset, flow_to_tensor, to_gray, validity_mask, warp


@dataclass
class Motion:
    """How frame t maps onto frame t-1: ``flow`` (H, W, 2) float32 with
    frame_t(x) ~ frame_{t-1}(x + flow(x)), ``valid`` (H, W) float32 in {0, 1}."""

    flow: np.ndarray
    valid: np.ndarray


class MotionEstimator:
    """Sequential source-frame motion for the stabilizer; call once per frame in order.

    Returns None for the first frame (nothing to blend with).
    """

    def __init__(self, preset: FlowPreset | str = FlowPreset.ULTRAFAST, max_width: int = 640) -> None:
        self.preset = FlowPreset.parse(preset)
        self.max_width = max_width
        self._flow = DisFlow(self.preset)
        self._previous: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> Motion | None:
        height, width = rgb.shape[:2]
        gray = to_gray(rgb)
        if width > self.max_width:
            small = (self.max_width, max(2, round(height * self.max_width / width)))
            gray = cv2.resize(gray, small, interpolation=cv2.INTER_AREA)
        previous, self._previous = self._previous, gray
        if previous is None or previous.shape != gray.shape:
            return None
        to_previous = self._flow(gray, previous)
        from_previous = self._flow(previous, gray)
        valid = validity_mask(to_previous, from_previous).astype(np.float32)
        if gray.shape[1] != width:
            scale_x, scale_y = width / gray.shape[1], height / gray.shape[0]
            to_previous = cv2.resize(to_previous, (width, height), interpolation=cv2.INTER_LINEAR)
            to_previous[..., 0] *= scale_x
            to_previous[..., 1] *= scale_y
            valid = cv2.resize(valid, (width, height), interpolation=cv2.INTER_NEAREST)
        return Motion(flow=to_previous, valid=valid)


def temporal_blend(current: torch.Tensor, previous: torch.Tensor, flow: torch.Tensor,
                   valid: torch.Tensor, strength: float) -> torch.Tensor:
    """Blend ``current`` with ``previous`` warped by ``flow`` where ``valid``.

    Args:
        current: (B, C, H, W) this frame's stylized output.
        previous: (B, C, H, W) the previous frame's final output.
        flow: (B, 2, H, W) flow from this frame to the previous one, in pixels.
        valid: (B, 1, H, W) weights in [0, 1] (1 = the flow is trustworthy).
        strength: S in [0, 1]; 0 returns ``current``.

    Returns:
        (B, C, H, W) ``current + strength * valid * (warp(previous) - current)``.
    """
    if current.shape != previous.shape:
        raise ValueError(f"current {tuple(current.shape)} and previous {tuple(previous.shape)} differ")
    if valid.ndim != 4 or valid.shape[1] != 1 or valid.shape[-2:] != current.shape[-2:]:
        raise ValueError(f"valid must be (B, 1, H, W), got {tuple(valid.shape)}")
    warped = warp(previous, flow.to(previous.dtype))
    return current + (strength * valid.to(current.dtype)) * (warped - current)


class TemporalBlend(nn.Module):
    """Module form of :func:`temporal_blend` with a fixed strength."""

    def __init__(self, strength: float) -> None:
        super().__init__()
        self.strength = check_strength(strength)

    def forward(self, current: torch.Tensor, previous: torch.Tensor, flow: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        return temporal_blend(current, previous, flow, valid, self.strength)


def check_strength(strength: float) -> float:
    if not 0.0 <= strength < 1.0:
        raise UsageError(f"--stabilize must be in [0, 1) (got {strength}); 0 is off, 0.3-0.7 typical")
    return float(strength)


class Stabilizer:
    """Holds the previous output and blends each new frame into the sequence."""

    def __init__(self, strength: float) -> None:
        self.blend = TemporalBlend(strength)
        self._previous: torch.Tensor | None = None

    def __call__(self, frame: torch.Tensor, motion: Motion | None) -> torch.Tensor:
        """``frame`` (1, 3, H, W) float on the model's device -> stabilized frame."""
        if motion is not None and self._previous is not None:
            flow = flow_to_tensor(motion.flow).unsqueeze(0).to(frame.device, non_blocking=True)
            valid = torch.from_numpy(motion.valid)[None, None].to(frame.device, non_blocking=True)
            frame = self.blend(frame, self._previous, flow, valid)
        self._previous = frame
        return frame
