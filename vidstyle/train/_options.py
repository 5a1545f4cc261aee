"""``TrainOptions``: everything :func:`vidstyle.train.train` (and ``vidstyle train``) can be told."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .._defaults import DESIGN, LINE_ART

if TYPE_CHECKING:
    from ..flow import FlowCache

# The knobs that make_settings() takes: None = the design's default (vidstyle._defaults).
SETTING_KNOBS = ("temporal_weight", "compound_weight", "propagation_weight", "pair_weight", "fusion_weight",
                 "gan_weight", "texture_weight", "detail_gain", "colour_calibration",
                 "detail_sampling", "mirror", "fusion_flow", "lr", "patch_size", "batch_size", "seed", "lr_decay_start")


@dataclass(kw_only=True)
class TrainOptions:
    """How to train, besides the clip, the keyframes and the output; the defaults are what users want.

    ``masks``, ``guides``: PNG folders named by frame index; ``auto_guides``
    generates guides with :mod:`vidstyle.guides`. ``size`` is the training frame
    size (W, H), default the input's; ``start``/``end`` train on the frames in
    [start, end) seconds only (keyframe names stay source frame indices).
    ``minutes``/``steps`` is the budget, whichever comes first (``steps`` counts
    from the start, also across ``resume``; with neither,
    :data:`vidstyle.train.DEFAULT_MINUTES`); ``cpu_minutes`` budgets process CPU
    time instead of wall time (for benchmarks on shared machines).

    Each weight, ``lr``, ``patch_size``, ``batch_size`` and ``lr_decay_start``
    left at None is the design's default (``arch``; the table in
    ``vidstyle/_defaults.py``, which ``vidstyle train --help`` lists).
    ``temporal_weight`` scales every temporal term (0 = off, a per-frame model):
    the keyframes propagated by flow to their neighbours (x
    ``propagation_weight``, patches per keyframe patch), the occlusion-masked
    warping loss between outputs of frame pairs (x ``pair_weight``) and the
    learned temporal stage trained after the generator (x ``fusion_weight``, the
    lambda of its warping loss). ``compound_weight`` weighs the flow-free
    compound regulariser, ``texture_weight`` the patch-distribution loss that
    keeps the painted texture (0 = L1 alone), ``gan_weight`` the PatchGAN.
    ``detail_gain`` caps the gain by which the temporal stage restores the fine
    band its blend averaged away (1 = a plain blend; :func:`vidstyle.models.restore_detail`).
    ``colour_calibration`` is the strength (0-1, 0 = off) of the colour map fitted on
    the painted keyframes and folded into the generator after its steps
    (:func:`vidstyle.train.calibrate_colours`). ``detail_sampling`` is the share (0-1, 0 =
    uniform, Texler's) of the training patches drawn where the painting has the most
    gradient energy (:class:`~vidstyle.train.PatchSampler`). ``mirror`` is the share (0-1) of
    them mirrored left-right, each with its painting (:func:`~vidstyle.train.mirror_patches`): more
    to learn from a keyframe, for styles whose strokes have no handedness. ``fusion_flow`` is the DIS
    preset (:class:`~vidstyle.flow.FlowPreset` name) of the temporal stage's motion; the
    checkpoint records it and the renderer estimates motion the same way.

    ``arch_options`` are the design's build options for a new model (None = its
    defaults; e.g. ``{"antialias": True}`` for ``fast`` with a low-pass before
    subsampling); the checkpoint records them and a resumed run keeps its own.
    ``edges`` gives a new ``fast`` model the source's structural edges as one more
    input (build options ``vidstyle._defaults.EDGE_INPUT``; :class:`vidstyle.models.FastGenerator`):
    for line-art styles, whose ink follows them. ``line_art`` is the preset for them: the edge
    input, and ``vidstyle._defaults.LINE_ART``'s texture weight, detail sampling and mirror where those
    are None.

    ``precision`` is ``auto`` (bf16 autocast where the GPU or CPU computes bf16
    natively, else fp32), ``fp32`` or ``bf16``; the weights stay fp32.
    ``resume`` continues from the output checkpoint (step count, optimisers,
    RNG). ``preview_every`` writes preview PNGs every K steps (0 = only the final
    contact sheet, which needs an output). ``threads``: CPU threads (default the
    idle cores). ``flow_cache``: a :class:`vidstyle.flow.FlowCache` (or its
    folder) for the temporal pairs' flows. ``callback`` is called with each
    step's loss record.
    """

    masks: str | Path | None = None
    guides: str | Path | None = None
    auto_guides: bool = False
    size: tuple[int, int] | None = None
    start: float | None = None
    end: float | None = None
    minutes: float | None = None
    steps: int | None = None
    cpu_minutes: float | None = None
    temporal_weight: float | None = None
    compound_weight: float | None = None
    propagation_weight: float | None = None
    pair_weight: float | None = None
    fusion_weight: float | None = None
    gan_weight: float | None = None
    texture_weight: float | None = None
    detail_gain: float | None = None
    colour_calibration: float | None = None
    detail_sampling: float | None = None
    mirror: float | None = None
    fusion_flow: str | None = None
    arch: str = DESIGN
    arch_options: dict[str, Any] | None = None
    edges: bool = False
    line_art: bool = False
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    resume: bool = False
    preview_every: int = 0
    preview_frames: list[int] | None = None
    vgg_weights: str | Path | None = None
    overwrite: bool = False
    lr: float | None = None
    patch_size: int | None = None
    batch_size: int | None = None
    lr_decay_start: float | None = None
    threads: int | None = None
    flow_cache: FlowCache | str | Path | None = None
    callback: Callable[[dict[str, float]], None] | None = None

    def setting_overrides(self) -> dict[str, Any]:
        """The knobs :func:`vidstyle.train.make_settings` takes (None = the design's default)."""
        knobs = {name: getattr(self, name) for name in SETTING_KNOBS}
        if self.line_art:
            knobs.update({name: value for name, value in LINE_ART.items() if knobs[name] is None})
        return knobs

    @property
    def edge_input(self) -> bool:
        """Whether a new ``fast`` model gets the edge input (``edges``, or ``line_art``)."""
        return self.edges or self.line_art
