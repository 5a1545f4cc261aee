"""Run-time temporal blending (``--stabilize S``) for models trained without a temporal loss.

Each output frame is blended with the previous (already blended) output,
warped onto it by the optical flow of the *source* frames, only where that
flow is trustworthy (Lai et al.'s forward-backward test, ``validity_mask``):

    out_t = styl_t + S * valid_t * (warp(out_{t-1}, flow_t) - styl_t)

The flow is computed in the decode stage (:class:`vidstyle.flow.MotionEstimator`)
so it overlaps with the model; the blend runs on the model's device.
"""

from __future__ import annotations

import torch
from torch import nn

from .._shapes import check_shape
from ..errors import UsageError
from ..flow import Motion, flow_to_tensor, warp


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
    sizes = check_shape(current, "B, C, H, W", "current")
    check_shape(previous, "B, C, H, W", "previous", **sizes)
    check_shape(valid, "N, 1, H, W", "valid", H=sizes["H"], W=sizes["W"])
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
        raise UsageError(f"stabilize must be in [0, 1) (got {strength}); 0 is off, 0.3-0.7 typical",
                         params=("stabilize",))
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
