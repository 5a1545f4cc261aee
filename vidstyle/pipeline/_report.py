"""Draw a :class:`ReportData` as one self-contained HTML file.

No external resources: CSS is inline, stills are base64 PNG data URIs, charts are
inline SVG. The page opens from disk, from an e-mail attachment or offline.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import cv2
import numpy as np

from .._ticks import nice_ticks
from ..io import atomic_output
from ._report_data import Chart, ReportData, Still, StillRow, Table

SECTION_IDS = ("overview", "frames", "flicker", "texture", "training", "timings", "environment", "recipe")
# Widest still embedded; larger frames are shrunk to keep the file small.
MAX_STILL_WIDTH = 480
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}.row{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 18px}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px}
figure img{display:block;max-width:100%;image-rendering:auto}figure img.crop{max-width:none}
figcaption{font-size:13px;color:#555;text-align:center;padding-top:4px}
.caption{font-weight:600;margin:14px 0 2px}
table{border-collapse:collapse;margin:8px 0;background:#fff}
td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
.protocol,.note{font-size:13px;color:#444;background:#f3f3f3;padding:8px;border-left:3px solid #999}
.missing{color:#888;font-style:italic}pre{background:#fff;border:1px solid #ddd;padding:10px;overflow:auto}
svg{background:#fff;border:1px solid #ddd}nav a{margin-right:12px}
"""


def render_report(data: ReportData) -> str:
    """The whole report page as a string."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(data.title)}</h1>",
        f'<p class="sub">{_e(data.subtitle)}</p>' if data.subtitle else "",
        "<nav>" + "".join(f'<a href="#{s}">{s}</a>' for s in SECTION_IDS) + "</nav>",
    ]
    if data.outputs:
        links = ", ".join(f'<a href="{_e(link)}">{_e(name)}</a>' for name, link in data.outputs.items())
        parts.append(f"<p>Outputs: {links}</p>")
    parts += [f'<p class="note">{_e(note)}</p>' for note in data.notes]
    parts.append(_section("overview", "Input, keyframe and output",
                          _still_row(data.overview) if data.overview else None))
    parts.append(_section("frames", "Frames from across the clip",
                          "".join(_still_row(row) for row in data.frames) if data.frames else None))
    parts.append(_section("flicker", "Flicker (warping error) and texture", _flicker(data)))
    parts.append(_section("texture", "Texture at 100 % (same region, not downscaled)",
                          "".join(_still_row(row, crop=True) for row in data.crops) if data.crops else None))
    parts.append(_section("training", "Training", _training(data)))
    parts.append(_section("timings", "Timings per step", _timings(data)))
    parts.append(_section("environment", "Versions and device",
                          _table(Table(["", "value"], [[k, v] for k, v in data.environment.items()]))
                          if data.environment else None))
    parts.append(_section("recipe", "Recipe (effective, after overrides)",
                          f"<pre>{_e(data.recipe_text)}</pre>" if data.recipe_text else None))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def write_report(data: ReportData, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write :func:`render_report` to ``path`` atomically."""
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as temp:
        temp.write_text(render_report(data), encoding="utf-8")
    return path


