"""Per-frame texture figures of a stylized clip (detail ratio, texture distance) and its worst stretches."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._numbers import finite_mean, json_number, json_series
from ._texture import TEXTURE_LEVELS, TEXTURE_PROJECTIONS, TEXTURE_QUANTILES, TEXTURE_SAMPLES

STRETCHES = 3  # worst stretches listed


class TextureAgainst(enum.Enum):
    """What each output frame is compared with."""

    REFERENCE = "reference"  # the same frame of a per-frame reference (e.g. a per-frame stylization)
    KEYFRAMES = "keyframes"  # the nearest painted keyframe: style drift, no reference needed


@dataclass(frozen=True)
class Stretch:
    """A run of frames where the texture distance stays high (frames ``first`` to ``last`` inclusive)."""

    first: int
    last: int
    first_time: float | None
    last_time: float | None
    texture_distance: float      # mean over the stretch's measured frames
    peak: float                  # the highest texture distance in it
    peak_frame: int
    detail_ratio: float | None   # mean over the stretch's frames
    keyframe: int | None         # the keyframe its frames were compared with (keyframes mode), at the peak
    strokes: float | None = None  # the texture distance's band-pass levels, mean over the stretch
    colours: float | None = None  # its coarse level (colours and large shapes), mean over the stretch

    def to_dict(self) -> dict[str, Any]:
        return {"first_frame": self.first, "last_frame": self.last, "first_time": self.first_time,
                "last_time": self.last_time, "texture_distance": self.texture_distance, "peak": self.peak,
                "peak_frame": self.peak_frame, "detail_ratio": json_number(self.detail_ratio),
                "keyframe": self.keyframe, "stroke_distance": json_number(self.strokes),
                "colour_distance": json_number(self.colours)}

    def describe(self) -> str:
        when = "" if self.first_time is None or self.last_time is None else \
            f" ({self.first_time:.2f}-{self.last_time:.2f} s)"
        detail = "" if self.detail_ratio is None else f", detail ratio {self.detail_ratio:.2f}"
        key = "" if self.keyframe is None else f" vs keyframe {self.keyframe}"
        frames = f"frame {self.first}" if self.first == self.last else f"frames {self.first}-{self.last}"
        if self.first == self.last and self.first_time is not None:
            when = f" ({self.first_time:.2f} s)"
        split = "" if self.strokes is None or self.colours is None else \
            f"; strokes {self.strokes:.3g}, colours {self.colours:.3g}"
        return (f"{frames}{when}: texture distance {self.texture_distance:.3g} "
                f"(peak {self.peak:.3g} at frame {self.peak_frame}{split}){detail}{key}")


@dataclass(frozen=True)
class TextureScores:
    """Detail ratio (every frame) and texture distance (every ``every``-th frame) of the stylized
    clip against a reference clip or the painted keyframes. Arrays are aligned per frame."""

    against: TextureAgainst
    path: str | None               # the reference clip or keyframe folder
    size: tuple[int, int]          # (W, H) both sides were compared at
    every: int
    frames: np.ndarray             # (N,) frame index
    times: np.ndarray              # (N,) seconds; NaN when unknown
    detail_ratio: np.ndarray       # (N,) output gradient energy / reference's; NaN if the reference is flat
    texture_distance: np.ndarray   # (N,) NaN on frames not measured
    keyframe: np.ndarray | None = None  # (N,) the keyframe each frame was compared with (keyframes mode)
    keyframes: tuple[int, ...] = field(default_factory=tuple)
    by_appearance: bool = False  # keyframes mode: each frame's keyframe is the one nearest in appearance
    # The texture distance split (vidstyle.metrics.level_distances): the mean of its band-pass levels
    # (the strokes) and its coarse level (colours and large shapes); (N,), NaN where not measured.
    stroke_distance: np.ndarray | None = None
    colour_distance: np.ndarray | None = None

    @property
    def mean_detail_ratio(self) -> float | None:
        return finite_mean(self.detail_ratio)

    @property
    def mean_texture_distance(self) -> float | None:
        return finite_mean(self.texture_distance)

    @property
    def mean_stroke_distance(self) -> float | None:
        return None if self.stroke_distance is None else finite_mean(self.stroke_distance)

    @property
    def mean_colour_distance(self) -> float | None:
        return None if self.colour_distance is None else finite_mean(self.colour_distance)

    @property
    def measured(self) -> int:
        """Frames with a texture distance."""
        return int(np.isfinite(self.texture_distance).sum())

    def stretches(self, count: int = STRETCHES) -> list[Stretch]:
        """The ``count`` worst runs of frames by texture distance, worst first.

        Each starts at the highest measured frame not yet in a stretch and grows over
        neighbouring measured frames while they stay above halfway between the clip's
        median and that peak; only peaks above the median start one.
        """
        measured = np.flatnonzero(np.isfinite(self.texture_distance))
        values = self.texture_distance[measured]
        if values.size == 0:
            return []
        median = float(np.median(values))
        used = np.zeros(len(values), bool)
        found: list[Stretch] = []
        while len(found) < count:
            candidates = np.where(used, -np.inf, values)
            peak = int(np.argmax(candidates))
            if not candidates[peak] > median:
                break
            level = (median + float(values[peak])) / 2
            low = high = peak
            while low > 0 and not used[low - 1] and values[low - 1] >= level:
                low -= 1
            while high < len(values) - 1 and not used[high + 1] and values[high + 1] >= level:
                high += 1
            used[low:high + 1] = True
            found.append(self._stretch(int(measured[low]), int(measured[high]), int(measured[peak])))
        return found

    def _stretch(self, first: int, last: int, peak: int) -> Stretch:
        def time(k: int) -> float | None:
            return None if math.isnan(self.times[k]) else float(self.times[k])

        span = slice(first, last + 1)
        return Stretch(int(self.frames[first]), int(self.frames[last]), time(first), time(last),
                       float(np.nanmean(self.texture_distance[span])), float(self.texture_distance[peak]),
                       int(self.frames[peak]), finite_mean(self.detail_ratio[span]),
                       None if self.keyframe is None else int(self.keyframe[peak]),
                       None if self.stroke_distance is None else finite_mean(self.stroke_distance[span]),
                       None if self.colour_distance is None else finite_mean(self.colour_distance[span]))

    def protocol(self) -> dict[str, str]:
        """One line per figure, as :attr:`FlickerReport.protocol`."""
        width, height = self.size
        if self.against is TextureAgainst.REFERENCE:
            other = "the same frame of the reference"
        else:
            listing = ("keyframe " if len(self.keyframes) == 1 else "keyframes ") + \
                ", ".join(map(str, self.keyframes))
            how = ("in appearance of the source frame (the measure of vidstyle.shots.find_coverage"
                   if self.by_appearance else "in time (ties: the earlier")
            other = f"the painted keyframe nearest {how}; {listing} of {self.path})"
        measured = "every frame" if self.every == 1 else f"every {self.every}th frame"
        return {
            "detail_ratio": f"detail ratio: mean Sobel gradient magnitude (3x3) of BT.709 luma of each output "
                            f"frame / that of {other}, both at {width}x{height}; 1 = as much edge and stroke "
                            f"detail, < 1 = blurrier; mean of {len(self.frames)} frames",
            "texture_distance": f"texture distance: multi-scale sliced Wasserstein (Karras et al. 2018) between "
                                f"the 7x7 RGB patches of each output frame and of {other}, {TEXTURE_LEVELS}-level "
                                f"Laplacian pyramid, up to {TEXTURE_SAMPLES} seeded patches per level, "
                                f"{TEXTURE_PROJECTIONS} fixed random directions, {TEXTURE_QUANTILES} quantiles, "
                                f"[0,1] RGB x1000, 0 = same texture; {measured} ({self.measured} frames), mean",
            "stroke_distance": f"its split: strokes = the mean of its {TEXTURE_LEVELS - 1} band-pass levels, "
                               f"colours = its coarse Gaussian level (colours and large shapes); the texture "
                               f"distance is the mean of all {TEXTURE_LEVELS} levels",
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.against.value, "path": self.path, "size": list(self.size), "every": self.every,
            "keyframes": list(self.keyframes),
            "keyframe_by": ("appearance" if self.by_appearance else "time") if self.keyframes else None,
            "detail_ratio": json_number(self.mean_detail_ratio),
            "texture_distance": json_number(self.mean_texture_distance),
            "stroke_distance": json_number(self.mean_stroke_distance),
            "colour_distance": json_number(self.mean_colour_distance),
            "measured_frames": self.measured,
            "protocol": self.protocol(),
            "stretches": [s.to_dict() for s in self.stretches()],
            "per_frame": {"frame": [int(i) for i in self.frames], "time": json_series(self.times),
                          "detail_ratio": json_series(self.detail_ratio),
                          "texture_distance": json_series(self.texture_distance),
                          "stroke_distance": None if self.stroke_distance is None else
                          json_series(self.stroke_distance),
                          "colour_distance": None if self.colour_distance is None else
                          json_series(self.colour_distance),
                          "keyframe": None if self.keyframe is None else [int(k) for k in self.keyframe]},
        }

    def csv_columns(self) -> dict[str, np.ndarray]:
        """Per-frame columns named for the CSV (``..._ref`` or ``..._keyframes``)."""
        tag = "ref" if self.against is TextureAgainst.REFERENCE else "keyframes"
        columns = {f"detail_ratio_{tag}": self.detail_ratio, f"texture_distance_{tag}": self.texture_distance}
        if self.stroke_distance is not None and self.colour_distance is not None:
            columns.update({f"stroke_distance_{tag}": self.stroke_distance,
                            f"colour_distance_{tag}": self.colour_distance})
        if self.keyframe is not None:
            columns["keyframe"] = self.keyframe.astype(np.float64)
        return columns
