"""Recipe schema: one typed dataclass per section, validated before any work starts.

A recipe is a YAML mapping whose top-level keys are the fields of :class:`Recipe`.
Relative paths are resolved against the recipe file's folder. Every mistake (an
unknown key, a wrong type, a missing file) raises :class:`RecipeError` naming the
recipe and the key path, e.g. ``fewshot.yaml: train.minutes: expected a number,
got 'fast'``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from .._defaults import CRF, FLOW_PRESET, RENDER_PRESET_TEXT, TRAIN_MINUTES
from .._device import Device
from ..errors import UsageError
from ..io import parse_size


class RecipeError(UsageError):
    """A recipe (or a ``--set`` override) is malformed: unknown key, wrong type, missing file."""


class HudMode(enum.Enum):
    """What the pipeline does with a detected HUD (timer, minimap, gauges)."""

    IGNORE = "ignore"     # no detection
    EXCLUDE = "exclude"   # detect; keep it out of the training masks
    KEEP = "keep"         # detect; exclude from training and paste the original HUD back on render


class PathKind(enum.Enum):
    """What a path field must point at when the recipe is validated."""

    FILE = "file"
    DIR = "dir"


def _path(kind: PathKind, help: str) -> object:
    return field(default=None, metadata={"path": kind, "help": help})


def _opt(default: object, help: str) -> object:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class InputSection:
    """The clip to stylize. ``start``/``end`` trim it (seconds); ``size`` ("WxH") is the
    working size of every step; None keeps the source's."""

    video: Path | None = _path(PathKind.FILE, "the gameplay clip (video file)")
    start: float | None = _opt(None, "first second to use")
    end: float | None = _opt(None, "second to stop at (exclusive)")
    size: str | None = _opt(None, "working frame size WxH (default: the source's)")


@dataclass
class KeyframesSection:
    """Painted keyframes: a folder of PNGs named by source frame index, or frames of the
    clip painted by a per-frame stylizer -- a reference filter or neural style (``paint``),
    a style image or a model file -- exactly one of the four. The frames painted are
    ``frames``, or with ``every`` one keyframe in the middle of each span of that many
    seconds."""

    dir: Path | None = _path(PathKind.DIR, "folder of painted keyframes (PNG named by frame index)")
    paint: str | None = _opt(None, "stylizer that paints the keyframes: toon, pixel-art, watercolor or "
                             "neural:N (vidstyle.styles)")
    style_image: Path | None = _path(PathKind.FILE, "paint the keyframes with this picture as the style "
                                     "(the neural extra)")
    model: Path | None = _path(PathKind.FILE, "paint the keyframes with this per-frame model (vidstyle .pt, "
                               "fast_neural_style .pth, .onnx)")
    model_range: int = _opt(1, "an ONNX keyframes.model's input and output scale: 1 = [0, 1], 255 = [0, 255]")
    frames: list[int] = _opt([0], "source frame indices to paint")
    every: float | None = _opt(None, "paint one keyframe per this many seconds instead of 'frames'")

    @property
    def painter(self) -> str | None:
        """The painter spec (vidstyle.styles) that paints the keyframes, if any."""
        if self.paint is None and self.style_image is None and self.model is None:
            return None
        from ..styles import painter_spec

        return painter_spec(self.paint, style_image=self.style_image, model=self.model,
                            model_range=self.model_range)


@dataclass
class MasksSection:
    """Training masks (white = learn here)."""

    dir: Path | None = _path(PathKind.DIR, "folder of masks named by frame index")
    hud: HudMode = _opt(HudMode.IGNORE, "ignore | exclude | keep (exclude and paste back on render)")
    from_keyframe: bool = _opt(False, "mask = the region the painter changed")
    color_key: str | None = _opt(None, "learn only inside this HSV range, e.g. '90-150,40-100,20-100' "
                                 "(hue in degrees, saturation/value in %)")


@dataclass
class GuidesSection:
    """Flow-advected Gaussian noise guides as extra generator inputs."""

    enabled: bool = _opt(False, "generate guides and train/render with them")
    radius: float = _opt(10.0, "Poisson-disk minimum distance (px)")
    sigma: float = _opt(10.0, "blob size (px)")
    seed: int = _opt(0, "random seed of the seeding")


