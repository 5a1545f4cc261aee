"""The typed result of :func:`vidstyle.metrics.flicker`: per-pair and per-frame series, means, protocol,
JSON/CSV/table."""

from __future__ import annotations

import csv
import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..flow import FlowPreset
from ..io import atomic_output
from ._numbers import finite_mean, json_number, json_series
from ._texture_scores import TextureScores


class FlowOrigin(enum.Enum):
    """Which frames the flow (and the masks) were computed on."""

    SOURCE = "source"      # Lai et al.'s protocol: flow of the unstylized input
    STYLIZED = "stylized"  # weaker: the output's own flow can follow its own flicker


@dataclass(frozen=True)
class ClipScores:
    """Per-pair scores of one clip (stylized, source or reference), in pair order."""

    role: str
    path: str | None
    warp_error: np.ndarray      # (pairs,) Lai's e_t, RGB in [0, 1]; NaN where the mask is empty
    static_flicker: np.ndarray  # (pairs,) mean |dY| in 0-255 levels over still pixels; NaN if none

    @property
    def mean_warp_error(self) -> float | None:
        """E_warp: the mean of e_t over the pairs that have valid pixels."""
        return finite_mean(self.warp_error)

    @property
    def mean_static_flicker(self) -> float | None:
        return finite_mean(self.static_flicker)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "warp_error": json_number(self.mean_warp_error),
                "static_flicker": json_number(self.mean_static_flicker),
                "per_pair": {"warp_error": json_series(self.warp_error),
                             "static_flicker": json_series(self.static_flicker)}}


@dataclass(frozen=True)
class Spike:
    """One of the worst pairs of the stylized clip."""

    index: int
    next_index: int
    time: float | None
    warp_error: float


