"""The steps of a recipe and what each one's cache key depends on.

clip -> keyframes -> masks -> flows -> guides -> train -> render -> reference -> flicker
-> compare -> report. A step's key covers only what changes its result: changing
``render.crf`` changes the keys of render, flicker, compare and report, never of
train. Calls into other vidstyle packages go through a :class:`StepApi`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from ..errors import InputError, VidstyleError
from ..io import (Codec, Frame, frame_name, numbered_images, open_video, probe, read_image_rgb, transcode,
                  write_image)
from ..progress import info, progress
from ._artifacts import (CLIP, COMPARISON, FLICKER, FLOW_CACHE_FOLDER, HUD, MODEL, REFERENCE, REPORT, clip_path,
                         frames_at, optional_path, reference_video, video_name)
from ._report_build import build_report_data
from ._report import write_report
from ._runner import Step, StepContext, StepOutput
from ._schema import HudMode, Recipe
from ._steps import StepApi, VidstyleApi

# -- clip -----------------------------------------------------------------------

def _run_clip(ctx: StepContext) -> StepOutput:
    recipe = ctx.recipe
    source = recipe.input.video
    info = probe(source)
    size = recipe.working_size
    trimmed = recipe.input.start is not None or recipe.input.end is not None
    if not trimmed and size in (None, (info.width, info.height)):
        return StepOutput(data={"path": str(source), "first_index": 0, "frames": info.frame_count,
                                "width": info.width, "height": info.height, "copied": False})
    first_index = 0
    if recipe.input.start is not None:
        with open_video(source, start=recipe.input.start, end=recipe.input.end) as reader:
            first = next(iter(reader), None)
        if first is None:
            raise InputError("no frames between input.start and input.end", source)
        first_index = first.index
    # Lossless (FFV1 RGB) so no step sees compression twice; audio is trimmed along.
    result = transcode(source, ctx.folder / CLIP, start=recipe.input.start, end=recipe.input.end,
                       size=size, codec=Codec.FFV1, overwrite=True, desc="clip")
    width, height = size or (info.width, info.height)
    return StepOutput(files={"clip": CLIP},
                      data={"first_index": first_index, "frames": result.frames, "width": width,
                            "height": height, "copied": True})


def _clip_params(recipe: Recipe) -> dict[str, Any]:
    return {"start": recipe.input.start, "end": recipe.input.end, "size": recipe.input.size}


# -- keyframes --------------------------------------------------------------------

def _keyframe_sources(recipe: Recipe, clip: Path | None = None, first_index: int = 0) -> dict[int, Path | None]:
    """Source frame index -> painted file (None when a painter paints it). ``clip`` (the
    working clip) places ``keyframes.every``; without it those are not known yet."""
    if recipe.keyframes.painter is not None:
        if recipe.keyframes.every is None:
            return {index: None for index in recipe.keyframes.frames}
        if clip is None:
            return {}
        return {first_index + index: None for index in every_n_seconds(clip, recipe.keyframes.every)}
    return dict(numbered_images(recipe.keyframes.dir, what="keyframes.dir"))


def every_n_seconds(clip: Path, seconds: float) -> list[int]:
    """Frame indices of ``clip`` in the middle of each whole span of ``seconds`` (at least one):
    a 12 s clip at 20 fps with 4 s spans gets frames 40, 120 and 200."""
    info = probe(clip)
    step = seconds * (info.average_fps or info.nominal_fps or 30.0)
    count = info.frame_count or 1
    spans = int(count // step + 1e-6)
    if spans == 0:
        return [count // 2]
    return sorted({min(count - 1, int(round((k + 0.5) * step))) for k in range(spans)})


def _run_keyframes(ctx: StepContext, api: StepApi) -> StepOutput:
    recipe = ctx.recipe
    clip = ctx.need("clip").data
    sources = _keyframe_sources(recipe, clip_path(ctx), clip["first_index"])
    offset, count = clip["first_index"], clip["frames"]
    by_clip_index = {}
    for source_index, file in sources.items():
        index = source_index - offset
        if index < 0 or (count is not None and index >= count):
            where = file or recipe.source
            raise InputError(f"keyframe {source_index} is outside the clip (source frames {offset}"
                             f"-{offset + (count or 1) - 1})", where)
        by_clip_index[index] = file
    (ctx.folder / "inputs").mkdir()
    (ctx.folder / "painted").mkdir()
    size = (clip["width"], clip["height"])
    written: list[int] = []
    for frame in frames_at(clip_path(ctx), sorted(by_clip_index)):
        file = by_clip_index[frame.index]
        if file is None:
            painted = api.paint(frame.rgb, recipe.keyframes.painter)
        else:
            painted = read_image_rgb(file)
            if painted.shape[1::-1] != size:
                painted = cv2.resize(painted, size, interpolation=cv2.INTER_AREA)
        write_image(ctx.folder / "inputs" / frame_name(frame.index), frame.rgb)
        write_image(ctx.folder / "painted" / frame_name(frame.index), painted)
        written.append(frame.index)
    if written != sorted(by_clip_index):
        missing = sorted(set(by_clip_index) - set(written))
        raise InputError(f"could not read clip frames {missing} for the keyframes", clip_path(ctx))
    return StepOutput(files={"painted": "painted", "inputs": "inputs"},
                      data={"indices": written, "source_indices": [i + offset for i in written]})


def _keyframe_params(recipe: Recipe) -> dict[str, Any]:
    k = recipe.keyframes
    painted = k.painter is not None
    return {"paint": _painter_param(k.painter), "frames": k.frames if painted and k.every is None else None,
            "every": k.every if painted else None}


def _painter_param(spec: str | None) -> str | None:
    """A painter spec without its file's path (the file's identity enters the key instead,
    so a moved style image or model keeps its cache entries)."""
    from ..styles import spec_files

    return spec.split(":", 1)[0] if spec is not None and spec_files(spec) else spec


def _painter_files(spec: str | None) -> dict[str, Path | None]:
    from ..styles import spec_files

    files = spec_files(spec) if spec is not None else []
    return {"painter": files[0] if files else None}


def _keyframe_check(recipe: Recipe) -> None:
    sources = _keyframe_sources(recipe)
    key = "keyframes.frames" if recipe.keyframes.painter is not None else "keyframes.dir"
    info = probe(recipe.input.video)
    count = info.frame_count
    late = [i for i in sources if count is not None and i >= count]
    if late:
        raise InputError(f"{key}: frame {late[0]} is past the end of the clip ({count} frames)", recipe.source)
    rate = info.average_fps or info.nominal_fps
    end = recipe.input.end
    if end is not None and rate and not info.is_vfr:  # frame indices are source indices: frame i is at i / rate
        last = round(end * rate)  # duration x rate: exact to a frame at constant rate; one frame of slack
        late = [i for i in sources if i > last]
        if late:
            raise InputError(f"{key}: frame {late[0]} is after input.end ({end} s is frame {last})", recipe.source)


# -- masks ------------------------------------------------------------------------

def _masks_enabled(recipe: Recipe) -> bool:
    m = recipe.masks
    return recipe.trains and (m.dir is not None or m.hud is not HudMode.IGNORE or m.from_keyframe
                              or m.color_key is not None)


def _run_masks(ctx: StepContext, api: StepApi) -> StepOutput:
    from ..masks import write_mask

    recipe, masks = ctx.recipe, ctx.recipe.masks
    keyframes = ctx.need("keyframes")
    offset = ctx.need("clip").data["first_index"]
    files: dict[str, str] = {"masks": "masks"}
    hud = None
    if masks.hud is not HudMode.IGNORE:
        clip = ctx.need("clip").data
        hud = _fit_mask(api.hud_mask(clip_path(ctx)), (clip["width"], clip["height"]))
        write_mask(ctx.folder / HUD, hud)
        files["hud"] = HUD
    (ctx.folder / "masks").mkdir()
    for index in keyframes.data["indices"]:
        name = frame_name(index)
        frame = read_image_rgb(keyframes.path("inputs") / name)
        use = np.ones(frame.shape[:2], bool)
        if masks.dir is not None:
            use &= _read_mask(masks.dir, index + offset, frame.shape[1::-1])
        if masks.from_keyframe:
            use &= api.keyframe_mask(frame, read_image_rgb(keyframes.path("painted") / name))
        if masks.color_key is not None:
            use &= api.color_key_mask(frame, masks.color_key)
        if hud is not None:
            use &= ~hud
        if not use.any():
            raise InputError(f"the training mask of keyframe {index + offset} is empty after combining "
                             "masks.dir, from_keyframe, color_key and hud", recipe.source)
        write_mask(ctx.folder / "masks" / name, use)
    return StepOutput(files=files, data={"hud_fraction": None if hud is None else float(hud.mean())})


def _fit_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if mask.shape[1::-1] == size:
        return mask
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0


def _read_mask(folder: Path, index: int, size: tuple[int, int]) -> np.ndarray:
    from ..masks import as_bool, read_mask

    file = numbered_images(folder, what="masks.dir").get(index)
    if file is None:
        raise InputError(f"no mask for keyframe {index} (expected e.g. {frame_name(index)})", folder)
    mask = read_mask(file)
    if mask.shape[1::-1] != size:
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    return as_bool(mask)


def _masks_params(recipe: Recipe) -> dict[str, Any]:
    m = recipe.masks
    return {"hud": m.hud.value, "from_keyframe": m.from_keyframe, "color_key": m.color_key}


# -- flows, guides, train, render --------------------------------------------------

def _run_flows(ctx: StepContext, api: StepApi) -> StepOutput:
    summary = api.compute_flows(clip_path(ctx), ctx.work_dir / FLOW_CACHE_FOLDER, ctx.recipe.report.flow_preset)
    return StepOutput(data=summary)


def _run_guides(ctx: StepContext, api: StepApi) -> StepOutput:
    g = ctx.recipe.guides
    masks = ctx.upstream.get("masks")
    api.generate_guides(clip_path(ctx), ctx.need("keyframes").data["indices"], ctx.folder / "guides",
                        radius=g.radius, sigma=g.sigma, seed=g.seed,
                        seed_masks=masks.path("masks") if masks is not None else None)
    return StepOutput(files={"guides": "guides"})


def _run_train(ctx: StepContext, api: StepApi) -> StepOutput:
    model = ctx.folder / MODEL
    kept = ctx.resume_dir / MODEL if ctx.resume_dir is not None else None
    resume: dict[str, bool] = {}
    if kept is not None and kept.is_file():  # an interrupted run of this very step saved it
        shutil.copyfile(kept, model)
        resume = {"resume": True}
        info(f"train: continuing from the checkpoint an interrupted run kept in {kept.parent}")
    summary = api.train(clip_path(ctx), ctx.need("keyframes").path("painted"), model,
                        masks=optional_path(ctx, "masks", "masks"), guides=optional_path(ctx, "guides", "guides"),
                        settings=ctx.recipe.train, device=ctx.device, **resume)
    return StepOutput(files={"model": MODEL}, data=asdict(summary))


def _run_render(ctx: StepContext, api: StepApi) -> StepOutput:
    recipe = ctx.recipe
    model = recipe.render.model or ctx.need("train").path("model")
    hud = optional_path(ctx, "masks", "hud") if recipe.masks.hud is HudMode.KEEP else None
    name = video_name(recipe, "stylized")
    api.render(clip_path(ctx), model, ctx.folder / name, settings=recipe.render, device=ctx.device,
               hud_mask=hud, guides=optional_path(ctx, "guides", "guides"))
    return StepOutput(files={"video": name})


def _render_params(recipe: Recipe) -> dict[str, Any]:
    r = recipe.render
    return {"codec": r.codec, "crf": r.crf, "preset": r.preset, "audio": r.audio, "stabilize": r.stabilize,
            "hold_stretch": r.hold_stretch, "keep_hud": recipe.masks.hud is HudMode.KEEP}


# -- reference, flicker, comparison ------------------------------------------------

def _run_reference(ctx: StepContext, api: StepApi) -> StepOutput:
    style = ctx.recipe.reference_style

    def paint_all(frames: Iterator[Frame]) -> Iterator[Frame]:
        for frame in frames:
            yield Frame(frame.index, frame.pts, frame.time_base, api.paint(frame.rgb, style))

    from ..styles import painter_label

    # Lossless, so the reference's flicker is the stylizer's, not the encoder's.
    transcode(clip_path(ctx), ctx.folder / REFERENCE, transform=paint_all, codec=Codec.FFV1,
              audio=False, overwrite=True, desc=f"reference ({painter_label(style)})")
    return StepOutput(files={"video": REFERENCE})


def _run_flicker(ctx: StepContext, api: StepApi) -> StepOutput:
    report = ctx.recipe.report
    numbers = api.flicker(ctx.need("render").path("video"), clip_path(ctx), reference=reference_video(ctx),
                          preset=report.flow_preset, max_frames=report.max_frames,
                          flow_cache=ctx.work_dir / FLOW_CACHE_FOLDER,
                          keyframes=optional_path(ctx, "keyframes", "painted"))
    data = asdict(numbers)
    (ctx.folder / FLICKER).write_text(json.dumps(data, indent=1, default=str))
    return StepOutput(files={"json": FLICKER}, data=data)


def _run_compare(ctx: StepContext, api: StepApi) -> StepOutput:
    stylized = ctx.need("render").path("video")

    def side_by_side(frames: Iterator[Frame]) -> Iterator[Frame]:
        with open_video(stylized) as reader:
            outputs = iter(reader)
            for frame in frames:
                out = next(outputs, None)
                if out is None:
                    raise VidstyleError(f"has fewer frames than the input (ends before frame {frame.index})",
                                        stylized)
                right = out.rgb
                if right.shape != frame.rgb.shape:
                    right = cv2.resize(right, frame.rgb.shape[1::-1], interpolation=cv2.INTER_AREA)
                both = np.concatenate([_label(frame.rgb, "input"), _label(right, "vidstyle")], axis=1)
                yield Frame(frame.index, frame.pts, frame.time_base, both)

    transcode(clip_path(ctx), ctx.folder / COMPARISON, transform=side_by_side,
              audio=ctx.recipe.render.audio, preset="fast", overwrite=True, desc="comparison")
    return StepOutput(files={"video": COMPARISON})


def _label(rgb: np.ndarray, text: str) -> np.ndarray:
    out = rgb.copy()
    scale = max(0.4, rgb.shape[0] / 600)
    thickness = max(1, round(scale * 2))
    origin = (8, 8 + round(22 * scale))
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


# -- report -----------------------------------------------------------------------

def _run_report(ctx: StepContext, api: StepApi) -> StepOutput:
    with progress(None, "report", unit="section") as bar:
        data = build_report_data(ctx, clip_path(ctx), reference_video(ctx))
        bar.update(1)
        write_report(data, ctx.folder / REPORT)
    return StepOutput(files={"html": REPORT})


# -- the graph --------------------------------------------------------------------

def build_steps(api: StepApi | None = None) -> list[Step]:
    """The recipe steps, calling other packages through ``api`` (default: the real ones)."""
    api = api or VidstyleApi()

    def bind(fn: Any) -> Any:
        return lambda ctx: fn(ctx, api)

    def has_reference(recipe: Recipe) -> bool:
        return (recipe.reference_style is not None and recipe.report.reference_video is None
                and (recipe.report.flicker or recipe.report.html))

    return [
        Step("clip", _run_clip, "working clip (trim, resize)", params=_clip_params,
             files=lambda r: {"video": r.input.video}, check=api.check),
        Step("keyframes", bind(_run_keyframes), "painted keyframes", needs=("clip",),
             params=_keyframe_params, files=lambda r: {"dir": r.keyframes.dir, **_painter_files(r.keyframes.painter)},
             enabled=lambda r: r.trains, check=_keyframe_check),
        Step("masks", bind(_run_masks), "training masks", needs=("clip", "keyframes"), params=_masks_params,
             files=lambda r: {"dir": r.masks.dir}, enabled=_masks_enabled),
        Step("flows", bind(_run_flows), "optical flow of the clip (for the flicker metric)", needs=("clip",),
             params=lambda r: {"preset": r.report.flow_preset}, enabled=lambda r: r.report.flicker),
        Step("guides", bind(_run_guides), "noise guides", needs=("clip", "keyframes", "masks"),
             params=lambda r: asdict(r.guides), enabled=lambda r: r.trains and r.guides.enabled),
        Step("train", bind(_run_train), "few-shot training", needs=("clip", "keyframes", "masks", "guides"),
             params=lambda r: asdict(r.train), enabled=lambda r: r.trains, publish={"model": MODEL},
             keep_on_interrupt=(MODEL,)),
        Step("render", bind(_run_render), "stylized video", needs=("clip", "train", "masks", "guides"),
             params=_render_params, files=lambda r: {"model": r.render.model},
             publish_fn=lambda r: {"video": video_name(r, "stylized")}),
        Step("reference", bind(_run_reference), "per-frame reference stylization", needs=("clip",),
             params=lambda r: {"style": _painter_param(r.reference_style)},
             files=lambda r: _painter_files(r.reference_style), enabled=has_reference),
        Step("flicker", bind(_run_flicker), "flicker (E_warp) of output and reference",
             needs=("clip", "keyframes", "render", "reference"),
             params=lambda r: {"preset": r.report.flow_preset, "max_frames": r.report.max_frames},
             files=lambda r: {"reference": r.report.reference_video},
             enabled=lambda r: r.report.flicker, publish={"json": FLICKER}),
        Step("compare", bind(_run_compare), "side-by-side comparison video", needs=("clip", "render"),
             params=lambda r: {"audio": r.render.audio}, enabled=lambda r: r.render.comparison,
             publish={"video": COMPARISON}),
        Step("report", bind(_run_report), REPORT,
             needs=("clip", "keyframes", "train", "render", "reference", "flicker"),
             enabled=lambda r: r.report.html, cached=False, publish={"html": REPORT}),
    ]
