"""A PNG plot of per-pair warping error (and per-frame texture distance) over time, drawn with OpenCV."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .._ticks import nice_ticks
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
TEXTURE_PANEL = 360  # px added below the flicker panel when texture was measured


def _label(value: float) -> str:
    return f"{value:.3g}" if value else "0"


def plot_flicker(report: FlickerReport, path: str | Path, *, size: tuple[int, int] = (1200, 520),
                 spikes: int = 3, overwrite: bool = False) -> Path:
    """Draw e_t per pair for the stylized clip (and source, reference) and mark the worst spikes;
    below it, when measured, the texture distance per frame against the reference and the
    keyframes, with the keyframes and the worst stretches marked.

    The x axis is the time of frame t in seconds (frame index for clips without
    timestamps). ``size`` is that of the flicker panel; the texture panel adds
    ``TEXTURE_PANEL`` px. Written atomically as PNG.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"the plot is a PNG; give a .png path (got {path.name})")
    width, height = size
    textures = report.texture_scores
    canvas = np.full((height + (TEXTURE_PANEL if textures else 0), width, 3), 255, np.uint8)
    timed = bool(np.isfinite(report.times).all())
    xs = report.times if timed else report.indices.astype(np.float64)
    series = [("stylized", xs, report.stylized.warp_error, _STYLIZED)]
    if report.source is not None:
        series.append(("source (floor)", xs, report.source.warp_error, _SOURCE))
    if report.reference is not None:
        series.append(("reference", xs, report.reference.warp_error, _REFERENCE))
    title = (f"warping error per pair (Lai et al. 2018; DIS {report.preset.value} flow on "
             f"{report.flow_origin.value}; RGB in [0,1])")
    to_px = _panel(canvas, (0, height), series, title, "e_t", timed)
    for spike in report.spikes(spikes):
        x = spike.time if timed and spike.time is not None else float(spike.index)
        _mark(canvas, to_px, x, spike.warp_error,
              f"{spike.time:.2f} s" if spike.time is not None else f"frame {spike.index}", _STYLIZED, 70)
    if textures:
        frame_xs = textures[0].times if timed else textures[0].frames.astype(np.float64)
        colours = {"reference": _REFERENCE, "keyframes": _STYLIZED}
        tex_series = []
        for scores in textures:
            measured = np.isfinite(scores.texture_distance)
            tex_series.append((f"vs {scores.against.value}", frame_xs[measured], scores.texture_distance[measured],
                               colours[scores.against.value]))
        to_px = _panel(canvas, (height, TEXTURE_PANEL), tex_series,
                       "texture distance per frame (sliced Wasserstein, Karras et al. 2018; 0 = same texture)",
                       "d", timed)
        for scores in textures:
            for stretch in scores.stretches(spikes):
                peak = np.searchsorted(scores.frames, stretch.peak_frame)
                label = f"frame {stretch.first}" if stretch.first == stretch.last else \
                    f"frames {stretch.first}-{stretch.last}"
                _mark(canvas, to_px, float(frame_xs[peak]), stretch.peak, label, colours[scores.against.value],
                      height + 70)
            for key in (scores.keyframes if scores.keyframe is not None else ()):
                position = np.flatnonzero(scores.frames == key)
                if position.size:
                    px, _ = to_px(float(frame_xs[position[0]]), 0.0)
                    cv2.line(canvas, (px, height + 40), (px, height + TEXTURE_PANEL - 62), _SOURCE, 1, cv2.LINE_4)
                    cv2.putText(canvas, f"keyframe {key}", (px + 3, height + 52), _FONT, 0.4, _SOURCE, 1,
                                cv2.LINE_AA)
    ok, encoded = cv2.imencode(".png", canvas)
    if not ok:
        raise VidstyleError("could not encode the plot as PNG", path)
    with atomic_output(path, overwrite=overwrite) as temp:
        temp.write_bytes(encoded.tobytes())
    return path


