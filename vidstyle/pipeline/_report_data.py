"""Plain records a report is built from, independent of how it is drawn.

The pipeline's ``report`` step fills a :class:`ReportData` from its cache entries;
:func:`vidstyle.pipeline.render_report` turns one into a self-contained HTML page.
Tests build these by hand.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .._shapes import check_shape


@dataclass
class Still:
    """One image with a caption: (H, W, 3) uint8 RGB."""

    label: str
    rgb: np.ndarray

    def __post_init__(self) -> None:
        check_shape(self.rgb, "H, W, 3", f"still {self.label!r}", dtype=np.uint8)


@dataclass
class StillRow:
    """Images shown side by side (e.g. input | keyframe | output of one frame)."""

    caption: str
    stills: list[Still]


@dataclass
class Series:
    """One line of a chart; ``x`` defaults to 0, 1, 2, ... Non-finite points are gaps."""

    label: str
    y: Sequence[float | None]
    x: Sequence[float] | None = None

    def points(self) -> list[tuple[float, float]]:
        xs = range(len(self.y)) if self.x is None else self.x
        if len(xs) != len(self.y):
            raise ValueError(f"series {self.label!r}: {len(xs)} x values for {len(self.y)} y values")
        return [(float(x), math.nan if y is None else float(y)) for x, y in zip(xs, self.y)]


@dataclass
class Chart:
    """A line chart: drawn as inline SVG."""

    title: str
    x_label: str
    y_label: str
    series: list[Series]
    log_y: bool = False
    marks: list[tuple[float, str]] = field(default_factory=list)  # vertical markers (x, label)

    def is_empty(self) -> bool:
        return not any(any(math.isfinite(y) for _, y in s.points()) for s in self.series)


@dataclass
class Table:
    """A small table; cells are strings, numbers (formatted to 4 significant digits) or None."""

    columns: list[str]
    rows: list[list[str | float | int | None]]
    caption: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table row {row!r} has {len(row)} cells for {len(self.columns)} columns")


@dataclass
class FlickerSection:
    """E_warp per pair of frames for source, per-frame reference and output, with the
    table of means and the protocol those numbers were measured under."""

    chart: Chart
    table: Table
    protocol: list[str]   # one line per figure: flow, mask, scale, normalisation
    notes: list[str] = field(default_factory=list)
    texture: Table | None = None          # detail ratio and texture distance vs reference / keyframes
    texture_chart: Chart | None = None    # texture distance per frame


@dataclass
class TrainingSection:
    """The loss curve and a few facts about the training run."""

    chart: Chart | None
    facts: Table


@dataclass
class Timing:
    """One step of the run: seconds spent now, and what computing it cost."""

    step: str
    description: str
    seconds: float
    cached: bool
    computed_seconds: float


@dataclass
class ReportData:
    """Everything a report shows. Sections left None are shown as "not in this run"."""

    title: str
    subtitle: str = ""
    overview: StillRow | None = None           # input | keyframe | output
    frames: list[StillRow] = field(default_factory=list)  # frames from across the clip
    crops: list[StillRow] = field(default_factory=list)   # same region at 100 %: keyframe | far output
    flicker: FlickerSection | None = None
    training: TrainingSection | None = None
    timings: list[Timing] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # name -> relative link
    recipe_text: str = ""
    notes: list[str] = field(default_factory=list)


def collect_environment(device: str) -> dict[str, str]:
    """Versions of the libraries that produced the numbers, and the device."""
    import av
    import cv2
    import torch

    from .. import __version__

    env = {
        "vidstyle": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "PyAV (FFmpeg)": f"{av.__version__} ({_ffmpeg_version()})",
        "OpenCV": cv2.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(terse=True),
        "CPU cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        env["GPU"] = torch.cuda.get_device_name(0)
        env["CUDA"] = str(torch.version.cuda)
    return env


def _ffmpeg_version() -> str:
    import av

    try:
        major_minor = av.library_versions.get("libavformat")
        return f"libavformat {'.'.join(map(str, major_minor))}" if major_minor else "FFmpeg"
    except Exception:  # an old PyAV without library_versions
        return "FFmpeg"
