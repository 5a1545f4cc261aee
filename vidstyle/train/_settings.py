"""Training settings, the per-step loss record and the result record."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from .._cpu import cpu_has_native_bf16, idle_cores
from .._defaults import DETAIL_GAIN, DETAIL_SAMPLING, FUSION_FLOW, TEMPORAL_WEIGHT, TRAIN_MINUTES, design_settings
from .._precision import Precision
from ..errors import UsageError
from ..flow import FlowPreset
from ..models import Stylizer

# The training defaults live with every other default in vidstyle._defaults (one source for
# the library, --help, the recipe schema and the docs); the reasons for each design's are there.
DEFAULT_MINUTES = TRAIN_MINUTES
DEFAULT_TEMPORAL_WEIGHT = TEMPORAL_WEIGHT


@dataclass
class TrainSettings:
    """Hyper-parameters; JSON-serialisable, stored in the checkpoint.

    Loss weights are relative to the L1 reconstruction loss (weight 1); Texler's
    4 L1 + 6 VGG + 0.5 GAN becomes 1 : 1.5 : 0.125.
    """

    arch: str = "fast"
    lr: float = 2e-3
    patch_size: int = 32
    batch_size: int = 40
    gan_weight: float = 0.0
    vgg_weight: float = 1.5
    texture_weight: float = 0.0     # patch sliced Wasserstein loss (vidstyle.train._texture), x L1
    grad_clip: float = 0.0          # clip the generator's gradient norm to this (0 = never)
    temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT  # scales both temporal terms (0 = off)
    pair_weight: float = 1.0        # output-pair warping loss, x temporal_weight
    compound_weight: float = 0.0
    temporal_pairs: int = 48        # frame pairs with precomputed flow
    temporal_batch: int = 2         # pairs per temporal step
    temporal_every: int = 1         # apply the temporal term every k-th step (weight x k)
    temporal_start: float = 0.0     # fraction of the budget before the temporal term starts
    temporal_crop: int = 48         # px, crop of frame a (frame b gets a margin)
    temporal_margin: int = 12
    propagation_weight: float = 1.0  # patches of each propagated frame vs a keyframe's, x temporal_weight
    propagation_offsets: tuple[int, ...] = (1, 2, 4, 8)
    fusion_weight: float = 2.0       # learned temporal stage: lambda of its warping loss, x temporal_weight
    fusion_share: float = 0.15       # of a time budget, for the temporal stage (after the generator)
    fusion_steps: int = 300          # at most
    fusion_flow: str = FUSION_FLOW   # DIS preset of its motion, in training and at render
    fusion_lr: float = 2e-3
    detail_gain: float = DETAIL_GAIN  # the stage's restore_detail gain limit (1 = off)
    colour_calibration: float = 0.0  # strength of the keyframe colour map folded in after the steps (0 = off)
    detail_sampling: float = DETAIL_SAMPLING  # share of patches drawn by the painting's gradient energy (0 = uniform)
    mirror: float = 0.0              # share of patches mirrored left-right, with their painting (0 = none)
    fusion_sequences: int = 12       # runs of consecutive frames it trains on
    fusion_unroll: int = 4           # frames per run after the first
    fusion_crop: int = 128           # px, plus fusion_margin on each side
    fusion_margin: int = 16
    lr_decay_start: float = 0.3     # fraction of the budget after which lr decays to 10 % (1 = never)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_settings(arch: str, **overrides: Any) -> TrainSettings:
    defaults = design_settings(arch)
    defaults.update({k: v for k, v in overrides.items() if v is not None})
    try:  # stored by name, as the checkpoint's FusionConfig records it ("Medium" -> "medium")
        defaults["fusion_flow"] = FlowPreset.parse(defaults.get("fusion_flow", FUSION_FLOW)).value
    except UsageError as err:
        raise UsageError(f"fusion_flow: {err}", params=("fusion_flow",)) from None
    settings = TrainSettings(arch=arch, **defaults)
    weights = {"temporal": settings.temporal_weight, "compound": settings.compound_weight,
               "propagation": settings.propagation_weight, "pair": settings.pair_weight,
               "fusion": settings.fusion_weight, "gan": settings.gan_weight, "texture": settings.texture_weight}
    for name, weight in weights.items():
        if weight < 0:
            raise UsageError(f"{name}_weight must not be negative (got {weight:g})", params=(f"{name}_weight",))
    if not settings.detail_gain >= 1:
        raise UsageError(f"detail_gain must be at least 1 (1 = off; got {settings.detail_gain:g})",
                         params=("detail_gain",))
    if not 0 <= settings.colour_calibration <= 1:
        raise UsageError(f"colour_calibration must be in [0, 1] (0 = off; got {settings.colour_calibration:g})",
                         params=("colour_calibration",))
    if not 0 <= settings.detail_sampling <= 1:
        raise UsageError(f"detail_sampling must be in [0, 1] (0 = uniform; got {settings.detail_sampling:g})",
                         params=("detail_sampling",))
    if not 0 <= settings.mirror <= 1:
        raise UsageError(f"mirror must be in [0, 1] (0 = no patch mirrored; got {settings.mirror:g})",
                         params=("mirror",))
    if not 0 <= settings.fusion_share < 1:
        raise UsageError(f"fusion_share must be in [0, 1) (got {settings.fusion_share:g})")
    if settings.patch_size < 16:
        raise UsageError(f"patch_size {settings.patch_size} is too small (at least 16)", params=("patch_size",))
    if not settings.lr > 0:
        raise UsageError(f"lr must be positive (got {settings.lr:g})", params=("lr",))
    if settings.batch_size < 1:
        raise UsageError(f"batch_size must be at least 1 (got {settings.batch_size})", params=("batch_size",))
    return settings


@dataclass
class TrainResult:
    """What :func:`vidstyle.train.train` returns.

    ``history`` has one dict per step: ``step``, ``seconds`` (training time so
    far), ``total`` and each active loss (``l1``, ``gan``, ``vgg``,
    ``temporal``, ``compound``, ``discriminator``). ``temporal_stage``
    summarises the learned temporal stage's training (empty when it has none).
    """

    model: Stylizer
    output: Path | None
    steps: int
    seconds: float
    stopped_by: str                      # "steps" or "time"
    losses: list[str]
    keyframes: list[int]
    history: list[dict[str, float]] = field(default_factory=list)
    previews: list[Path] = field(default_factory=list)
    contact_sheet: Path | None = None
    settings: TrainSettings | None = None
    temporal_stage: dict[str, float] = field(default_factory=dict)  # steps, seconds, loss, blend_weight


def training_numerics(device: torch.device, precision: Precision | str = Precision.AUTO, *,
                      cpu_channels_last: bool = False
                      ) -> tuple[Precision, contextlib.AbstractContextManager[Any], bool]:
    """(precision, autocast context, channels_last) for the generator's steps.

    ``auto`` is bf16 autocast in channels_last on GPUs with bf16 and on CPUs that
    compute bf16 natively (AMX, AVX512-BF16: a ``fast`` step at the default batch
    ran 1.6x faster than fp32 there, docs/BENCHMARKS.md), fp32 elsewhere. fp32 runs
    channels_last on GPUs, and on the CPU for designs that are faster so
    (``cpu_channels_last``: a ``fast`` step of batch 8 took 33 ms against 39 ms
    contiguous on one AVX2 core).
    """
    chosen = Precision.parse(precision)
    if chosen is Precision.FP16:  # would need loss scaling; bf16 has fp32's range
        raise UsageError("training runs in fp32 or bf16 (precision auto, fp32 or bf16), not fp16",
                         params=("precision",))
    if chosen is Precision.AUTO:
        native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_native_bf16()
        chosen = Precision.BF16 if native else Precision.FP32
    if chosen is Precision.FP32:
        return chosen, contextlib.nullcontext(), device.type == "cuda" or cpu_channels_last
    return chosen, torch.autocast(device.type, dtype=torch.bfloat16), True


def cpu_threads() -> int:
    """Threads for CPU training: the idle cores (see :func:`vidstyle._cpu.idle_cores`)."""
    return idle_cores()


@contextlib.contextmanager
def thread_scope(device: torch.device, threads: int | None):  # type: ignore[no-untyped-def]
    """Set the CPU thread count for training (default :func:`cpu_threads`); restore it afterwards."""
    before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(threads or cpu_threads())
    try:
        yield
    finally:
        torch.set_num_threads(before)