@dataclass(frozen=True)
class FlickerReport:
    """Flicker and fidelity figures of a stylized clip, with the protocol that produced them.

    Per-pair arrays are aligned: element k is the pair (``indices[k]``,
    ``indices[k] + 1``) at ``times[k]`` seconds. ``psnr``/``ssim`` are per
    frame. ``ratio`` is stylized E_warp over the source's (its floor).
    ``texture`` holds detail ratio and texture distance per frame against the
    reference, ``drift`` the same against the painted keyframes (no reference).
    """

    stylized: ClipScores
    source: ClipScores | None
    reference: ClipScores | None
    flow_origin: FlowOrigin
    preset: FlowPreset
    exclude_outside: bool
    size: tuple[int, int]
    frames: int
    indices: np.ndarray
    times: np.ndarray
    valid_fraction: np.ndarray
    still_fraction: np.ndarray
    tof: np.ndarray | None = None
    psnr: np.ndarray | None = None
    ssim: np.ndarray | None = None
    texture: TextureScores | None = None
    drift: TextureScores | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pairs(self) -> int:
        return len(self.indices)

    @property
    def warp_error(self) -> float | None:
        """E_warp of the stylized clip (the headline number)."""
        return self.stylized.mean_warp_error

    @property
    def ratio(self) -> float | None:
        """Stylized E_warp / source E_warp (1 = no flicker beyond the source's own)."""
        ours, floor = self.stylized.mean_warp_error, self.source and self.source.mean_warp_error
        return ours / floor if ours is not None and floor else None

    def spikes(self, count: int = 3, separation: int = 5) -> list[Spike]:
        """The ``count`` worst stylized pairs, at least ``separation`` pairs apart."""
        errors = self.stylized.warp_error
        chosen: list[int] = []
        for k in np.argsort(np.where(np.isfinite(errors), errors, -np.inf))[::-1]:
            if len(chosen) == count or not np.isfinite(errors[k]):
                break
            if all(abs(int(k) - c) >= separation for c in chosen):
                chosen.append(int(k))
        return [Spike(int(self.indices[k]), int(self.indices[k]) + 1,
                      None if math.isnan(self.times[k]) else float(self.times[k]), float(errors[k]))
                for k in chosen]

    @property
    def texture_scores(self) -> list[TextureScores]:
        """The texture figures present: against the reference, then against the keyframes."""
        return [scores for scores in (self.texture, self.drift) if scores is not None]

    # -- protocol ----------------------------------------------------------------
    @property
    def protocol(self) -> dict[str, str]:
        """One line per metric saying exactly how it was computed (texture keys only when measured:
        ``detail_ratio``/``texture_distance`` against the reference, ``drift_...`` against the keyframes)."""
        width, height = self.size
        flow = (f"OpenCV DIS {self.preset.value} flow on the {self.flow_origin.value} frames "
                f"({width}x{height}, forward and backward)")
        weaker = "" if self.flow_origin is FlowOrigin.SOURCE else (
            " [WEAKER VARIANT: no source video given, flow of the stylized video itself]")
        mask = ("Lai et al. mask (forward-backward + motion-boundary test"
                + (", out-of-frame targets excluded)" if self.exclude_outside else ", no smoothing)"))
        lines = {
            "warp_error": f"Lai et al. 2018 E_warp: {flow}; {mask}; bilinear border-clamp warp; "
                          "e_t = sum M (O^_t+1 - O_t)^2 / (3 sum M), RGB in [0,1], per-channel form "
                          f"(x3 = per-pixel form, x65025 = 0-255 scale); mean of {self.pairs} pairs"
                          + weaker,
            "static_flicker": "mean |Y(t+1) - Y(t)|, BT.709 luma in 0-255 levels, over valid pixels where "
                              f"the {self.flow_origin.value} moves <= 0.5 px and its luma changes <= 3 levels",
            "tof": f"tOF: mean over pixels of |F_source - F_stylized| in px at {width}x{height}, "
                   f"DIS {self.preset.value} forward flow of both clips",
            "psnr": "PSNR vs reference, dB, RGB 0-255, per frame, mean over frames (identical frames excluded)",
            "ssim": "SSIM vs reference (scikit-image structural_similarity, RGB, 7x7 window, "
                    "data_range 255), per frame, mean over frames",
        }
        for prefix, scores in (("", self.texture), ("drift_", self.drift)):
            if scores is not None:
                lines.update({prefix + key: line for key, line in scores.protocol().items()})
        return lines

    # -- output ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; non-finite values become null."""
        return {
            "stylized": self.stylized.to_dict(),
            "source": None if self.source is None else self.source.to_dict(),
            "reference": None if self.reference is None else self.reference.to_dict(),
            "warp_error": json_number(self.warp_error),
            "ratio": json_number(self.ratio),
            "tof": json_number(finite_mean(self.tof)),
            "psnr": json_number(finite_mean(self.psnr)),
            "ssim": json_number(finite_mean(self.ssim)),
            "flow_origin": self.flow_origin.value,
            "preset": self.preset.value,
            "exclude_outside": self.exclude_outside,
            "size": list(self.size),
            "frames": self.frames,
            "pairs": self.pairs,
            "protocol": self.protocol,
            "notes": list(self.notes),
            "spikes": [{"frame": s.index, "next_frame": s.next_index, "time": s.time,
                        "warp_error": s.warp_error} for s in self.spikes()],
            "per_pair": {"frame": [int(i) for i in self.indices], "time": json_series(self.times),
                         "valid_fraction": json_series(self.valid_fraction),
                         "still_fraction": json_series(self.still_fraction), "tof": json_series(self.tof)},
            "per_frame": {"psnr": json_series(self.psnr), "ssim": json_series(self.ssim)},
            "detail_ratio": json_number(self.texture.mean_detail_ratio) if self.texture else None,
            "texture_distance": json_number(self.texture.mean_texture_distance) if self.texture else None,
            "texture": {"reference": self.texture and self.texture.to_dict(),
                        "keyframes": self.drift and self.drift.to_dict()},
        }

    def write_json(self, path: str | Path, *, overwrite: bool = False) -> Path:
        with atomic_output(path, overwrite=overwrite) as temp:
            temp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return Path(path)

    def write_csv(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """One row per pair; PSNR/SSIM and texture columns hold frame t's values."""
        columns: dict[str, np.ndarray | None] = {
            "ewarp_stylized": self.stylized.warp_error,
            "ewarp_source": None if self.source is None else self.source.warp_error,
            "ewarp_reference": None if self.reference is None else self.reference.warp_error,
            "static_stylized": self.stylized.static_flicker,
            "static_source": None if self.source is None else self.source.static_flicker,
            "static_reference": None if self.reference is None else self.reference.static_flicker,
            "valid_fraction": self.valid_fraction, "still_fraction": self.still_fraction,
            "tof_px": self.tof,
            "psnr_db": None if self.psnr is None else self.psnr[:self.pairs],
            "ssim": None if self.ssim is None else self.ssim[:self.pairs],
        }
        for scores in self.texture_scores:
            columns.update({name: values[:self.pairs] for name, values in scores.csv_columns().items()})
        present = {name: values for name, values in columns.items() if values is not None}
        with atomic_output(path, overwrite=overwrite) as temp, open(temp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["frame", "next_frame", "time_s", *present])
            for k, index in enumerate(self.indices):
                time = "" if math.isnan(self.times[k]) else f"{self.times[k]:.6f}"
                writer.writerow([int(index), int(index) + 1, time,
                                 *("" if not np.isfinite(v[k]) else f"{v[k]:.9g}" for v in present.values())])
        return Path(path)

    def table(self) -> str:
        """A readable summary: each figure with its protocol on the line below."""
        protocol = self.protocol
        head = f"{'metric':<28}{'stylized':>12}{'source':>12}{'ratio':>9}{'reference':>12}"
        lines = [f"{self.pairs} pairs of {self.frames} frames at {self.size[0]}x{self.size[1]}", head,
                 "-" * len(head)]

        def cell(value: float | None, fmt: str) -> str:
            return f"{'-':>12}" if value is None else f"{value:>12{fmt}}"

        def row(name: str, key: str, ours: float | None, floor: float | None = None,
                ref: float | None = None, fmt: str = ".3g") -> None:
            ratio = f"{ours / floor:>8.2f}x" if ours is not None and floor else f"{'-':>9}"
            lines.append(f"{name:<28}{cell(ours, fmt)}{cell(floor, fmt)}{ratio}{cell(ref, fmt)}")
            lines.append(f"    {protocol[key]}")

        source, reference = self.source, self.reference
        row("E_warp", "warp_error", self.stylized.mean_warp_error,
            source and source.mean_warp_error, reference and reference.mean_warp_error, ".4g")
        row("static flicker (levels)", "static_flicker", self.stylized.mean_static_flicker,
            source and source.mean_static_flicker, reference and reference.mean_static_flicker)
        if self.tof is not None:
            row("tOF (px)", "tof", finite_mean(self.tof))
        if self.psnr is not None:
            row("PSNR vs reference (dB)", "psnr", finite_mean(self.psnr), fmt=".2f")
            row("SSIM vs reference", "ssim", finite_mean(self.ssim), fmt=".4f")
        for prefix, scores, against in (("", self.texture, "reference"), ("drift_", self.drift, "keyframes")):
            if scores is not None:
                row(f"detail ratio vs {against}", prefix + "detail_ratio", scores.mean_detail_ratio, fmt=".3f")
                row(f"texture dist. vs {against}", prefix + "texture_distance", scores.mean_texture_distance)
                if scores.mean_stroke_distance is not None and scores.mean_colour_distance is not None:
                    lines.append(f"{'  its strokes':<28}{scores.mean_stroke_distance:>12.3g}")
                    lines.append(f"{'  its colours':<28}{scores.mean_colour_distance:>12.3g}")
                    lines.append(f"    {protocol[prefix + 'stroke_distance']}")
        lines.append(f"valid (unoccluded) pixels: {100 * (finite_mean(self.valid_fraction) or 0):.1f}% "
                     f"on average; still pixels: {100 * (finite_mean(self.still_fraction) or 0):.1f}%")
        for spike in self.spikes():
            when = "" if spike.time is None else f" at {spike.time:.2f} s"
            lines.append(f"spike: frames {spike.index}->{spike.next_index}{when}: e = {spike.warp_error:.4g}")
        for scores in self.texture_scores:
            kind = "style drift" if scores.against.value == "keyframes" else "texture loss"
            lines.extend(f"{kind}: {stretch.describe()}" for stretch in scores.stretches())
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)
