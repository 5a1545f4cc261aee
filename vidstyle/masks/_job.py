"""One ``vidstyle masks`` run: several modes, combined and shaped, written per frame."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, UsageError
from ..io import (atomic_output, check_output, clip_indices, frame_index, frame_name, image_alpha, probe,
                  read_frames, read_image_rgb)
from ..progress import progress
from ._hud import detect_hud_timeline
from ._hud_timeline import HudTimeline, Rect
from ._keyframe import HsvRange, color_key_mask, mask_from_keyframe
from ._motion import motion_masks
from ._ops import (MaskOp, as_bool, combine_masks, dilate_mask, erode_mask, feather_mask, read_mask,
                   write_mask)
from ._preview import write_mask_preview
from ._propagate import propagate_mask


@dataclass
class MaskJob:
    """Everything ``vidstyle masks`` was asked for (see ``vidstyle masks --help``)."""

    source: str | Path
    output: str | Path
    keyframes: list[tuple[str, str]] = field(default_factory=list)  # (frame index or PNG, painted PNG)
    hud: bool = False
    hud_include: list[str | Rect] = field(default_factory=list)  # "x,y,w,h": always HUD
    hud_exclude: list[str | Rect] = field(default_factory=list)  # never HUD
    color_key: str | None = None
    motion: bool = False
    motion_threshold: int = 30
    propagate: list[tuple[str, int]] = field(default_factory=list)  # (mask PNG, frame index)
    combine: str = "union"
    invert: bool = False
    erode: int = 0
    dilate: int = 0
    feather: float = 0.0
    frames: list[int] | None = None
    preview: str | Path | None = None
    preset: str = "medium"
    size: tuple[int, int] | None = None
    overwrite: bool = False


def _keyframe_masks(job: MaskJob, indices: list[int], size: tuple[int, int]) -> dict[int, np.ndarray]:
    """{frame index: mask} for every --from-keyframe pair."""
    wanted: dict[int, tuple[np.ndarray | None, Path]] = {}
    for frame_ref, painted_path in job.keyframes:
        painted_path = Path(painted_path)
        if frame_ref.isdigit():
            index, frame_rgb = int(frame_ref), None
        else:
            frame_path = Path(frame_ref)
            index = frame_index(frame_path)
            if index is None:
                raise InputError(f"keyframe PNG must be named by its frame index, e.g. {frame_name(40)}", frame_path)
            frame_rgb = read_image_rgb(frame_path)
        if index not in set(indices):
            raise InputError(f"key frame {index} is not in the clip (frames {indices[0]}-{indices[-1]})",
                             job.source)
        wanted[index] = (frame_rgb, painted_path)
    if any(rgb is None for rgb, _ in wanted.values()):  # fetch frames given by index
        for frame in read_frames(job.source, size=job.size):
            if frame.index in wanted and wanted[frame.index][0] is None:
                wanted[frame.index] = (frame.rgb, wanted[frame.index][1])
    masks = {}
    for index, (frame_rgb, painted_path) in wanted.items():
        painted = _read_painted(painted_path)
        for name, image in (("frame", frame_rgb), ("painted image", painted)):
            if (image.shape[1], image.shape[0]) != size:
                raise InputError(f"{name} is {image.shape[1]}x{image.shape[0]} but the clip is "
                                 f"{size[0]}x{size[1]}", painted_path)
        mask = mask_from_keyframe(frame_rgb, painted)
        if not mask.any():
            raise InputError(f"painted keyframe does not differ from frame {index} (empty mask)", painted_path)
        masks[index] = mask
    return masks


def _read_painted(path: Path) -> np.ndarray:
    """(H, W, 3) RGB, or (H, W, 4) RGBA when the image has transparent pixels."""
    if not path.is_file():
        raise InputError("no such painted keyframe", path)
    rgb, alpha = read_image_rgb(path), image_alpha(path)
    return rgb if alpha is None else np.dstack([rgb, alpha])


def make_masks(job: MaskJob) -> int:
    """Run a :class:`MaskJob`; returns the number of masks written to ``job.output``.

    Each mode's masks go to a temporary folder first (modes stream in different
    orders), so memory stays bounded; then each output frame combines them. A mode
    that has no mask for a frame (a keyframe mode off its key) counts as empty.
    """
    op = MaskOp.parse(job.combine)
    hsv = HsvRange.parse(job.color_key) if job.color_key else None
    modes = bool(job.keyframes) + job.hud + (hsv is not None) + job.motion + bool(job.propagate)
    if not modes:
        raise UsageError("choose at least one mode: keyframes, hud, color_key, motion, propagate",
                         params=("keyframes", "hud", "color_key", "motion", "propagate"))
    for name in ("erode", "dilate", "feather"):
        if not 0 <= getattr(job, name) < float("inf"):
            raise UsageError(f"{name} must be 0 or more pixels (got {getattr(job, name)})", params=(name,))
    if (job.hud_include or job.hud_exclude) and not job.hud:
        raise UsageError("hud_include and hud_exclude adjust hud: add hud=True",
                         params=("hud_include", "hud_exclude", "hud"))
    include, exclude = [Rect.parse(r) for r in job.hud_include], [Rect.parse(r) for r in job.hud_exclude]
    output = check_output(job.output, [job.source], job.overwrite)
    preview = check_output(job.preview, [job.source], job.overwrite) if job.preview else None
    info = probe(job.source)
    size = job.size or (info.width, info.height)
    for rect in include + exclude:
        rect.check_inside(size, "hud_include" if rect in include else "hud_exclude")
    indices = clip_indices(job.source)
    wanted = job.frames or (sorted({frame_index(r) for r, _ in job.keyframes} - {None})
                            if job.keyframes else indices)
    missing = sorted(set(wanted) - set(indices))
    if missing:
        raise InputError(f"frame {missing[0]} is not in the clip (frames {indices[0]}-{indices[-1]})", job.source)
    keyed = _keyframe_masks(job, indices, size) if job.keyframes else {}
    propagated_inputs = []
    for mask_path, key in job.propagate:
        if key not in set(indices):
            raise InputError(f"key frame {key} is not in the clip (frames {indices[0]}-{indices[-1]})", job.source)
        mask = read_mask(mask_path, size)
        if not as_bool(mask).any():
            raise InputError("mask is empty (no white pixels)", mask_path)
        propagated_inputs.append((mask, key))
    with tempfile.TemporaryDirectory(prefix="vidstyle-masks-") as scratch:
        folders: list[Path] = []
        hud: HudTimeline | None = None
        if keyed:
            folders.append(_store(Path(scratch) / "keyframes", keyed.items()))
        if job.hud:
            hud = detect_hud_timeline(job.source, size=size, include=include, exclude=exclude)
        if job.motion:
            folders.append(_store(Path(scratch) / "motion", motion_masks(
                job.source, size=job.size, threshold=job.motion_threshold)))
        for n, (mask, key) in enumerate(propagated_inputs):
            folders.append(_store(Path(scratch) / f"propagate{n}", propagate_mask(
                job.source, mask, key, size=job.size, preset=job.preset)))
        empty = np.zeros((size[1], size[0]), dtype=bool)
        wanted_set = set(wanted)
        count = 0
        with atomic_output(output, overwrite=job.overwrite, is_dir=True) as target, \
                progress(len(wanted), "masks") as bar:
            # Indices from the reader: after a frame that failed to decode, later frames keep theirs.
            pairs = ((f.index, f.rgb) for f in read_frames(job.source, size=job.size)) if hsv is not None \
                else ((index, None) for index in indices)
            for index, rgb in pairs:
                if index not in wanted_set:
                    continue
                parts = [] if hud is None else [hud.for_index(index)]
                if rgb is not None:
                    parts.append(color_key_mask(rgb, hsv))
                for folder in folders:
                    path = folder / frame_name(index)
                    parts.append(as_bool(read_mask(path)) if path.is_file() else empty)
                write_mask(target / frame_name(index), _shape(combine_masks(parts, op), job))
                count += 1
                bar.update(1)
    if preview is not None:
        write_mask_preview(job.source, output, preview, size=job.size, overwrite=job.overwrite)
    return count


def _store(folder: Path, items) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    for index, mask in items:
        write_mask(folder / frame_name(index), mask)
    return folder


def _shape(mask: np.ndarray, job: MaskJob) -> np.ndarray:
    if job.invert:
        mask = ~mask
    out = mask.astype(np.uint8) * 255
    if job.erode:
        out = erode_mask(out, job.erode)
    if job.dilate:
        out = dilate_mask(out, job.dilate)
    if job.feather:
        out = feather_mask(out, job.feather)
    return out
