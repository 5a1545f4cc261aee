"""HUD detection: overlays that keep sharp, unchanged edges while the scene moves under them.

The clip is cut into windows (``window`` seconds). In each window where the scene
moves, a pixel is an overlay candidate when its window median has a clear edge
nearby and either its colour stays at that median (opaque HUD; unless a window
a second away saw it still at another colour: scenery drifts, an overlay does
not) or its edge is there in nearly every frame (translucent HUD, whose colour
follows the scene). Candidates are closed; their rim is trimmed where it changed like the scene (a
translucent overlay damps the change) or looks like the scene just outside; small
holes are filled, specks dropped, and a region is kept only when it reaches the
screen margin (a chase camera's own kart and driver stay
put on screen just like a HUD, but in the middle of it) and is not one long, thin,
straight, oblique band (a road's edge seen while driving straight; see docs/masks-and-guides.md
for the measurements behind every threshold). Each window has its own mask, so
elements that appear for a few seconds (a music credit) or move now and then
(position icons) are followed.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np

from .._cpu import available_cores, in_order
from ..errors import InputError, UsageError
from ..io import Frame, clip_length, probe, read_frames
from ..progress import progress, warn
from ._hud_timeline import HudTimeline, Rect
from ._hud_window import window_mask, window_scores, worst_channel

ANALYSIS_WIDTH = 640  # wider clips are analysed downscaled: text and icons stay several pixels wide
# The opaque test also compares a window's median with those STABLE_APART windows before and
# after (half-overlapping windows: 2 = the next window sharing no frame with it).
STABLE_APART = 2


@dataclass(frozen=True)
class HudEvidence:
    """What :func:`detect_hud` measured, for reports and tuning.

    ``agreement`` and ``edge_persistence`` are (H, W) float32 fractions at the analysis
    size, averaged over the windows: of a window's sampled frames, how many were within
    ``color_tolerance`` of the window's median colour; and how many had an edge (luma
    gradient >= ``edge_threshold``) at the pixel. ``moving`` says per window whether
    the scene moved.
    """

    timeline: HudTimeline
    agreement: np.ndarray
    edge_persistence: np.ndarray
    moving: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool: HUD at any time."""
        return self.timeline.union()


def detect_hud(source: str | Path, *, size: tuple[int, int] | None = None, include: Iterable[Rect | str] = (),
               exclude: Iterable[Rect | str] = (), **options: float) -> np.ndarray:
    """Pixels that are HUD at any time of the clip: (H, W) bool, True = HUD.

    See :func:`detect_hud_timeline` for the per-frame masks and the options.
    """
    return detect_hud_timeline(source, size=size, include=include, exclude=exclude, **options).union()


def detect_hud_timeline(source: str | Path, *, size: tuple[int, int] | None = None,
                        include: Iterable[Rect | str] = (), exclude: Iterable[Rect | str] = (),
                        **options: float) -> HudTimeline:
    """Detect screen overlays (timer, minimap, gauges, icons, credits) frame by frame.

    Args:
        source: video file or image folder.
        size: (width, height) of the masks (default: the source's).
        include: rectangles (at ``size``) always marked HUD.
        exclude: rectangles never marked HUD (applied after ``include``).
        options: thresholds of :func:`hud_evidence` (``window``, ``color_tolerance``, ...).

    Returns:
        A :class:`HudTimeline`. Windows whose scene does not move take the mask of the
        nearest window that moves; a clip that never moves gives empty masks and a warning.
    """
    timeline = hud_evidence(source, size=size, **options).timeline
    return timeline.with_rects(include=include, exclude=exclude)