@dataclass
class TrainSection:
    """The few-shot trainer's budget and knobs. Give ``minutes`` or ``steps``."""

    minutes: float | None = _opt(TRAIN_MINUTES, "training budget in minutes (wall time)")
    steps: int | None = _opt(None, "training budget in steps (overrides minutes)")
    temporal_weight: float | None = _opt(None, "temporal consistency weight (0 = off; None = trainer default)")
    texture_weight: float | None = _opt(None, "texture loss weight (0 = L1 alone, a blur; None = trainer default)")
    detail_gain: float | None = _opt(None, "temporal stage's detail restoration gain limit "
                                     "(1 = off; None = trainer default)")
    detail_sampling: float | None = _opt(None, "share of training patches drawn by the painting's detail "
                                         "(0 = uniform; None = trainer default)")
    mirror: float | None = _opt(None, "share of training patches mirrored left-right with their painting "
                                "(0 = none; None = trainer default, 0.5 with line_art)")
    fusion_flow: str | None = _opt(None, "DIS preset of the temporal stage's motion, in training and at render "
                                   "(None = trainer default)")
    edges: bool = _opt(False, "give the generator the source's structural edges as one more input "
                       "(fast; for line-art styles)")
    line_art: bool = _opt(False, "the preset for line-art styles: the edge input, and the line-art texture "
                          "weight, detail sampling and mirroring where those are null (fast)")
    arch: str | None = _opt(None, "generator design (None = the default design)")
    size: str | None = _opt(None, "training frame size WxH (None = the working size)")
    seed: int = _opt(0, "random seed")


@dataclass
class RenderSection:
    """How the stylized video is rendered and encoded."""

    model: Path | None = _path(PathKind.FILE, "an existing model: skip training and render with it")
    codec: str = _opt("h264", "h264, h265, h264_nvenc or ffv1")
    crf: int = _opt(CRF, "encoder quality (x264/x265 CRF, NVENC CQ)")
    preset: str | None = _opt(None, f"encoder preset (null = the renderer's: {RENDER_PRESET_TEXT})")
    audio: bool = _opt(True, "copy the source's audio")
    stabilize: float = _opt(0.0, "run-time temporal blending strength (0 = off)")
    hold_stretch: float | None = _opt(None, "the learned temporal stage's stretch limit (null = the model's, "
                                            "0 = hold regardless)")
    batch: int | None = _opt(None, "frames per model call (None = the device's default)")
    comparison: bool = _opt(True, "also write a side-by-side input | output video")


@dataclass
class ReportSection:
    """The flicker measurement and the HTML report."""

    flicker: bool = _opt(True, "measure E_warp of source, reference and output")
    flow_preset: str = _opt(FLOW_PRESET, "DIS preset for the flicker flow (ultrafast, fast, medium)")
    max_frames: int | None = _opt(None, "measure only the first N frames")
    reference_style: str | None = _opt(None, "per-frame reference stylizer (default: the keyframes' painter)")
    reference_video: Path | None = _path(PathKind.FILE, "a per-frame reference video to compare with")
    html: bool = _opt(True, "write report.html")
    stills: int = _opt(5, "frames from across the clip shown in the report")


@dataclass
class Recipe:
    """A whole pipeline recipe. ``source`` is the file it was read from (None when built in code)."""

    name: str = _opt("recipe", "a short name, used for the default output folder")
    description: str = _opt("", "one line on what the recipe does")
    device: Device = _opt(Device.AUTO, "auto | cpu | cuda")
    input: InputSection = field(default_factory=InputSection)
    keyframes: KeyframesSection = field(default_factory=KeyframesSection)
    masks: MasksSection = field(default_factory=MasksSection)
    guides: GuidesSection = field(default_factory=GuidesSection)
    train: TrainSection = field(default_factory=TrainSection)
    render: RenderSection = field(default_factory=RenderSection)
    report: ReportSection = field(default_factory=ReportSection)
    source: Path | None = field(default=None, metadata={"internal": True})

    @property
    def trains(self) -> bool:
        """True when this recipe trains a model (no ``render.model`` given)."""
        return self.render.model is None

    @property
    def reference_style(self) -> str | None:
        """The painter spec that gives the per-frame reference (ground truth or baseline), if any."""
        return self.report.reference_style or self.keyframes.painter

    @property
    def working_size(self) -> tuple[int, int] | None:
        return None if self.input.size is None else parse_size(self.input.size)


SECTIONS: dict[str, type] = {
    "input": InputSection, "keyframes": KeyframesSection, "masks": MasksSection,
    "guides": GuidesSection, "train": TrainSection, "render": RenderSection, "report": ReportSection,
}