def _panel(canvas: np.ndarray, rows: tuple[int, int], series: list, title: str, y_name: str,
           timed: bool) -> Callable[[float, float], tuple[int, int]]:
    """Axes, grid, curves and legend of one chart in canvas rows ``rows`` = (top, height);
    returns the data-to-pixel mapping."""
    offset, height = rows
    width = canvas.shape[1]
    left, right, top, bottom = 90, 30, offset + 56, 62
    finite = np.concatenate([values[np.isfinite(values)] for _, _, values, _ in series])
    y_ticks = nice_ticks(0.0, float(finite.max()) if finite.size else 0.0, cover=True)
    y_max = y_ticks[-1]
    all_x = np.concatenate([xs for _, xs, _, _ in series])
    x_lo, x_hi = (float(all_x.min()), float(all_x.max())) if all_x.size else (0.0, 1.0)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    plot_w, plot_h = width - left - right, height - 56 - bottom

    def to_px(x: float, y: float) -> tuple[int, int]:
        return (int(round(left + (x - x_lo) / (x_hi - x_lo) * plot_w)),
                int(round(top + plot_h - min(y, y_max) / y_max * plot_h)))

    for y in y_ticks:
        _, py = to_px(x_lo, y)
        cv2.line(canvas, (left, py), (left + plot_w, py), _GRID, 1)
        cv2.putText(canvas, _label(y), (8, py + 5), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    for step in nice_ticks(0.0, x_hi - x_lo, 8, cover=True):
        px, _ = to_px(x_lo + step, 0)
        if px > left + plot_w:
            break
        cv2.line(canvas, (px, top), (px, top + plot_h), _GRID, 1)
        text = f"{x_lo + step:.3g}"
        cv2.putText(canvas, text, (px - 4 * len(text), top + plot_h + 20), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    cv2.rectangle(canvas, (left, top), (left + plot_w, top + plot_h), _TEXT, 1)
    for _, xs, values, colour in reversed(series):
        points = [to_px(x, y) for x, y in zip(xs, values) if np.isfinite(y)]
        if len(points) > 1:
            cv2.polylines(canvas, [np.array(points, np.int32)], False, colour, 2, cv2.LINE_AA)
        elif points:
            cv2.circle(canvas, points[0], 3, colour, -1, cv2.LINE_AA)
    cv2.putText(canvas, title, (left, offset + 24), _FONT, 0.55, _TEXT, 1, cv2.LINE_AA)
    x_name = "time of frame t (s)" if timed else "frame t"
    cv2.putText(canvas, x_name, (left + plot_w // 2 - 60, offset + height - 14), _FONT, 0.5, _TEXT, 1,
                cv2.LINE_AA)
    cv2.putText(canvas, y_name, (8, top - 12), _FONT, 0.5, _TEXT, 1, cv2.LINE_AA)
    legend_x = left + plot_w - 190
    for k, (name, _, _, colour) in enumerate(series):
        y = top + 18 + 20 * k
        cv2.line(canvas, (legend_x, y - 4), (legend_x + 28, y - 4), colour, 2, cv2.LINE_AA)
        cv2.putText(canvas, name, (legend_x + 36, y), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    return to_px


def _mark(canvas: np.ndarray, to_px: Callable[[float, float], tuple[int, int]], x: float, y: float, text: str,
          colour: tuple[int, int, int], ceiling: int) -> None:
    """Circle a point and label it (to its right when it is within 12 px of row ``ceiling``)."""
    px, py = to_px(x, y)
    cv2.circle(canvas, (px, py), 7, colour, 2, cv2.LINE_AA)
    width = canvas.shape[1]
    if py - 12 < ceiling:
        tx, ty = px + 11, py + 5
    else:
        tx, ty = px - 30, py - 12
    tx = min(max(tx, 92), width - 30 - 8 * len(text))
    cv2.putText(canvas, text, (tx, ty), _FONT, 0.45, colour, 1, cv2.LINE_AA)
