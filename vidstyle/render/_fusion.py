"""Running a model's learned temporal stage frame after frame.

:class:`FusionRunner` keeps what the stage needs from the previous frame (its
output and its source frame, at the model's working size); the renderer feeds
it motion from a :class:`~vidstyle.flow.MotionEstimator` built with
:func:`fusion_motion_estimator`, the same estimator the trainer used.
:func:`stylize_clip` does the whole thing for frames already in memory.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Iterable

import numpy as np
import torch

from ..flow import FlowPreset, Motion, MotionEstimator, flow_to_tensor
from ..models import Stylizer, TemporalFusion


def fusion_motion_estimator(fusion: TemporalFusion, size: tuple[int, int]) -> MotionEstimator:
    """The motion estimator the stage was trained with, giving flow at ``size`` (W, H)."""
    return MotionEstimator(FlowPreset.parse(fusion.config.flow_preset), size=size)


def running_stage(model: Stylizer, *, temporal: bool, hold_stretch: float | None) -> TemporalFusion | None:
    """The temporal stage a render runs: the model's (None without one or when not
    ``temporal``), with ``hold_stretch`` as its stretch limit when given."""
    stage = model.fusion if temporal else None
    if stage is not None and hold_stretch is not None:
        stage = stage.with_stretch_limit(hold_stretch)
    return stage


class FusionRunner:
    """Callable: (styled, frame, motion) -> output, each (1, 3, H, W) float32 on
    the stage's device; ``motion`` None (first frame, cut) passes ``styled`` through.

    Warps and the blend are the stage's own (:meth:`TemporalFusion.warp_previous`,
    :meth:`TemporalFusion.combine`); the blend-weight network
    runs in ``dtype`` when given (bf16 weights on CPUs that compute it natively,
    as the generator does) or under ``autocast`` (CUDA), in ``memory_format``.
    The caller's stage is not modified.
    """

    def __init__(self, fusion: TemporalFusion, device: torch.device, *, dtype: torch.dtype | None = None,
                 autocast: torch.dtype | None = None,
                 memory_format: torch.memory_format = torch.contiguous_format) -> None:
        self.fusion = fusion
        self.device = device
        self.dtype, self.autocast, self.memory_format = dtype, autocast, memory_format
        self.net = copy.deepcopy(fusion.net).to(device).eval().to(memory_format=memory_format)
        if dtype is not None:
            self.net = self.net.to(dtype)
        self._previous_output: torch.Tensor | None = None
        self._previous_frame: torch.Tensor | None = None
        self._distortion: torch.Tensor | None = None  # the previous output's, TemporalFusion.limit_hold

    @torch.inference_mode()
    def __call__(self, styled: torch.Tensor, frame: torch.Tensor, motion: Motion | None) -> torch.Tensor:
        styled, frame = styled.float(), frame.float()
        out, distortion = styled, None
        previous = self._previous_output
        if motion is not None and previous is not None and previous.shape == styled.shape:
            flow = flow_to_tensor(motion.flow)[None].to(self.device, non_blocking=True)
            valid = torch.from_numpy(motion.valid)[None, None].to(self.device, non_blocking=True)
            warped_output, warped_frame = self.fusion.warp_previous(previous, self._previous_frame, flow)
            x = TemporalFusion.blend_inputs(styled, warped_output, frame, warped_frame, valid)
            alpha, distortion = self.fusion.limit_hold(self._alpha(x), flow, self._distortion)
            out = self.fusion.combine(styled, warped_output, alpha).clamp_(0.0, 1.0)
        self._previous_output, self._previous_frame, self._distortion = out, frame, distortion
        return out

    def _alpha(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.dtype or x.dtype).contiguous(memory_format=self.memory_format)
        scope = (torch.autocast(self.device.type, dtype=self.autocast) if self.autocast is not None
                 else contextlib.nullcontext())
        with scope:
            return torch.sigmoid(self.net(x).float())


@torch.inference_mode()
def stylize_clip(model: Stylizer, frames: Iterable[np.ndarray], *, device: str | torch.device = "cpu",
                 temporal: bool = True, hold_stretch: float | None = None) -> np.ndarray:
    """Stylize in-memory frames in order, with the model's temporal stage when it has one.

    Args:
        model: a :class:`~vidstyle.models.Stylizer` without guide channels.
        frames: (H, W, 3) uint8 RGB frames of one shot, in order.
        temporal: run the fusion stage (False: every frame on its own).
        hold_stretch: the stage's stretch limit for this call (None: the model's;
            :meth:`~vidstyle.models.TemporalFusion.limit_hold`), as ``render``'s option.

    Returns:
        (T, H, W, 3) uint8 RGB. ``model`` is left on its device, in its mode.
    """
    if model.config.guide_channels:
        raise ValueError("stylize_clip takes models without guide channels; use vidstyle.render.render")
    device = torch.device(device)
    # The caller's model keeps its device and its train/eval mode.
    on_device = next(model.parameters()).device == device
    net = (model if on_device else copy.deepcopy(model).to(device))
    was_training = model.training
    net.eval()
    try:
        stage = running_stage(net, temporal=temporal, hold_stretch=hold_stretch)
        runner = FusionRunner(stage, device) if stage is not None else None
        estimator = None
        out = []
        for rgb in frames:
            x = torch.from_numpy(np.ascontiguousarray(rgb)).to(device).permute(2, 0, 1)[None].float().div_(255)
            styled = net(x).clamp_(0.0, 1.0)
            if runner is not None:
                if estimator is None:
                    estimator = fusion_motion_estimator(runner.fusion, (rgb.shape[1], rgb.shape[0]))
                styled = runner(styled, x, estimator(rgb))
            out.append(styled[0].mul(255).round_().byte().permute(1, 2, 0).cpu().numpy())
    finally:
        model.train(was_training)
    return np.stack(out)
