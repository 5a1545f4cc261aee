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
    ref_label = f"reference ({_painter_label(recipe.reference_style)})" if recipe.reference_style else "reference"

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
    texture = _texture_note(outputs, refs, ref_label)
    if texture:
        data.notes.append(texture)
    return data


def _texture_note(outputs: dict[int, np.ndarray], refs: dict[int, np.ndarray], ref_label: str) -> str | None:
    """Detail ratio and texture distance of the output against the reference over the stills
    (vidstyle.metrics): E_warp and PSNR both reward blur, these do not."""
    from ..metrics import detail_ratio, texture_distance

    shared = [i for i in sorted(outputs) if i in refs and outputs[i].shape == refs[i].shape]
    if not shared:
        return None
    ratios = [detail_ratio(outputs[i], refs[i]) for i in shared]
    distances = [texture_distance(outputs[i], refs[i]) for i in shared]
    return (f"Texture of the output against the {ref_label}, mean over the {len(shared)} stills below: detail "
            f"ratio {np.nanmean(ratios):.2f} (mean Sobel gradient magnitude of luma, output / reference; 1 = as "
            f"much detail, < 1 blurrier), texture distance {np.mean(distances):.1f} (multi-scale sliced "
            "Wasserstein distance of 7x7 patches, 0 = the same texture).")


def _painter_label(spec: str) -> str:
    from ..styles import painter_label

    return painter_label(spec)


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


_ROLE_LABELS = {"source": "source (input clip)", "reference": "{ref}, per frame", "output": "output (vidstyle)"}


def _flicker_section(entry: Any, ref_label: str, marks: list[tuple[float, str]]) -> FlickerSection | None:
    if entry is None:
        return None
    data = entry.data
    clips: dict[str, dict[str, Any]] = data["clips"]
    times = data["times"]
    x = [t if t is not None else float("nan") for t in times] if times and all(
        t is not None for t in times) else None
    labels = {role: text.format(ref=ref_label) for role, text in _ROLE_LABELS.items()}
    series = [Series(labels[role], clips[role]["per_pair"], x) for role in _ROLE_LABELS if role in clips]
    chart = Chart("Warping error e_t per pair of frames", "time of frame t (s)" if x else "pair",
                  "e_t (RGB in [0, 1])", series, marks=marks if x else [])
    floor = clips.get("source", {}).get("e_warp")
    rows: list[list[Any]] = []
    for role in _ROLE_LABELS:
        if role not in clips:
            continue
        e_warp = clips[role]["e_warp"]
        ratio = e_warp / floor if e_warp is not None and floor else None
        fidelity = role == "output"
        rows.append([labels[role], e_warp, ratio, clips[role].get("static_flicker"),
                     data.get("psnr") if fidelity else None, data.get("ssim") if fidelity else None])
    table = Table(["video", "E_warp", "× source", "static flicker (0-255)", "PSNR vs reference (dB)",
                   "SSIM vs reference"], rows,
                  caption="Means over all pairs; lower = less flicker; the source clip is the floor.")
    notes = ["E_warp is the occlusion-masked mean squared difference between each frame and the next "
             "one warped back by the source's optical flow (a still video scores 0); PSNR/SSIM compare "
             "the output with the per-frame reference (fidelity), when there is one."]
    return FlickerSection(chart, table, list(data["protocol"]), notes)


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
