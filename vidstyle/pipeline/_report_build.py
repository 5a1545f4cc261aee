"""Fill a :class:`ReportData` from a finished run's cache entries."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from ..io import probe, read_image_rgb
from ._recipe import recipe_to_dict
from ._report_data import (Chart, FlickerSection, ReportData, Series, Still, StillRow, Table, Timing,
                           TrainingSection, collect_environment)

if TYPE_CHECKING:
    from ._runner import StepContext


def build_report_data(ctx: "StepContext", clip: Path, reference: Path | None) -> ReportData:
    """Everything the report shows, read from the upstream steps of ``ctx``."""
    from ._graph import frames_at

    recipe = ctx.recipe
    info = probe(clip)
    count = info.frame_count or 1
    fps = info.average_fps or info.nominal_fps or 1.0
    stylized = ctx.need("render").path("video")
    keyframes = ctx.upstream.get("keyframes")
    key_indices: list[int] = keyframes.data["indices"] if keyframes is not None else []
    wanted = sorted(set(np.linspace(0, count - 1, recipe.report.stills).round().astype(int).tolist()))
    focus = key_indices[0] if key_indices else count // 2
    indices = sorted(set(wanted) | {focus})

    def grab(video: Path | None) -> dict[int, np.ndarray]:
        return {} if video is None else {f.index: f.rgb for f in frames_at(video, indices)}

    inputs, outputs, refs = grab(clip), grab(stylized), grab(reference)
    ref_label = f"reference ({recipe.reference_style})" if recipe.reference_style else "reference"

    overview = None
    if key_indices:
        name = f"{focus:06d}.png"
        stills = [Still(f"input, frame {focus}", read_image_rgb(keyframes.path("inputs") / name)),
                  Still("painted keyframe", read_image_rgb(keyframes.path("painted") / name))]
    else:
        stills = [Still(f"input, frame {focus}", inputs[focus])] if focus in inputs else []
    if focus in outputs:
        stills.append(Still(f"output, frame {focus}", outputs[focus]))
    if stills:
        overview = StillRow(f"Frame {focus} ({focus / fps:.2f} s)", stills)

    rows = []
    for index in wanted:
        row = [Still("input", inputs[index])] if index in inputs else []
        if index in refs:
            row.append(Still(ref_label, refs[index]))
        if index in outputs:
            row.append(Still("output", outputs[index]))
        tag = " (keyframe)" if index in key_indices else ""
        rows.append(StillRow(f"Frame {index} ({index / fps:.2f} s){tag}", row))

    marks = [(index / fps, "keyframe") for index in key_indices]
    data = ReportData(
        title=f"vidstyle: {recipe.name}",
        subtitle=" · ".join(p for p in (recipe.description, f"input {recipe.input.video.name}",
                                        f"{info.width}x{info.height}, {count} frames at {fps:.3g} fps",
                                        datetime.datetime.now().strftime("%Y-%m-%d %H:%M")) if p),
        overview=overview, frames=rows,
        flicker=_flicker_section(ctx.upstream.get("flicker"), ref_label, marks),
        training=_training_section(ctx.upstream.get("train")),
        timings=[Timing(r.name, r.description, r.seconds, r.cached, r.computed_seconds) for r in ctx.records],
        environment=collect_environment(ctx.device),
        outputs=_output_links(ctx),
        recipe_text=yaml.safe_dump(recipe_to_dict(recipe), sort_keys=False),
    )
    if recipe.render.model is not None:
        data.notes.append(f"Rendered with the existing model {recipe.render.model} (no training in this run).")
    return data


def _output_links(ctx: "StepContext") -> dict[str, str]:
    """Links to the files published beside report.html in the output folder."""
    from ._graph import _video_name

    recipe = ctx.recipe
    links = {"stylized video": _video_name(recipe, "stylized")}
    if recipe.render.comparison:
        links["side by side"] = "comparison.mp4"
    if recipe.trains:
        links["model"] = "model.pt"
    if recipe.report.flicker:
        links["flicker numbers"] = "flicker.json"
    return links


def _flicker_section(entry: Any, ref_label: str, marks: list[tuple[float, str]]) -> FlickerSection | None:
    if entry is None:
        return None
    output = entry.data["output"]
    reference = entry.data.get("reference")
    series = []
    if output.get("source_per_pair") is not None:
        series.append(Series("source (input clip)", output["source_per_pair"], output["times"]))
    if reference is not None:
        series.append(Series(ref_label + ", per frame", reference["per_pair"], reference["times"]))
    series.append(Series("output (vidstyle)", output["per_pair"], output["times"]))
    chart = Chart("Warping error per pair of frames", "time of frame t (s)", "e_t (RGB in [0,1])",
                  series, marks=marks)
    floor = output.get("source_e_warp")

    def row(label: str, numbers: dict[str, Any], fidelity: bool) -> list[Any]:
        ratio = numbers["e_warp"] / floor if floor else None
        return [label, numbers["e_warp"], ratio, numbers.get("psnr") if fidelity else None,
                numbers.get("ssim") if fidelity else None]

    rows: list[list[Any]] = []
    if floor is not None:
        rows.append(["source (input clip)", floor, 1.0, None, None])
    if reference is not None:
        rows.append(row(ref_label + ", per frame", reference, False))
    rows.append(row("output (vidstyle)", output, True))
    table = Table(["video", "E_warp", "× source", "PSNR vs reference (dB)", "SSIM vs reference"], rows,
                  caption="Mean over all pairs; lower E_warp = less flicker; the source is the floor.")
    notes = ["E_warp is the occlusion-masked mean squared difference between each output frame and the "
             "next one warped back by the source's optical flow; a static video scores 0. "
             "PSNR/SSIM compare the output with the per-frame reference (fidelity)."]
    return FlickerSection(chart, table, output["protocol"], notes)


def _training_section(entry: Any) -> TrainingSection | None:
    if entry is None:
        return None
    history: dict[str, list[float]] = entry.data.get("loss_history") or {}
    steps = entry.data.get("steps") or []
    series = [Series(name, values, steps if len(steps) == len(values) else None)
              for name, values in history.items() if values]
    positive = all(v > 0 for s in series for v in s.y if np.isfinite(v))
    chart = Chart("Training losses", "step", "loss", series, log_y=positive) if series else None
    facts = [[k, v if isinstance(v, (int, float)) else str(v)] for k, v in (entry.data.get("facts") or {}).items()]
    facts.append(["training time (s)", round(entry.seconds, 1)])
    return TrainingSection(chart, Table(["", "value"], facts))