def png_data_uri(rgb: np.ndarray, max_width: int = MAX_STILL_WIDTH) -> str:
    """An (H, W, 3) uint8 RGB image as a ``data:image/png;base64,...`` URI."""
    if rgb.shape[1] > max_width:
        height = max(1, round(rgb.shape[0] * max_width / rgb.shape[1]))
        rgb = cv2.resize(rgb, (max_width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - cv2 always encodes uint8 RGB
        raise ValueError("could not encode a still as PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


# -- pieces ---------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _section(ident: str, title: str, body: str | None) -> str:
    content = body if body else '<p class="missing">Not part of this run.</p>'
    return f'<section id="{ident}"><h2>{_e(title)}</h2>{content}</section>'


def _figure(still: Still, crop: bool = False) -> str:
    """A still, shrunk to ``MAX_STILL_WIDTH``; a ``crop`` is embedded and shown pixel for pixel."""
    height, width = still.rgb.shape[:2]
    if crop:
        return (f'<figure><img class="crop" src="{png_data_uri(still.rgb, max_width=width)}" '
                f'alt="{_e(still.label)}" width="{width}" height="{height}">'
                f'<figcaption>{_e(still.label)}</figcaption></figure>')
    return (f'<figure><img src="{png_data_uri(still.rgb)}" alt="{_e(still.label)}" '
            f'width="{min(width, MAX_STILL_WIDTH)}"><figcaption>{_e(still.label)}</figcaption></figure>')


def _still_row(row: StillRow, crop: bool = False) -> str:
    figures = "".join(_figure(still, crop) for still in row.stills)
    return f'<div class="caption">{_e(row.caption)}</div><div class="row">{figures}</div>'


def _flicker(data: ReportData) -> str | None:
    section = data.flicker
    if section is None:
        return None
    lines = "".join(f"<li>{_e(line)}</li>" for line in section.protocol)
    parts = [_chart(section.chart), _table(section.table)]
    if section.texture is not None:
        parts.append(_table(section.texture))
    if section.texture_chart is not None:
        parts.append(_chart(section.texture_chart))
    parts.append(f'<div class="protocol"><b>Protocol</b><ul>{lines}</ul></div>')
    parts += [f'<p class="note">{_e(note)}</p>' for note in section.notes]
    return "".join(parts)


def _training(data: ReportData) -> str | None:
    section = data.training
    if section is None:
        return None
    chart = _chart(section.chart) if section.chart is not None else \
        '<p class="missing">The trainer reported no loss history.</p>'
    return chart + _table(section.facts)


def _timings(data: ReportData) -> str | None:
    if not data.timings:
        return None
    rows: list[list[str | float | int | None]] = []
    for t in data.timings:
        state = "cached" if t.cached else "computed"
        rows.append([t.step, t.description, state, f"{t.seconds:.2f}", f"{t.computed_seconds:.2f}"])
    total = sum(t.seconds for t in data.timings)
    rows.append(["total", "", "", f"{total:.2f}", f"{sum(t.computed_seconds for t in data.timings):.2f}"])
    return _table(Table(["step", "what", "this run", "seconds now", "seconds to compute"], rows))


def _cell(value: str | float | int | None) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return _e(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "&ndash;" if not math.isfinite(value) else f"{value:.4g}"
    return _e(value)


def _table(table: Table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in table.rows)
    caption = f"<caption>{_e(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- SVG line charts ---------------------------------------------------------------

def _chart(chart: Chart, width: int = 860, height: int = 300) -> str:
    """An inline SVG line chart with axes, ticks, legend and optional markers."""
    if chart.is_empty():
        return f'<p class="missing">{_e(chart.title)}: no data.</p>'
    left, right, top, bottom = 70, 20, 46, 45

    def transform(y: float) -> float:
        return math.log10(y) if chart.log_y else y

    series = [[(x, transform(y)) for x, y in s.points()
               if math.isfinite(y) and (y > 0 or not chart.log_y)] for s in chart.series]
    xs = [x for pts in series for x, _ in pts] + [x for x, _ in chart.marks]
    ys = [y for pts in series for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if not chart.log_y:
        y0 = min(0.0, y0)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + (abs(y0) or 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y0) / (y1 - y0) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(chart.title)}">',
           f'<text x="{left}" y="18" font-size="14" font-weight="600">{_e(chart.title)}</text>']
    y_ticks = nice_ticks(math.floor(y0), math.ceil(y1), int(y1 - y0) + 1) if chart.log_y \
        else nice_ticks(y0, y1)
    for tick in y_ticks:
        if not y0 - 1e-12 <= tick <= y1 + 1e-12:
            continue
        label = f"{10 ** tick:.3g}" if chart.log_y else f"{tick:.3g}"
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
                   'stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    for tick in nice_ticks(x0, x1, 8):
        out.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" font-size="11" '
                   f'text-anchor="middle">{tick:.4g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="12" '
               f'text-anchor="middle">{_e(chart.x_label)}</text>')
    out.append(f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" font-size="12" '
               f'text-anchor="middle">{_e(chart.y_label)}{" (log)" if chart.log_y else ""}</text>')
    for x, label in chart.marks:
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top}" y2="{top + plot_h}" '
                   'stroke="#aaa" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{px(x) + 3:.1f}" y="{top + 12}" font-size="10" fill="#666">{_e(label)}</text>')
    for index, spec in enumerate(chart.series):
        colour = _COLOURS[index % len(_COLOURS)]
        for run in _runs(spec.points(), chart.log_y):
            coords = " ".join(f"{px(x):.1f},{py(transform(y)):.1f}" for x, y in run)
            if len(run) == 1:
                x, y = run[0]
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(transform(y)):.1f}" r="2" fill="{colour}"/>')
            else:
                out.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.6" '
                           f'points="{coords}"/>')
        # Legend in one row above the plot, so it never hides a curve.
        legend_x = left + sum(36 + 7 * len(s.label) for s in chart.series[:index])
        out.append(f'<line x1="{legend_x}" x2="{legend_x + 20}" y1="{top - 8}" y2="{top - 8}" '
                   f'stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{legend_x + 25}" y="{top - 4}" font-size="12">{_e(spec.label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _runs(points: list[tuple[float, float]], log_y: bool) -> list[list[tuple[float, float]]]:
    """Split a series at non-finite (or, on a log axis, non-positive) values."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if math.isfinite(y) and (y > 0 or not log_y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
