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

A blend of two textures that do not line up is a blur: where the generator's
strokes differ from one frame to the next, ``out_t`` averages them, and since
``out_{t-1}`` is itself such an average, warped (resampled) once more every
frame, the painted detail fades with every frame held. On SuperTuxKart with a
neural painting style the stage took the generator's detail ratio from 0.95 to
0.73 (docs/BENCHMARKS.md, "Texture"). Two things keep it:

* the previous output is warped bicubically (a bilinear resample at half-pixel
  shifts averages neighbours, again every frame);
* :func:`restore_detail`: the blend's fine band (above a Gaussian of
  ``detail_sigma`` px) is scaled back to the local energy the generator's own
  fine band has at that place, by a gain in [1, ``detail_gain``] smoothed over
  ``detail_window`` px. This is the contrast correction of texture blending
  (Yu et al. 2011, "Lagrangian texture advection"; Heitz & Neyret 2018): the
  blend keeps its structure, which holds still, at the contrast of the style.
  The stage is trained with the correction in its loop, so the blend weight it
  learns pays for the flicker that the gain gives back.

Held content also travels: where the camera drives forward the scene expands,
and strokes held for many frames are magnified a little every frame into long
radial streaks (Snow Mountain, a mosaic-like neural style: texture distance 10.0
for the generator alone, 17.6 through the stage). :meth:`TemporalFusion.limit_hold`
lets go where the held layer has been distorted too much, as Lagrangian texture
advection regenerates its texture (Neyret 2003): the stage's ``alpha`` is scaled
by ``1 - D / stretch_limit``, ``D`` being the layer's accumulated distortion
(:func:`vidstyle.flow.flow_stretch` summed along the flow, weighted by what was
held). A render-time rule: the stage is trained without it (its unrolls of 4-8
frames accumulate far less stretch than a held stroke does over seconds), and it
only ever lowers the weight the stage learned.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from torch import nn

from .._defaults import DETAIL_GAIN, FUSION_FLOW, HOLD_STRETCH
from ..flow import flow_stretch, warp_fast

FUSION_INPUTS = 13  # styled (3), warped previous output (3), frame (3), warped previous frame (3), valid (1)
DETAIL_SIGMA = 1.5   # px: the fine band restore_detail keeps is above a Gaussian of this sigma
DETAIL_WINDOW = 4.0  # px: sigma of the window its local energies are compared over


def _gaussian(image: torch.Tensor, sigma: float) -> torch.Tensor:
    size = 2 * round(3 * sigma) + 1
    return gaussian_blur2d(image, (size, size), (sigma, sigma), border_type="replicate")


def restore_detail(blended: torch.Tensor, styled: torch.Tensor, *, sigma: float = DETAIL_SIGMA,
                   window: float = DETAIL_WINDOW, max_gain: float = DETAIL_GAIN) -> torch.Tensor:
    """Give a blend back the fine-band contrast of the frame it was blended from.

    ``blended`` is split at a Gaussian of ``sigma`` px into a base and a fine
    band; the fine band is multiplied by ``sqrt(E_styled / E_blended)``, the
    ratio of the two images' fine-band energies (summed over channels, averaged
    by a Gaussian window of ``window`` px), clamped to [1, ``max_gain``]: the
    detail is brought back where blending averaged it away, never amplified
    beyond what ``styled`` itself has, and never reduced.

    Args:
        blended: (B, 3, H, W) the blend of ``styled`` with the warped previous output.
        styled: (B, 3, H, W) this frame's stylization, the reference contrast.

    Returns:
        (B, 3, H, W), not clamped.
    """
    if blended.shape != styled.shape or blended.ndim != 4:
        raise ValueError(f"blended and styled must be equal (B, C, H, W) tensors, got {tuple(blended.shape)} "
                         f"and {tuple(styled.shape)}")
    if max_gain <= 1.0:
        return blended
    base = _gaussian(blended, sigma)
    fine = blended - base
    fine_styled = styled - _gaussian(styled, sigma)
    energy = torch.cat((fine_styled.square().sum(1, keepdim=True), fine.square().sum(1, keepdim=True)), dim=1)
    # The window is smooth: average it at 1/4 resolution and upsample (at 1080p on 2 CPU cores the
    # full-resolution 25-tap window took most of this function's 162 ms per frame).
    small = F.avg_pool2d(energy, 4, ceil_mode=True) if min(energy.shape[-2:]) >= 16 else None
    energy = (_gaussian(energy, window) if small is None else F.interpolate(
        _gaussian(small, window / 4), size=energy.shape[-2:], mode="bilinear", align_corners=False))
    target, have = energy[:, :1], energy[:, 1:]
    gain = ((target + 1e-6) / (have + 1e-6)).sqrt().clamp(1.0, max_gain)
    return base + gain * fine


