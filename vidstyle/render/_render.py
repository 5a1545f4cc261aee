"""``render``: stylize a whole video with a model, keeping its frames, timestamps and audio."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import av
import torch

from .. import _defaults
from ..errors import UsageError
from ..flow import FlowPreset, MotionEstimator
from ..io import Codec, SourceKind, VideoInfo, VideoWriter, check_output, open_video, open_writer, probe
from ..models import Stylizer, load_stylizer
from ..progress import info, progress, warn
from ._fusion import fusion_motion_estimator
from ._guides import GuideFolder, GuideStream
from ._hud import resolve_hud_mask
from ._pipeline import Pipeline, StageTimes, run_sequential
from ._processor import FrameProcessor, RenderedBatch, SourceFrame
from ._runtime import Device, Precision, RuntimePlan, nvdec_hwaccel, resolve_runtime
from ._stabilize import check_strength

_POSTFIX_EVERY_S = 0.5
# libx264's preset for CPU renders when none is given (vidstyle._defaults says why).
CPU_RENDER_PRESET = _defaults.CPU_RENDER_PRESET


@dataclass
class RenderOptions:
    """Everything ``vidstyle render`` can be told; the defaults are what users want.

    ``size`` is the model's working size (default: the size it was trained at,
    keeping the source's aspect), ``output_size`` the encoded size (default:
    the source's). ``keep_hud`` is a mask image or ``"auto"``; ``stabilize``
    the temporal blend strength S in [0, 1) (0 = off); ``temporal`` False
    skips the model's learned temporal stage, if it has one (``--per-frame``);
    ``hold_stretch`` overrides that stage's ``stretch_limit`` (how much the flow may
    stretch what it holds before it lets go; 0 = hold regardless);
    ``guides`` a folder of
    guide images for models with guide channels. ``cuts`` lists the source
    frames where a new shot begins (``vidstyle.shots``): the temporal stage and
    ``stabilize`` start afresh there, so nothing is blended across a cut. ``batch``/``threads`` None
    means the device's sensible default.
    """

    device: str | Device = Device.AUTO
    precision: str | Precision = Precision.AUTO
    batch: int | None = None
    threads: int | None = None
    workers: int | None = None
    size: tuple[int, int] | None = None
    output_size: tuple[int, int] | None = None
    start: float | None = None
    end: float | None = None
    frame_range: tuple[int, int] | None = None  # source frames [first, last) written, timestamps kept as is
    warmup: int = 0  # frames before frame_range run through the model (to settle its temporal state), not written
    codec: Codec | str | None = None
    crf: int | None = None
    preset: str | None = None
    audio: bool = True
    keep_hud: str | Path | None = None
    hud_include: Sequence[str] = ()  # "x,y,w,h" rectangles always kept from the source (with keep_hud)
    hud_exclude: Sequence[str] = ()  # never kept (the player's kart, if auto detection took it)
    stabilize: float = 0.0
    stabilize_flow: FlowPreset | str = FlowPreset.ULTRAFAST
    temporal: bool = True
    hold_stretch: float | None = None  # the temporal stage's stretch_limit; None = the model's (HOLD_STRETCH)
    guides: str | Path | None = None
    cuts: Sequence[int] = ()  # source frames that start a shot: the temporal state is reset there (--shots)
    compile: bool = False
    channels_last: bool | None = None
    codec_nice: int = 0  # nice of the decode/encode threads (Linux), for benchmarks; 0 = unchanged
    hw_decode: bool = True
    queue_depth: int = 2
    sequential: bool = False  # one thread, no overlap: the baseline the benchmark compares with
    allow_hdr: bool = False
    overwrite: bool = False
    desc: str = "render"


@dataclass(frozen=True)
class RenderResult:
    """What a render did. ``times`` holds each stage's busy seconds and the wall time."""

    output: Path
    frames: int
    work_size: tuple[int, int]
    output_size: tuple[int, int]
    device: str
    precision: str
    times: StageTimes
    source_fps: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def fps(self) -> float:
        return self.frames / self.times.wall if self.times.wall else 0.0

    @property
    def realtime_factor(self) -> float | None:
        """Render speed over playback speed (1.0 = as fast as the video plays)."""
        return self.fps / self.source_fps if self.source_fps else None


