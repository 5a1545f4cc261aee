"""What the recipe steps write and where a step finds another's files: one place for the
names that the steps, the report and the output folder share."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..io import Codec, Frame, open_video
from ._runner import StepContext
from ._schema import Recipe

FLOW_CACHE_FOLDER = "flowcache"  # shared by the flows and flicker steps, under the work folder
CLIP = "clip.mkv"                # the trimmed/resized lossless working clip
HUD = "hud.png"
MODEL = "model.pt"
REFERENCE = "reference.mkv"
FLICKER = "flicker.json"
COMPARISON = "comparison.mp4"
REPORT = "report.html"


def video_name(recipe: Recipe, stem: str) -> str:
    """``stem`` with the extension of the recipe's render codec (``.mkv`` for FFV1, else ``.mp4``)."""
    return f"{stem}.mkv" if Codec.parse(recipe.render.codec) is Codec.FFV1 else f"{stem}.mp4"


def clip_path(ctx: StepContext) -> Path:
    """The working clip: the source itself, or its trimmed/resized lossless copy."""
    entry = ctx.need("clip")
    # Not the path stored in the entry: the key follows the file's content, so a moved
    # (or renamed) input hits the cache and must be read from where it is now.
    return entry.path("clip") if entry.has("clip") else Path(ctx.recipe.input.video)


def optional_path(ctx: StepContext, step: str, role: str) -> Path | None:
    """The file ``role`` of the upstream ``step``, or None when that step did not run or wrote none."""
    entry = ctx.upstream.get(step)
    return entry.path(role) if entry is not None and entry.has(role) else None


def reference_video(ctx: StepContext) -> Path | None:
    """The video the output's flicker is compared with: the recipe's, or the reference step's."""
    return ctx.recipe.report.reference_video or optional_path(ctx, "reference", "video")


def frames_at(video: Path, indices: list[int]) -> Iterator[Frame]:
    """The frames of ``video`` whose index is in ``indices``, in one bounded pass."""
    wanted = set(indices)
    if not wanted:
        return
    with open_video(video, start_frame=min(wanted), end_frame=max(wanted) + 1) as reader:
        for frame in reader:
            if frame.index in wanted:
                yield frame
