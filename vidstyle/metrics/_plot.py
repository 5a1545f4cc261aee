"""A PNG plot of per-pair warping error over time, drawn with OpenCV (no matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from ..errors import UsageError, VidstyleError
from ..io import atomic_output
from ._report import FlickerReport

# BGR colours
_STYLIZED = (40, 40, 210)
_SOURCE = (90, 90, 90)
_REFERENCE = (200, 110, 30)
_GRID = (225, 225, 225)
_TEXT = (30, 30, 30)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``high``."""
    if not high > 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * k for k in range(int(math.ceil(high / step - 1e-9)) + 1)]


def _label(value: float) -> str:
    return f"{value:.3g}" if value else "0"


def plot_flicker(report: FlickerReport, path: str | Path, *, size: tuple[int, int] = (1200, 520),
                 spikes: int = 3, overwrite: bool = False) -> Path:
    """Draw e_t per pair for the stylized clip (and source, reference) and mark the worst spikes.

    The x axis is the time of frame t in seconds (frame index for clips without
    timestamps). Written atomically as PNG.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"the plot is a PNG; give a .png path (got {path.name})")
    width, height = size
    left, right, top, bottom = 90, 30, 56, 62
    canvas = np.full((height, width, 3), 255, np.uint8)
    timed = bool(np.isfinite(report.times).all())
    xs = report.times if timed else report.indices.astype(np.float64)
    series = [("stylized", report.stylized.warp_error, _STYLIZED)]
    if report.source is not None:
        series.append(("source (floor)", report.source.warp_error, _SOURCE))
    if report.reference is not None:
        series.append(("reference", report.reference.warp_error, _REFERENCE))
    finite = np.concatenate([values[np.isfinite(values)] for _, values, _ in series])
    y_ticks = _nice_ticks(float(finite.max()) if finite.size else 0.0)
    y_max = y_ticks[-1]
    x_lo, x_hi = float(xs.min()), float(xs.max())
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    x_ticks = [x for x in _nice_ticks(x_hi - x_lo, 8)]
    plot_w, plot_h = width - left - right, height - top - bottom

    def to_px(x: float, y: float) -> tuple[int, int]:
        return (int(round(left + (x - x_lo) / (x_hi - x_lo) * plot_w)),
                int(round(top + plot_h - min(y, y_max) / y_max * plot_h)))

    for y in y_ticks:
        _, py = to_px(x_lo, y)
        cv2.line(canvas, (left, py), (left + plot_w, py), _GRID, 1)
        cv2.putText(canvas, _label(y), (8, py + 5), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    for offset in x_ticks:
        px, _ = to_px(x_lo + offset, 0)
        if px > left + plot_w:
            break
        cv2.line(canvas, (px, top), (px, top + plot_h), _GRID, 1)
        text = f"{x_lo + offset:.3g}"
        cv2.putText(canvas, text, (px - 4 * len(text), top + plot_h + 20), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    cv2.rectangle(canvas, (left, top), (left + plot_w, top + plot_h), _TEXT, 1)
    for _, values, colour in reversed(series):
        points = [to_px(x, y) for x, y in zip(xs, values) if np.isfinite(y)]
        if len(points) > 1:
            cv2.polylines(canvas, [np.array(points, np.int32)], False, colour, 2, cv2.LINE_AA)
        elif points:
            cv2.circle(canvas, points[0], 3, colour, -1, cv2.LINE_AA)
    for spike in report.spikes(spikes):
        x = spike.time if timed and spike.time is not None else float(spike.index)
        px, py = to_px(x, spike.warp_error)
        cv2.circle(canvas, (px, py), 7, _STYLIZED, 2, cv2.LINE_AA)
        text = f"{spike.time:.2f} s" if spike.time is not None else f"frame {spike.index}"
        tx = min(max(px - 30, left + 2), left + plot_w - 80)
        cv2.putText(canvas, text, (tx, max(py - 12, top + 14)), _FONT, 0.45, _STYLIZED, 1, cv2.LINE_AA)
    title = (f"warping error per pair (Lai et al. 2018; DIS {report.preset.value} flow on "
             f"{report.flow_origin.value}; RGB in [0,1])")
    cv2.putText(canvas, title, (left, 24), _FONT, 0.55, _TEXT, 1, cv2.LINE_AA)
    x_name = "time of frame t (s)" if timed else "frame t"
    cv2.putText(canvas, x_name, (left + plot_w // 2 - 60, height - 14), _FONT, 0.5, _TEXT, 1, cv2.LINE_AA)
    cv2.putText(canvas, "e_t", (8, top - 12), _FONT, 0.5, _TEXT, 1, cv2.LINE_AA)
    legend_x = left + plot_w - 190
    for k, (name, values, colour) in enumerate(series):
        y = top + 18 + 20 * k
        cv2.line(canvas, (legend_x, y - 4), (legend_x + 28, y - 4), colour, 2, cv2.LINE_AA)
        cv2.putText(canvas, name, (legend_x + 36, y), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".png", canvas)
    if not ok:
        raise VidstyleError("could not encode the plot as PNG", path)
    with atomic_output(path, overwrite=overwrite) as temp:
        temp.write_bytes(encoded.tobytes())
    return path