def check_temporal_options(options: RenderOptions) -> None:
    """One-line errors for ``stabilize`` and ``hold_stretch`` out of range, before any work
    (``render`` and ``render_on_ray`` alike)."""
    check_strength(options.stabilize)
    if options.hold_stretch is not None and not options.hold_stretch >= 0:
        raise UsageError(f"hold_stretch must be >= 0 (got {options.hold_stretch}); 0 holds regardless",
                         params=("hold_stretch",))


def working_size(model: Stylizer, source_size: tuple[int, int],
                 requested: tuple[int, int] | None = None) -> tuple[int, int]:
    """The size the model runs at: ``requested``, else its training size (its
    height and the source's aspect when the aspects differ), else the source's."""
    if requested is not None:
        return requested
    trained = model.config.train_size
    if trained is None:
        return source_size
    source_aspect = source_size[0] / source_size[1]
    if abs(trained[0] / trained[1] - source_aspect) <= 0.01 * source_aspect:
        return tuple(trained)  # type: ignore[return-value]
    width, height = round(trained[1] * source_aspect / 2) * 2, trained[1]
    area = trained[0] * trained[1]
    if width * height > 2 * area:  # a strip (2000x16): the trained height would mean 15000x120 px of work
        width = round((area * source_aspect) ** 0.5 / 2) * 2
        height = round((area / source_aspect) ** 0.5 / 2) * 2
    return max(2, width), max(2, height)


def decode_size(work_size: tuple[int, int], out_size: tuple[int, int], *, needs_source: bool) -> tuple[int, int]:
    """The size frames are decoded at: the model's when it is smaller and nothing
    needs the source at the output size (``--keep-hud``, ``--stabilize``), so
    one swscale pass shrinks them, as the trainer's frames were, instead of a
    full-size RGB frame and a resize (at 720p: 23 ms less CPU per frame)."""
    if needs_source or work_size[0] * work_size[1] >= out_size[0] * out_size[1]:
        return out_size
    return work_size


