"""Learned temporal fusion: a model's recurrent stage against flicker.

A per-frame generator can only lower flicker by flattening what it paints
(docs/BENCHMARKS.md, "Temporal terms"). The fusion stage instead blends each
stylized frame with the previous *output* warped onto it by the source frames'
motion, as Lai et al. 2018's network does with its previous output, but with a
blend weight it learns per pixel from what it sees:

    out_t = styled_t + alpha_t * (warp(out_{t-1}, flow_t) - styled_t)
    alpha_t = sigmoid(net(styled_t, warp(out_{t-1}), frame_t, warp(frame_{t-1}), valid_t))

so it can hold still where only the stylization flickers and follow the source
where the scene really changed or the flow failed: the warped previous frame
disagrees with this one, or ``valid_t`` (the forward-backward test of the
run-time flow) distrusts the flow there. Gating the blend by ``valid_t``
instead gave up a fifth of the flicker reduction on real footage
(docs/BENCHMARKS.md, "Temporal terms"): the cheap run-time flow rejects much
that is fine. Three 3x3 convolutions: about 9 kFLOP per pixel, an eighth of the
``fast`` generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..flow import FlowPreset, warp

FUSION_INPUTS = 13  # styled (3), warped previous output (3), frame (3), warped previous frame (3), valid (1)


@dataclass(frozen=True)
class FusionConfig:
    """How a checkpoint's fusion stage was built and which motion it expects.

    ``flow_preset`` is the DIS preset the stage was trained with; the renderer
    estimates motion with the same one (:class:`vidstyle.flow.MotionEstimator`).
    """

    width: int = 16
    flow_preset: str = FlowPreset.FAST.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FusionConfig":
        return cls(**data)


class TemporalFusion(nn.Module):
    """Blend a stylized frame with the warped previous output.

    forward(styled, previous_output, frame, previous_frame, flow, valid):
        styled, previous_output: (B, 3, H, W) in [0, 1], this frame's per-frame
            stylization and the previous frame's final output;
        frame, previous_frame: (B, 3, H, W) in [0, 1], the source frames (RGB);
        flow: (B, 2, H, W) from this frame to the previous one, in pixels;
        valid: (B, 1, H, W) in [0, 1], 1 where that flow is trusted.
    Returns (B, 3, H, W), this frame's output.
    """

    def __init__(self, config: FusionConfig | None = None) -> None:
        super().__init__()
        self.config = config or FusionConfig()
        width = self.config.width
        self.net = nn.Sequential(
            nn.Conv2d(FUSION_INPUTS, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 1, 3, padding=1))
        # Start from a half blend (alpha = 0.5 everywhere): the run-time --stabilize 0.5.
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    @staticmethod
    def blend_inputs(styled: torch.Tensor, warped_output: torch.Tensor, frame: torch.Tensor,
                     warped_frame: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The (B, 13, H, W) input of the blend-weight network."""
        return torch.cat((styled, warped_output, frame, warped_frame, valid.to(styled.dtype)), dim=1)

    def blend_weight(self, styled: torch.Tensor, warped_output: torch.Tensor, frame: torch.Tensor,
                     warped_frame: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) alpha in [0, 1] from already-warped inputs."""
        return torch.sigmoid(self.net(self.blend_inputs(styled, warped_output, frame, warped_frame, valid)))

    def forward(self, styled: torch.Tensor, previous_output: torch.Tensor, frame: torch.Tensor,
                previous_frame: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        _check(styled, previous_output, frame, previous_frame, flow, valid)
        warped_output = warp(previous_output, flow)
        warped_frame = warp(previous_frame, flow)
        alpha = self.blend_weight(styled, warped_output, frame, warped_frame, valid)
        return styled + alpha * (warped_output - styled)

    def flops_per_pixel(self) -> float:
        """FLOP per pixel of the blend-weight network (multiply-add = 2), warps left out."""
        convs = [m for m in self.net if isinstance(m, nn.Conv2d)]
        return float(sum(2 * m.in_channels * m.out_channels * 9 + m.out_channels for m in convs))


def _check(styled: torch.Tensor, previous_output: torch.Tensor, frame: torch.Tensor,
           previous_frame: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor) -> None:
    expected = {"styled": (styled, 3), "previous_output": (previous_output, 3), "frame": (frame, 3),
                "previous_frame": (previous_frame, 3), "flow": (flow, 2), "valid": (valid, 1)}
    batch, height, width = styled.shape[0], styled.shape[-2], styled.shape[-1]
    for name, (tensor, channels) in expected.items():
        if tensor.ndim != 4 or tuple(tensor.shape) != (batch, channels, height, width):
            raise ValueError(f"{name} must be ({batch}, {channels}, {height}, {width}), "
                             f"got {tuple(tensor.shape)}")
