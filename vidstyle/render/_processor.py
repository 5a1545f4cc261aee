"""The model stage: frames in, stylized frames out, on CPU or CUDA.

Per batch, in two parts (:meth:`FrameProcessor.generate`, which model workers
may run on several batches at once, and :meth:`FrameProcessor.finish`, which
sees the batches in order): upload (through a pinned staging buffer and a non-blocking copy on
CUDA), resize to the model's working size, add guide channels, run the model
(:class:`~vidstyle.render._model.ModelRunner`: precision and memory format), resize to the output
size, run the model's learned temporal stage (at the working size), blend with
the previous output (``--stabilize``), put the HUD back, and
convert to bytes for the encoder: YUV 4:2:0 on the GPU when the encoder takes
it (half the download, no swscale), RGB otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from ..flow import Motion
from ..models import Stylizer, TemporalFusion
from ._fusion import FusionRunner, running_stage
from ._hud import HudMasks, composite_hud
from ._model import ModelRunner, Numerics
from ._runtime import RuntimePlan
from ._stabilize import Stabilizer
from ._yuv import rgb_to_yuv420

if TYPE_CHECKING:
    from ..masks import HudTimeline


@dataclass
class SourceFrame:
    """One decoded frame on its way to the model. ``rgb`` is at the output size (or
    at the working size when nothing needs the source at the output size, see
    :func:`~vidstyle.render._render.decode_size`), ``guide`` (H, W, C) at the working size."""

    index: int
    pts: int
    time: float
    rgb: np.ndarray
    guide: np.ndarray | None = None
    motion: Motion | None = None         # at the output size, for --stabilize
    fusion_motion: Motion | None = None  # at the working size, for the model's temporal stage


@dataclass
class RenderedBatch:
    """Stylized frames ready to encode: ``pixels`` is (B, H, W, 3) RGB or, when
    ``is_yuv``, (B, H * 3 // 2, W) planar YUV 4:2:0, both uint8."""

    indices: list[int]
    pts: list[int]
    times: list[float]
    pixels: np.ndarray
    is_yuv: bool


@dataclass
class GeneratedBatch:
    """The generator's output for a batch, waiting for :meth:`FrameProcessor.finish`:
    ``source`` (B, 3, H, W) at the output size, ``work_rgb`` and ``styled``
    (B, 3, h, w) at the working size, floats in [0, 1] on the model's device."""

    frames: list[SourceFrame]
    source: torch.Tensor
    work_rgb: torch.Tensor
    styled: torch.Tensor


def _resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) float -> (B, C, size[1], size[0]); antialiased when shrinking."""
    height, width = frames.shape[-2:]
    if (width, height) == tuple(size):
        return frames
    shrink = size[0] * size[1] < width * height
    return F.interpolate(frames, size=(size[1], size[0]), mode="bilinear", align_corners=False,
                         antialias=shrink)


class FrameProcessor:
    """Callable model stage for :class:`~vidstyle.render._pipeline.Pipeline`."""

    def __init__(self, model: Stylizer, plan: RuntimePlan, *, work_size: tuple[int, int],
                 out_size: tuple[int, int], hud_mask: "np.ndarray | HudTimeline | None" = None,
                 stabilize: float = 0.0,
                 yuv_output: bool = False, compile_model: bool = False, ring_size: int = 4,
                 temporal: bool = True, hold_stretch: float | None = None) -> None:
        self.plan = plan
        self.device = plan.device
        self.work_size, self.out_size = work_size, out_size
        self.guide_channels = model.config.guide_channels
        self.yuv_output = yuv_output
        self.runner = ModelRunner(model, plan, compile_model=compile_model)
        self.memory_format = self.runner.memory_format
        self.hud = None if hud_mask is None else HudMasks(hud_mask, self.device)
        self.stabilizer = Stabilizer(stabilize) if stabilize > 0 else None
        self.fusion: TemporalFusion | None = running_stage(model, temporal=temporal, hold_stretch=hold_stretch)
        self._fusion_runner: FusionRunner | None = None
        self._ring_size = ring_size
        self._staging: dict[str, torch.Tensor] = {}  # one pinned buffer per kind of upload
        self._ring: list[torch.Tensor] = []
        self._ring_next = 0
        if plan.is_cuda:
            torch.backends.cudnn.benchmark = True  # fixed frame size: pick the fastest conv kernels once

    # -- transfers ---------------------------------------------------------------
    def _upload(self, frames: list[np.ndarray], kind: str = "frames") -> torch.Tensor:
        """Stack (H, W, C) uint8 arrays into a (B, C, H, W) float [0, 1] device tensor."""
        count = len(frames)
        if self.plan.is_cuda:
            staging = self._staging.get(kind)
            if staging is None or staging.shape[0] < count or staging.shape[1:] != frames[0].shape:
                staging = torch.empty((max(count, self.plan.batch), *frames[0].shape), dtype=torch.uint8,
                                      pin_memory=True)
                self._staging[kind] = staging
            # Safe to refill: the previous batch's copies finished at its download's synchronize.
            host = staging[:count]
            staging_view = host.numpy()
            for slot, frame in enumerate(frames):
                np.copyto(staging_view[slot], frame)
            tensor = host.to(self.device, non_blocking=True)
        else:
            tensor = torch.from_numpy(np.stack(frames))
        return tensor.permute(0, 3, 1, 2).float().div_(255.0).contiguous(memory_format=self.memory_format)

    def _download(self, pixels: torch.Tensor) -> np.ndarray:
        """A uint8 device tensor as a host array the encoder may read until
        ``ring_size`` - 1 later batches have been produced."""
        if not self.plan.is_cuda:
            return pixels.contiguous().numpy()
        count = pixels.shape[0]
        slot = self._ring_next % self._ring_size
        self._ring_next += 1
        if len(self._ring) <= slot or self._ring[slot].shape[0] < count or \
                self._ring[slot].shape[1:] != pixels.shape[1:]:
            buffer = torch.empty((max(count, self.plan.batch), *pixels.shape[1:]), dtype=torch.uint8,
                                 pin_memory=True)
            if len(self._ring) <= slot:
                self._ring.append(buffer)
            else:
                self._ring[slot] = buffer
        host = self._ring[slot][:count]
        host.copy_(pixels, non_blocking=True)
        torch.cuda.current_stream(self.device).synchronize()
        return host.numpy()

    # -- the stage ---------------------------------------------------------------
    @property
    def in_order(self) -> bool:
        """Whether :meth:`finish` carries state from frame to frame (the temporal
        stage, ``--stabilize``), so it must see the batches in order."""
        return self.fusion is not None or self.stabilizer is not None

    @torch.inference_mode()
    def generate(self, batch: list[SourceFrame]) -> GeneratedBatch:
        """The part with no state between batches: upload, resize, guides, the generator."""
        source = self._upload([frame.rgb for frame in batch])
        x = _resize(source, self.work_size)
        if self.guide_channels:
            guides = self._upload([frame.guide for frame in batch], "guides")  # type: ignore[misc]
            x = torch.cat((x, guides), dim=1)
        styled = self.runner(x).clamp(0.0, 1.0)  # not in place: CUDA-graph output
        return GeneratedBatch(frames=batch, source=source, work_rgb=x[:, :3], styled=styled)

    @torch.inference_mode()
    def finish(self, generated: GeneratedBatch) -> RenderedBatch:
        """The rest, in frame order: temporal stage, output size, ``--stabilize``, HUD, bytes."""
        batch, styled = generated.frames, generated.styled
        if self.fusion is not None:
            fusion = self._fusion_in_generator_format(self.fusion)
            styled = torch.cat([fusion(styled[i:i + 1], generated.work_rgb[i:i + 1], frame.fusion_motion)
                                for i, frame in enumerate(batch)], dim=0)
        styled = _resize(styled, self.out_size).clamp_(0.0, 1.0)
        if self.stabilizer is not None:
            styled = torch.cat([self.stabilizer(styled[i:i + 1], frame.motion)
                                for i, frame in enumerate(batch)], dim=0)
        if self.hud is not None:
            styled = composite_hud(styled, generated.source, self.hud.for_frames([f.index for f in batch]))
        if self.yuv_output:
            pixels = rgb_to_yuv420(styled)
        else:
            pixels = styled.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        return RenderedBatch(indices=[f.index for f in batch], pts=[f.pts for f in batch],
                             times=[f.time for f in batch], pixels=self._download(pixels),
                             is_yuv=self.yuv_output)

    def _fusion_in_generator_format(self, stage: TemporalFusion) -> FusionRunner:
        """The stage's runner, built at the first :meth:`finish`: by then the
        generator's first call has settled its number format (it may have fallen back)."""
        if self._fusion_runner is None:
            numerics, dtype = self.runner.numerics, self.plan.precision.dtype
            self._fusion_runner = FusionRunner(
                stage, self.device, memory_format=self.memory_format,
                dtype=dtype if numerics is Numerics.CONVERTED else None,
                autocast=dtype if numerics is Numerics.AUTOCAST else None)
        return self._fusion_runner

    def __call__(self, batch: list[SourceFrame]) -> RenderedBatch:
        return self.finish(self.generate(batch))