def render(source: str | Path, model: Stylizer | str | Path, output: str | Path,
           options: RenderOptions | None = None, **overrides: Any) -> RenderResult:
    """Stylize ``source`` with ``model`` into ``output`` (a video file, or a folder for PNGs).

    The output has the source's frames (or the ``start``/``end`` range) with the
    source's timestamps and its audio copied; it is written as ``OUTPUT.<pid>-<random>.partial``
    and renamed when complete, so an interrupted render leaves nothing under the
    final name. Keyword ``overrides`` replace fields of ``options``.
    """
    options = replace(options or RenderOptions(), **overrides)
    source = Path(source)
    first, last = options.frame_range or (None, None)
    if options.frame_range is not None and (options.start is not None or options.end is not None):
        raise UsageError("give a time range (start/end) or a frame range, not both")
    inputs: list[str | Path] = [source] + ([] if isinstance(model, Stylizer) else [model])
    output = check_output(output, inputs, options.overwrite)
    check_temporal_options(options)
    stabilize = float(options.stabilize)
    stylizer = model if isinstance(model, Stylizer) else load_stylizer(model, "cpu")
    plan = resolve_runtime(options.device, options.precision, batch=options.batch,
                           channels_last=options.channels_last, threads=options.threads, model=stylizer,
                           workers=1 if options.sequential else options.workers,
                           independent_frames=not options.compile)
    source_info = probe(source)
    out_size = options.output_size or (source_info.width, source_info.height)
    work_size = working_size(stylizer, (source_info.width, source_info.height), options.size)
    guides = _guide_source(stylizer, options.guides, source, work_size)
    hud_mask = resolve_hud_mask(options.keep_hud, source, out_size, include=options.hud_include,
                                exclude=options.hud_exclude)
    hwaccel = None
    if plan.is_cuda and options.hw_decode and source_info.kind is SourceKind.VIDEO:
        hwaccel = nvdec_hwaccel(source)
    # Warm-up frames only settle state carried from frame to frame; a per-frame render skips them
    # (under render_on_ray they were 8 % of a per-frame render's frames, 6 chunks of 80 frames).
    warmup = options.warmup if stabilize > 0 or (options.temporal and stylizer.fusion is not None) else 0
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(plan.worker_threads)  # process-wide: each model worker's intra-op threads
    try:
        with ExitStack() as stack:
            reader = stack.enter_context(open_video(
                source, start=options.start, end=options.end,
                start_frame=None if first is None else max(0, first - warmup), end_frame=last,
                size=decode_size(work_size, out_size, needs_source=hud_mask is not None or stabilize > 0),
                allow_hdr=options.allow_hdr, threads=plan.decode_threads, hwaccel=hwaccel))
            writer = stack.enter_context(_open_writer(output, source, source_info, out_size, plan, options))
            processor = FrameProcessor(
                stylizer, plan, work_size=work_size, out_size=out_size, hud_mask=hud_mask,
                stabilize=stabilize, compile_model=options.compile, ring_size=options.queue_depth + 2,
                yuv_output=plan.is_cuda and isinstance(writer, VideoWriter) and writer.pix_fmt == "yuv420p",
                temporal=options.temporal, hold_stretch=options.hold_stretch)
            hint = "" if plan.precision is Precision.FP32 else "; precision='fp32' for full precision"
            info(f"model on {plan.device.type}: {processor.runner.describe()}, {_threads(plan)}{hint}",
                 params=("precision",))
            motion = MotionEstimator(options.stabilize_flow) if stabilize else None
            fusion = None
            if processor.fusion is not None:
                fusion = fusion_motion_estimator(processor.fusion, work_size)
                info(f"temporal stage on: the model's learned fusion, {fusion.preset.value} flow "
                     "(temporal=False to render frames independently)", params=("temporal",))

            cuts = frozenset(options.cuts)

            def frames() -> Iterator[SourceFrame]:
                paired = (fusion.stream(reader, lambda f: f.rgb, workers=plan.motion_workers) if fusion
                          else ((frame, None) for frame in reader))
                for frame, fusion_motion in paired:
                    # At a cut the estimators still see the frame (it is the next one's previous)
                    # but their motion is dropped: no motion, no blending with the last shot.
                    keep = frame.index not in cuts
                    stabilize_motion = None if motion is None else motion(frame.rgb)
                    yield SourceFrame(index=frame.index, pts=frame.pts, time=frame.time, rgb=frame.rgb,
                                      guide=None if guides is None else guides(frame.index),
                                      motion=stabilize_motion if keep else None,
                                      fusion_motion=fusion_motion if keep else None)

            rate = source_info.nominal_fps or source_info.average_fps
            bar = stack.enter_context(progress(reader.expected_frames, options.desc))
            sink = _Sink(writer, bar, rate, first=first or 0)
            if options.sequential:
                times = run_sequential(frames(), processor, sink, batch=plan.batch, finish=writer.finish)
            elif plan.model_workers > 1 and processor.in_order:
                # The workers run the generator side by side; what carries state from frame to
                # frame then runs on each worker in turn, in frame order.
                times = Pipeline(frames(), processor.generate, sink, ordered=processor.finish,
                                 time_of=lambda f: f.time, out_time=lambda b: b.times[0],
                                 batch=plan.batch, depth=options.queue_depth, finish=writer.finish,
                                 io_nice=options.codec_nice, workers=plan.model_workers).run()
            else:
                times = Pipeline(frames(), processor, sink, time_of=lambda f: f.time,
                                 out_time=lambda b: b.times[0], batch=plan.batch,
                                 depth=options.queue_depth, finish=writer.finish,
                                 io_nice=options.codec_nice, workers=plan.model_workers).run()
            if sink.frames == 0:
                raise UsageError(f"{source}: no frames in the requested range")
            sink.show_speed(force=True)
    finally:
        torch.set_num_threads(previous_threads)
    return RenderResult(output=output, frames=sink.frames, work_size=work_size, output_size=out_size,
                        device=str(plan.device), precision=processor.runner.precision.value, times=times,
                        source_fps=rate, notes=plan.notes)


def _threads(plan: RuntimePlan) -> str:
    """E.g. ``2 torch thread(s)`` or ``2 model workers x 1 torch thread(s) on alternate frames``."""
    if plan.model_workers == 1:
        return f"{plan.torch_threads} torch thread(s)"
    return f"{plan.model_workers} model workers x {plan.worker_threads} torch thread(s) on alternate frames"


