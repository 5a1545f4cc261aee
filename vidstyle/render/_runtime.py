"""Where and how the model runs: device, precision, memory format, thread split,
and the hardware decoder/encoder, each falling back with one line when missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import torch

from .._cpu import available_cores, cpu_has_native_bf16, idle_cores
from .._device import Device, resolve_device
from .._precision import Precision
from ..errors import UsageError
from ..models import Stylizer, get_architecture
from ..progress import warn

# Model workers a CPU render runs by default (when it has the threads). On 2 cores two workers
# of one intra-op thread each, on alternate frames, rendered 1.4x as fast as one worker of two
# threads (BENCHMARKS.md), presumably because no worker waits at an OpenMP barrier for a thread
# that a codec thread has taken the core from. More than two were not measured.
AUTO_CPU_WORKERS = 2


@dataclass(frozen=True)
class RuntimePlan:
    """The resolved execution settings of one render.

    ``torch_threads`` PyTorch threads for the model in all, split evenly
    between ``model_workers`` (threads running the model on alternate batches,
    each with :attr:`worker_threads` intra-op threads); ``decode_threads`` and
    ``encode_threads`` for FFmpeg (None = FFmpeg's choice); ``motion_workers``
    threads estimate the learned temporal stage's motion ahead of the model (1 = in
    the decode thread, frame by frame). ``notes`` are the fallbacks taken, already
    printed as warnings.
    """

    device: torch.device
    precision: Precision
    channels_last: bool
    torch_threads: int
    decode_threads: int | None
    encode_threads: int | None
    batch: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    model_workers: int = 1
    motion_workers: int = 1

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def worker_threads(self) -> int:
        """Intra-op threads of each model worker."""
        return max(1, self.torch_threads // self.model_workers)


def resolve_runtime(device: "str | Device | torch.device" = Device.AUTO,
                    precision: "str | Precision" = Precision.AUTO, *, batch: int | None = None,
                    channels_last: bool | None = None, threads: int | None = None,
                    model: Stylizer | None = None, workers: int | None = None,
                    independent_frames: bool = True) -> RuntimePlan:
    """Turn the user's choices into a :class:`RuntimePlan`, falling back (with one
    warning line each) where this machine cannot do what was asked. ``model``
    lets the memory format follow its architecture on CPU
    (:attr:`~vidstyle.models.Architecture.cpu_channels_last`). ``workers``: model
    workers on CPU (None = :data:`AUTO_CPU_WORKERS` when the frames are
    ``independent_frames``, i.e. no output depends on the previous one, and
    there are threads to split)."""
    notes: list[str] = []

    def fallback(message: str, params: tuple[str, ...] = ()) -> None:
        notes.append(message)
        warn(message, params=params)

    torch_device = resolve_device(device, fallback=fallback)
    use_cuda = torch_device.type == "cuda"

    chosen = Precision.parse(precision)
    if chosen is Precision.AUTO:
        chosen = Precision.FP16 if use_cuda else (Precision.BF16 if cpu_has_native_bf16() else Precision.FP32)
    if not use_cuda and chosen is Precision.FP16:
        fallback("fp16 inference needs CUDA; using fp32 on CPU (bf16 is the CPU's half precision)")
        chosen = Precision.FP32
    if use_cuda and chosen is Precision.BF16 and not torch.cuda.is_bf16_supported():
        fallback("this GPU has no bf16; using fp16")
        chosen = Precision.FP16

    if batch is not None and batch < 1:
        raise UsageError(f"batch must be at least 1 (got {batch})", params=("batch",))
    if threads is not None and threads < 1:
        raise UsageError(f"threads must be at least 1 (got {threads})", params=("threads",))
    if workers is not None and workers < 1:
        raise UsageError(f"workers must be at least 1 (got {workers})", params=("workers",))
    cores = available_cores()
    if use_cuda:
        # The GPU does the maths; the CPU's cores go to the codecs and colour conversion.
        torch_threads = threads or 1
        codec_threads = max(1, (cores - 1) // 2)
        if workers is not None and workers > 1:
            fallback(f"workers={workers} is for CPU renders; running one model worker on CUDA", params=("workers",))
        # The stage's motion (DIS, 40 ms a frame on one core at 640x360 with medium) would hold
        # a GPU render to about 20 fps in the decode thread: it gets the codecs' share of cores.
        return RuntimePlan(torch_device, chosen, True if channels_last is None else channels_last,
                           torch_threads, codec_threads, codec_threads, batch or 8, tuple(notes),
                           motion_workers=codec_threads)
    # On CPU the codecs get one thread each (two on big machines) and the model every
    # idle core. With a bf16 model the codecs are about a third of the CPU time at
    # 640x480, yet on 2 cores neither leaving them a core (1 torch thread) nor running
    # them at low priority rendered measurably faster than this plan (BENCHMARKS.md).
    codec_threads = 1 if cores <= 4 else 2
    torch_threads = threads or idle_cores()
    if channels_last is None:
        channels_last = model is not None and get_architecture(model.config.arch).cpu_channels_last
    if workers is None:
        workers = min(AUTO_CPU_WORKERS, torch_threads) if independent_frames else 1
    elif workers > 1 and not independent_frames:
        fallback(f"workers={workers} needs frames that do not depend on each other (not with "
                 "compile=True); running one model worker", params=("workers", "compile"))
        workers = 1
    if threads is not None and workers > threads:
        raise UsageError(f"workers={workers} needs at least as many threads (got {threads}): each "
                         "model worker runs on its own thread", params=("workers", "threads"))
    torch_threads = max(torch_threads, workers)  # asked for explicitly: more workers than idle cores
    return RuntimePlan(torch_device, chosen, channels_last, torch_threads, codec_threads,
                       codec_threads, batch or 1, tuple(notes), model_workers=workers)


def nvdec_hwaccel(source: Path) -> "av.codec.hwaccel.HWAccel | None":
    """An NVDEC ``HWAccel`` for ``source`` if it decodes there, else None after
    one warning line. Frames are downloaded to system memory after decoding."""
    from av.codec.hwaccel import HWAccel, hwdevices_available

    if "cuda" not in hwdevices_available():
        warn("NVDEC decode unavailable (FFmpeg build has no CUDA); decoding on CPU")
        return None
    hwaccel = HWAccel(device_type="cuda", allow_software_fallback=True)
    try:
        with av.open(str(source), hwaccel=hwaccel) as container:
            next(container.decode(video=0), None)
    except (av.error.FFmpegError, OSError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        warn(f"NVDEC decode unavailable ({reason}); decoding on CPU")
        return None
    return hwaccel