def hud_evidence(source: str | Path, *, size: tuple[int, int] | None = None, window: float = 1.0,
                 samples: int = 10, color_tolerance: float = 14.0, edge_threshold: float = 16.0,
                 min_agreement: float = 0.8, min_persistence: float = 0.95, min_scene_motion: float = 3.0,
                 margin: float = 0.1, workers: int | None = None) -> HudEvidence:
    """:func:`detect_hud_timeline` with the per-window scores it decided from.

    Args:
        window: seconds per window (a HUD element must stay put this long to be found).
        samples: frames sampled per window.
        color_tolerance: largest per-channel change (0-255) from the window median that
            counts as "unchanged"; twice it, how near a rim pixel's median colour must
            be to the scene just outside a region for the pixel to count as scene.
        edge_threshold: luma gradient (0-255 per px) that counts as an edge.
        min_agreement: fraction of sampled frames at the median colour (opaque HUD).
        min_persistence: fraction of sampled frames with the edge (translucent HUD).
        min_scene_motion: mean luma change (0-255) between sampled frames below which
            a window's scene counts as still (no evidence).
        margin: a region is kept only when it reaches this fraction of the frame's width
            or height from an edge.
        workers: threads scoring and deciding windows while the clip is decoded (default:
            one per available core; OpenCV and numpy release the GIL). The result does
            not depend on it.
    """
    count = clip_length(source)
    if count < 2:
        raise InputError("needs at least 2 frames to tell moving scenery from a static overlay", source)
    fps = probe(source).nominal_fps or 20.0
    half = max(1, int(round(window * fps / 2)))  # windows overlap by half: chunks of half a window
    step = max(1, half // max(1, samples // 2))
    full, work = _sizes(source, size)
    workers = available_cores() if workers is None else workers
    if workers < 1:
        raise UsageError(f"workers must be at least 1 (got {workers})")
    decide = partial(_decide, min_agreement=min_agreement, min_persistence=min_persistence,
                     edge_threshold=edge_threshold, color_tolerance=color_tolerance, margin=margin)
    indices: list[int] = []
    moving: list[bool] = []
    totals = [0.0, 0.0]
    near: dict[int, tuple[np.ndarray, ...]] = {}  # scores of the windows a decision still reads
    decisions: list[Future[np.ndarray]] = []
    # Windows are scored and decided on the pool while this thread decodes. Jobs start in the
    # order they are submitted, so a decision never waits for more than the few windows being
    # scored: the scores held stay bounded, as when each window was done in turn.
    with progress(count, "hud") as bar, ThreadPoolExecutor(workers, thread_name_prefix="vidstyle-hud") as pool:
        windows = _sampled_windows(read_frames(source, size=work), half, step, indices, bar)
        jobs = (partial(window_scores, frames, color_tolerance, edge_threshold) for frames in windows)
        for index, (*scores, motion) in enumerate(in_order(pool, jobs, ahead=workers)):
            moving.append(motion >= min_scene_motion)
            totals[0] += scores[0]
            totals[1] += scores[1]
            near[index] = tuple(scores)
            if index >= STABLE_APART:  # the window STABLE_APART back has all its neighbours now
                decisions.append(pool.submit(decide, index - STABLE_APART, dict(near)))
                near.pop(index - 2 * STABLE_APART, None)  # no later decision reads it
        decisions += [pool.submit(decide, index, dict(near))
                      for index in range(max(0, len(moving) - STABLE_APART), len(moving))]
        masks = [decision.result() for decision in decisions]
    # A window is two chunks; it serves the frames nearer its centre than any other's.
    starts = [0] + [index * half + half // 2 for index in range(1, len(masks))]
    timeline = HudTimeline(tuple(starts), np.stack(_fill_still_windows(masks, moving, source)),
                           (work[1], work[0]), full, tuple(indices))
    return HudEvidence(timeline, totals[0] / len(starts), totals[1] / len(starts), np.array(moving))


def _sampled_windows(frames: Iterable[Frame], half: int, step: int, indices: list[int],
                     bar: Any) -> Iterator[list[np.ndarray]]:
    """The sampled (H, W, 3) frames of each window, as the clip is decoded.

    A window is two chunks of ``half`` frames, overlapping the next by a chunk; every
    ``step``-th frame of a chunk is sampled. A clip shorter than two chunks gives one
    window, a last partial chunk one more. Every frame's index is appended to
    ``indices`` and counted on the progress ``bar``."""
    chunks: list[list[np.ndarray]] = [[]]
    position = -1
    for position, frame in enumerate(frames):
        indices.append(frame.index)
        if position % half == 0 and chunks[-1]:
            chunks = chunks[-1:] + [[]]
        if (position % half) % step == 0:
            chunks[-1].append(frame.rgb)
        if position % half == half - 1 and len(chunks) > 1:
            yield chunks[-2] + chunks[-1]
        bar.update(1)
    if len(chunks) == 1 or (position + 1) % half:
        yield chunks[-2] + chunks[-1] if len(chunks) > 1 else chunks[-1]


def _decide(index: int, near: dict[int, tuple[np.ndarray, ...]], *, min_agreement: float,
            min_persistence: float, edge_threshold: float, color_tolerance: float, margin: float) -> np.ndarray:
    """Window ``index``'s mask, bit-packed (1 bit a pixel: long clips have many windows), from
    its scores and its neighbours' (``near``, by window; see :func:`window_scores`)."""
    # Translucent parts: the edge must persist in the neighbouring windows too (scenery
    # edges that stay put while the kart drives straight last about a second).
    agreement, persistence, gradient, steady, deviation, median = near[index]
    for other in (near[j] for j in (index - 1, index, index + 1) if j in near):
        persistence = np.minimum(persistence, other[1])
    # Opaque parts: an overlay is bit-stable for seconds, while scenery that only looks
    # still for a window drifts. A pixel is dropped when a window STABLE_APART further on
    # or back (sharing no frame with this one) was still there too but at another colour,
    # and none was still there at this colour (an element that appears or goes away is
    # not still in the other window: no evidence either way).
    others = [near[j] for j in (index - STABLE_APART, index + STABLE_APART) if j in near]
    if others:
        still = [other[0] >= min_agreement for other in others]
        same = [worst_channel(cv2.absdiff(median, other[5])) <= color_tolerance for other in others]
        drifted = np.any(still, axis=0) & ~np.any(np.logical_and(still, same), axis=0)
        agreement = np.where(drifted, 0, agreement)
    mask = window_mask(agreement, persistence, gradient, steady, deviation, median,
                        min_agreement=min_agreement, min_persistence=min_persistence,
                        edge_threshold=edge_threshold, color_tolerance=color_tolerance, margin=margin)
    return np.packbits(mask, axis=None)


def _sizes(source: str | Path, size: tuple[int, int] | None) -> tuple[tuple[int, int], tuple[int, int]]:
    """(mask size, analysis size): clips wider than ANALYSIS_WIDTH are analysed downscaled."""
    info = probe(source)
    full = tuple(size) if size is not None else (info.width, info.height)
    if full[0] <= ANALYSIS_WIDTH:
        return full, full  # type: ignore[return-value]
    scale = ANALYSIS_WIDTH / full[0]
    return full, (ANALYSIS_WIDTH, max(2, int(round(full[1] * scale / 2)) * 2))  # type: ignore[return-value]


def _fill_still_windows(masks: list[np.ndarray], moving: list[bool], source: str | Path) -> list[np.ndarray]:
    """Windows whose scene did not move take the mask of the nearest one that did."""
    good = np.flatnonzero(moving)
    if len(good) == 0:
        warn(f"{source}: the scene never moves; cannot tell a HUD from still scenery, so no HUD was detected")
        return [np.zeros_like(m) for m in masks]  # packed zeros: an empty mask
    return [masks[int(good[np.abs(good - i).argmin()])] for i in range(len(masks))]