def default_preset(codec: Codec | None, plan: RuntimePlan) -> str | None:
    """The encoder preset a render uses when ``--preset`` is not given: for
    libx264 on CPU :data:`CPU_RENDER_PRESET`, else the writer's default
    (None). An explicit preset always wins."""
    if codec in (None, Codec.H264) and not plan.is_cuda:
        return CPU_RENDER_PRESET
    return None


def _guide_source(model: Stylizer, folder: str | Path | None, source: Path,
                  work_size: tuple[int, int]) -> GuideFolder | GuideStream | None:
    """Where guide channels come from: a folder, or regenerated on the fly for
    models trained with --auto-guides."""
    channels = model.config.guide_channels
    if not channels and folder is not None:
        raise UsageError("the model takes no guide channels; drop guides", params=("guides",))
    if folder is not None:
        return GuideFolder(folder, channels, work_size)
    if not channels:
        return None
    recipe = model.config.info.get("auto_guides")
    if not recipe:
        raise UsageError(f"the model takes {channels} guide channel(s) from a guide folder: give guides, a folder "
                         "with one guide image per frame", params=("guides",))
    info(f"generating guides on the fly (keys {', '.join(map(str, recipe['keys']))}, as in training)")
    return GuideStream(Path(source), recipe, work_size)


def _open_writer(output: Path, source: Path, source_info: VideoInfo, size: tuple[int, int],
                 plan: RuntimePlan, options: RenderOptions) -> Any:
    """The output writer; NVENC on CUDA unless another codec was asked for,
    falling back to libx264 with one line when NVENC cannot open."""
    is_video = source_info.kind is SourceKind.VIDEO
    codec = None if options.codec is None else Codec.parse(options.codec)  # the API takes names too
    if codec is None and plan.is_cuda and output.suffix:
        codec = Codec.H264_NVENC
    kwargs: dict[str, Any] = dict(
        width=size[0], height=size[1], time_base=source_info.time_base, overwrite=options.overwrite)
    if output.suffix:
        kwargs.update(rate=source_info.nominal_fps, start=options.start, end=options.end, crf=options.crf,
                      preset=options.preset or default_preset(codec, plan), threads=plan.encode_threads,
                      audio_from=source if options.audio and is_video and source_info.audio else None)
    if codec is Codec.H264_NVENC:
        try:
            return open_writer(output, codec=codec, **kwargs)
        except Exception as err:  # noqa: BLE001 - no GPU, no driver, session limit
            reason = str(err).split("FFmpeg says:")[-1].strip(" );") if "FFmpeg says" in str(err) else str(err)
            warn(f"NVENC encode unavailable ({reason[:160]}); encoding with libx264")
            codec = Codec.H264
            if output.suffix:  # NVENC's preset names mean nothing to libx264
                kwargs["preset"] = options.preset or default_preset(codec, plan)
    return open_writer(output, codec=codec, **kwargs)


class _Sink:
    """The encode stage: writes each batch and keeps the progress bar current."""

    def __init__(self, writer: Any, bar: Any, rate: float | None, first: int = 0) -> None:
        self.writer, self.bar, self.rate = writer, bar, rate
        self.first = first  # frames before it are warm-up frames: rendered, not written
        self.frames = 0
        self._started = time.perf_counter()
        self._shown = 0.0

    def __call__(self, batch: RenderedBatch) -> None:
        written = 0
        for i, pts in enumerate(batch.pts):
            if batch.indices[i] < self.first:
                continue
            written += 1
            if batch.is_yuv:
                frame = av.VideoFrame.from_ndarray(batch.pixels[i], format="yuv420p")
                self.writer.write_frame(frame, pts=pts)
            else:
                self.writer.write(batch.pixels[i], pts=pts, index=batch.indices[i])
        self.frames += written
        self.bar.update(len(batch.pts))
        self.show_speed()

    def show_speed(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.rate or (not force and now - self._shown < _POSTFIX_EVERY_S):
            return
        self._shown = now
        fps = self.frames / max(now - self._started, 1e-9)
        self.bar.set_postfix_str(f"{fps / self.rate:.2f}x realtime", refresh=False)
