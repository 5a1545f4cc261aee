"""Fill a :class:`ReportData` from a finished run's cache entries."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import yaml

from ..io import frame_name, probe, read_image_rgb
from ..styles import painter_label
from ._artifacts import COMPARISON, FLICKER, MODEL, frames_at, video_name
from ._recipe import recipe_to_dict
from ._report_data import (Chart, FlickerSection, ReportData, Series, Still, StillRow, Table, Timing,
                           TrainingSection, collect_environment)

if TYPE_CHECKING:
    from ._runner import StepContext


def build_report_data(ctx: "StepContext", clip: Path, reference: Path | None) -> ReportData:
    """Everything the report shows, read from the upstream steps of ``ctx``."""
    recipe = ctx.recipe
    info = probe(clip)
    count = info.frame_count or 1
    fps = info.average_fps or info.nominal_fps or 1.0
    stylized = ctx.need("render").path("video")
    keyframes = ctx.upstream.get("keyframes")
    key_indices: list[int] = keyframes.data["indices"] if keyframes is not None else []
    wanted = sorted(set(np.linspace(0, count - 1, recipe.report.stills).round().astype(int).tolist()))
    focus = key_indices[0] if key_indices else count // 2
    far = _farthest_frame(count, key_indices)
    indices = sorted(set(wanted) | {focus} | ({far} if far is not None else set()))

    def grab(video: Path | None) -> dict[int, np.ndarray]:
        return {} if video is None else {f.index: f.rgb for f in frames_at(video, indices)}

    inputs, outputs, refs = grab(clip), grab(stylized), grab(reference)
    ref_label = f"reference ({painter_label(recipe.reference_style)})" if recipe.reference_style else "reference"

    overview = None
    if key_indices:
        name = frame_name(focus)
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

    crops = _crop_rows(keyframes, focus, far, fps, outputs, refs, ref_label) if key_indices else []
    marks = [(index / fps, "keyframe") for index in key_indices]
    data = ReportData(
        title=f"vidstyle: {recipe.name}",
        subtitle=" · ".join(p for p in (recipe.description, f"input {recipe.input.video.name}",
                                        f"{info.width}x{info.height}, {count} frames at {fps:.3g} fps",
                                        datetime.datetime.now().strftime("%Y-%m-%d %H:%M")) if p),
        overview=overview, frames=rows, crops=crops,
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
    recipe = ctx.recipe
    links = {"stylized video": video_name(recipe, "stylized")}
    if recipe.render.comparison:
        links["side by side"] = COMPARISON
    if recipe.trains:
        links["model"] = MODEL
    if recipe.report.flicker:
        links["flicker numbers"] = FLICKER
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
    texture, texture_chart = _texture_figures(data.get("texture") or {}, ref_label, marks)
    if texture is not None:
        notes.append("Detail ratio and texture distance measure the painted texture that E_warp, PSNR and SSIM "
                     "do not: a blurred output scores well on those, badly on these. Without a reference, each "
                     "frame is compared with the painted keyframe nearest in appearance of its source frame "
                     "(style drift).")
    return FlickerSection(chart, table, list(data["protocol"]), notes, texture, texture_chart)


_TEXTURE_LABELS = {"reference": "{ref}, same frame", "keyframes": "painted keyframe nearest in appearance"}


def _texture_figures(texture: dict[str, Any], ref_label: str,
                     marks: list[tuple[float, str]]) -> tuple[Table | None, Chart | None]:
    """The texture table (means, worst stretch) and the per-frame texture distance chart."""
    present = {role: texture[role] for role in _TEXTURE_LABELS if texture.get(role)}
    if not present:
        return None, None
    rows: list[list[Any]] = []
    series = []
    for role, scores in present.items():
        label = _TEXTURE_LABELS[role].format(ref=ref_label)
        worst = scores["stretches"][0] if scores["stretches"] else None
        stretch = None
        if worst is not None:
            first, last = worst["first_frame"], worst["last_frame"]
            frames = f"frame {first}" if first == last else f"frames {first}-{last}"
            stretch = f"{frames}: {worst['texture_distance']:.3g}"
            if worst["detail_ratio"] is not None:
                stretch += f", detail ratio {worst['detail_ratio']:.2f}"
        split = None if scores.get("stroke_distance") is None or scores.get("colour_distance") is None else \
            f"{scores['stroke_distance']:.3g} / {scores['colour_distance']:.3g}"
        rows.append([label, scores["detail_ratio"], scores["texture_distance"], split, scores["measured_frames"],
                     stretch])
        per_frame = scores["per_frame"]
        times = per_frame["time"]
        x = times if all(t is not None for t in times) else None
        series.append(Series(f"vs {label}", per_frame["texture_distance"], x))
    table = Table(["output compared with", "detail ratio (1 = all detail kept)", "texture distance (0 = same)",
                   "of it: strokes / colours", "frames measured", "worst stretch"], rows,
                  caption="Texture kept by the output: means over the frames; see the protocol below.")
    timed = all(s.x is not None for s in series)
    chart = Chart("Texture distance per frame (lower = closer to the painted texture)",
                  "time of frame (s)" if timed else "frame", "texture distance", series,
                  marks=marks if timed else [])
    return table, chart


def _farthest_frame(count: int, keys: list[int]) -> int | None:
    """The frame farthest in time from every keyframe (the earliest of equals)."""
    if not keys or count < 2:
        return None
    distances = [min(abs(i - k) for k in keys) for i in range(count)]
    return int(np.argmax(distances))


def _detail_region(rgb: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    """(x, y) of the ``size`` window of ``rgb`` with the most edge and stroke detail (Sobel on luma)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    width, height = size
    sums = cv2.boxFilter(magnitude, -1, (width, height), normalize=False, anchor=(0, 0),
                         borderType=cv2.BORDER_CONSTANT)[:gray.shape[0] - height + 1, :gray.shape[1] - width + 1]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x), int(y)


# Crops are this size at most (and half the frame): big enough to see strokes, small enough for a row.
CROP_SIZE = (240, 180)


def _crop_rows(keyframes: Any, focus: int, far: int | None, fps: float, outputs: dict[int, np.ndarray],
               refs: dict[int, np.ndarray], ref_label: str) -> list[StillRow]:
    """Same region at 100 %: painted keyframe | output there | output on the far frame; and
    reference | output on the far frame when there is a per-frame reference."""
    painted = read_image_rgb(keyframes.path("painted") / frame_name(focus))
    height, width = painted.shape[:2]
    size = (min(CROP_SIZE[0], max(8, width // 2)), min(CROP_SIZE[1], max(8, height // 2)))
    x, y = _detail_region(painted, size)

    def crop(rgb: np.ndarray) -> np.ndarray:
        if rgb.shape[:2] != (height, width):
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb[y:y + size[1], x:x + size[0]])

    region = f"region x {x}-{x + size[0]}, y {y}-{y + size[1]}"
    stills = [Still(f"painted keyframe {focus}", crop(painted))]
    if focus in outputs:
        stills.append(Still(f"output, frame {focus}", crop(outputs[focus])))
    if far is not None and far in outputs:
        stills.append(Still(f"output, frame {far} ({abs(far - focus) / fps:.1f} s away)", crop(outputs[far])))
    rows = [StillRow(f"Painted keyframe and output far from it, {region}, 100 %", stills)]
    if far is not None and far in refs and far in outputs:
        rows.append(StillRow(f"Frame {far}: per-frame {ref_label} and output, {region}, 100 %",
                             [Still(ref_label, crop(refs[far])), Still("output", crop(outputs[far]))]))
    return rows


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