@dataclass(frozen=True)
class FusionConfig:
    """How a checkpoint's fusion stage was built and which motion it expects.

    ``flow_preset`` is the DIS preset the stage was trained with; the renderer
    estimates motion with the same one (:class:`vidstyle.flow.MotionEstimator`).
    ``warp_mode`` and ``detail_gain`` say how the previous output is warped and
    how much fine-band contrast :func:`restore_detail` may give back (1 = none);
    checkpoints from before they existed load as trained (bilinear, 1).
    ``stretch_limit`` is the accumulated distortion at which held content is let
    go entirely (:meth:`TemporalFusion.limit_hold`; 0 = never); not trained, so
    older checkpoints get the default too.
    """

    width: int = 16
    flow_preset: str = FUSION_FLOW
    warp_mode: str = "bicubic"
    detail_gain: float = DETAIL_GAIN
    stretch_limit: float = HOLD_STRETCH

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FusionConfig":
        return cls(**{"warp_mode": "bilinear", "detail_gain": 1.0, **data})


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

    def warp_previous(self, previous_output: torch.Tensor, previous_frame: torch.Tensor,
                      flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(warped previous output, warped previous frame), each (B, 3, H, W), by ``flow`` (B, 2, H, W)."""
        warped = warp_fast(torch.cat((previous_output, previous_frame), dim=1), flow, mode=self.config.warp_mode)
        return warped[:, :3], warped[:, 3:]

    def combine(self, styled: torch.Tensor, warped_output: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """The output from the blend weight: the blend, its fine band restored (not clamped)."""
        blended = styled + alpha * (warped_output - styled)
        return restore_detail(blended, styled, max_gain=self.config.detail_gain)

    def limit_hold(self, alpha: torch.Tensor, flow: torch.Tensor,
                   carried: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scale the blend weight down where the held layer has been stretched.

        Args:
            alpha: (B, 1, H, W) the blend weight of this frame.
            flow: (B, 2, H, W) this frame's flow to the previous one, in pixels.
            carried: (B, 1, H, W) what the previous call returned (the previous
                output's accumulated distortion), or None after a cut or at the start.

        Returns:
            (alpha scaled by ``1 - D / stretch_limit`` clamped to [0, 1], this output's
            distortion ``alpha * D``), where ``D`` is ``carried`` warped by ``flow``
            plus this frame's :func:`~vidstyle.flow.flow_stretch`. ``alpha`` and None
            when ``stretch_limit`` is 0.
        """
        limit = self.config.stretch_limit
        if limit <= 0:
            return alpha, None
        held = flow_stretch(flow)
        if carried is not None and carried.shape == held.shape:
            held = held + warp_fast(carried, flow)
        alpha = alpha * (1.0 - held / limit).clamp_(0.0, 1.0)
        return alpha, alpha * held

    def with_stretch_limit(self, limit: float) -> "TemporalFusion":
        """This stage (the same weights) with another ``stretch_limit``; ``self`` is unchanged."""
        if limit < 0:
            raise ValueError(f"stretch_limit must be >= 0 (0 = hold regardless), got {limit}")
        stage = copy.copy(self)
        stage.config = replace(self.config, stretch_limit=float(limit))
        return stage

    def departure(self, out: torch.Tensor, styled: torch.Tensor) -> torch.Tensor:
        """How far ``out`` strays from ``styled``, (B, 3, H, W), for the stage's fidelity loss.
        With detail restoration only the base band (below ``DETAIL_SIGMA``) counts: the fine
        band's contrast is restored anyway, and its strokes may hold still where the
        generator's boil."""
        difference = out - styled
        return _gaussian(difference, DETAIL_SIGMA) if self.config.detail_gain > 1.0 else difference

    def forward(self, styled: torch.Tensor, previous_output: torch.Tensor, frame: torch.Tensor,
                previous_frame: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        _check(styled, previous_output, frame, previous_frame, flow, valid)
        warped_output, warped_frame = self.warp_previous(previous_output, previous_frame, flow)
        alpha = self.blend_weight(styled, warped_output, frame, warped_frame, valid)
        return self.combine(styled, warped_output, alpha)

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
