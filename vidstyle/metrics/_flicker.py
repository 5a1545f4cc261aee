"""``flicker``: warping error, static-region flicker, tOF, fidelity and texture of a stylized clip, streamed."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from .._defaults import TEXTURE_EVERY
from ..errors import InputError, UsageError
from ..flow import DisFlow, FlowCache, FlowPair, FlowPreset, default_workers, validity_mask, video_flows
from ..io import open_video, probe
from ..progress import progress
from ._pair import flow_difference, static_flicker, still_mask, warping_error
from ._report import ClipScores, FlickerReport, FlowOrigin
from ._texture_frames import FrameTexture, PaintedKeyframes, assemble_texture


@dataclass
class _PairResult:
    warp: dict[str, float]
    static: dict[str, float]
    valid_fraction: float
    still_fraction: float
    tof: float
    psnr: float
    ssim: float
    texture: dict[str, tuple[float, float, int]]  # of frame t, see FrameTexture


def _fidelity(frame: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    psnr = float("inf") if np.array_equal(frame, reference) else float(
        peak_signal_noise_ratio(reference, frame, data_range=255))
    ssim = float(structural_similarity(reference, frame, channel_axis=2, data_range=255))
    return psnr, ssim


class _PairScorer:
    """Scores one pair; runs in worker threads (numpy, OpenCV and DIS release the GIL)."""

    def __init__(self, preset: FlowPreset, exclude_outside: bool, tof: bool, texture: FrameTexture) -> None:
        self.preset, self.exclude_outside, self.tof, self.texture = preset, exclude_outside, tof, texture
        self._local = threading.local()

    def _dis(self) -> DisFlow:
        estimator = getattr(self._local, "dis", None)
        if estimator is None:
            estimator = self._local.dis = DisFlow(self.preset)
        return estimator

    def __call__(self, pair: FlowPair, clips: dict[str, tuple[np.ndarray, np.ndarray]],
                 position: int) -> _PairResult:
        assert pair.backward is not None
        valid = validity_mask(pair.forward, pair.backward, exclude_outside=self.exclude_outside)
        still = still_mask(pair.image, pair.next_image, pair.forward, valid)
        warp = {role: warping_error(a, b, pair.forward, valid) for role, (a, b) in clips.items()}
        static = {role: static_flicker(a, b, still) for role, (a, b) in clips.items()}
        tof = float("nan")
        if self.tof:
            stylized_flow = self._dis()(*clips["stylized"])
            tof = flow_difference(pair.forward, stylized_flow)
        psnr = ssim = float("nan")
        if "reference" in clips:
            psnr, ssim = _fidelity(clips["stylized"][0], clips["reference"][0])
        texture = self.texture(pair.index, position, clips["stylized"][0], clips.get("reference", (None,))[0])
        return _PairResult(warp, static, float(valid.mean()), float(still.mean()), tof, psnr, ssim, texture)


def _frames(clip: object, size: tuple[int, int], max_frames: int | None) -> Iterator[np.ndarray]:
    """RGB frames of a clip at ``size`` (resampled on decode for files)."""
    if isinstance(clip, (str, Path)):
        with open_video(clip, size=size, end_frame=max_frames) as reader:
            for frame in reader:
                yield frame.rgb
        return
    import cv2

    for count, rgb in enumerate(clip):  # type: ignore[attr-defined]
        if max_frames is not None and count >= max_frames:
            return
        rgb = np.asarray(getattr(rgb, "rgb", rgb))
        if rgb.shape[1::-1] != tuple(size):
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        yield rgb


def _first_size(clip: object) -> tuple[tuple[int, int], int | None, bool]:
    """(width, height), frame count and whether the count is exact, without decoding a path."""
    if isinstance(clip, (str, Path)):
        info = probe(clip)
        return (info.width, info.height), info.frame_count, not info.frame_count_is_estimate
    raise UsageError("in-memory clips must be given as lists of frames")


def _describe(clip: object) -> str | None:
    return str(clip) if isinstance(clip, (str, Path)) else None


def flicker(stylized: "str | Path | list[np.ndarray]", source: "str | Path | list[np.ndarray] | None" = None,
            reference: "str | Path | list[np.ndarray] | None" = None, *,
            keyframes: "str | Path | None" = None, texture_every: int = TEXTURE_EVERY,
            preset: FlowPreset | str = FlowPreset.MEDIUM, max_frames: int | None = None,
            allow_trim: bool = False, exclude_outside: bool = False, tof: bool = True,
            cache: FlowCache | None = None, workers: int | None = None,
            desc: str = "flicker") -> FlickerReport:
    """Measure the flicker of a stylized clip by Lai et al.'s protocol, and more.

    Flow and masks come from ``source`` (the unstylized input), as the protocol
    requires; without it they come from ``stylized`` itself (a weaker variant,
    labelled so in the report). All clips are streamed; memory stays flat.

    Args:
        stylized: the clip to measure (video, image folder, or a list of RGB arrays).
        source: the input it was made from; gives the flow, the floor E_warp and tOF.
        reference: e.g. a per-frame stylization or ground truth: PSNR/SSIM, detail ratio and texture
            distance per frame, and its E_warp.
        keyframes: a folder of painted keyframes named by frame index (as ``vidstyle train``
            takes them): detail ratio and texture distance of each frame against the keyframe
            nearest in appearance of ``source`` (a video or folder; the measure of
            :func:`vidstyle.shots.find_coverage`), else nearest in time; no reference needed
            ("style drift").
        texture_every: texture distance on every k-th frame (0, k, 2k, ...); detail ratio on all.
        preset: DIS preset for the flow.
        max_frames: use only the first N frames of each clip.
        allow_trim: clips of different lengths are compared over the shortest
            instead of raising :class:`InputError`.
        exclude_outside: also mask pixels whose flow leaves the frame (Ruder et al.).
        tof: compute tOF (one more flow per pair, on the stylized frames; needs ``source``).
        cache: a :class:`FlowCache` for the source's flows.
        workers: threads (default: one per core).

    Clips of another resolution are resampled to the flow clip's and a note says so.
    """
    preset = FlowPreset.parse(preset)
    if max_frames is not None and max_frames < 2:
        raise UsageError(f"max_frames must be at least 2 (got {max_frames})")
    if texture_every < 1:
        raise UsageError(f"texture_every must be at least 1 (got {texture_every})")
    workers = default_workers() if workers is None else workers
    clips = {"stylized": stylized, "source": source, "reference": reference}
    clips = {role: clip for role, clip in clips.items() if clip is not None}
    clips = {role: (list(clip) if not isinstance(clip, (str, Path)) else clip) for role, clip in clips.items()}
    flow_role = "source" if source is not None else "stylized"
    notes: list[str] = []
    sizes, counts = {}, {}
    for role, clip in clips.items():
        if isinstance(clip, list):
            if not clip:
                raise InputError(f"the {role} clip has no frames")
            sizes[role], counts[role] = (clip[0].shape[1], clip[0].shape[0]), (len(clip), True)
        else:
            size, count, exact = _first_size(clip)
            sizes[role], counts[role] = size, (count, exact)
    size = sizes[flow_role]
    for role in clips:
        if sizes[role] != size:
            notes.append(f"{role} is {sizes[role][0]}x{sizes[role][1]}; resampled to the {flow_role}'s "
                         f"{size[0]}x{size[1]} (swscale area/bicubic)")
    _check_counts(counts, max_frames, allow_trim)
    painted = None
    if keyframes is not None:  # read (and refuse a bad folder) before minutes of work
        painted = PaintedKeyframes.load(keyframes, size, counts[flow_role][0] if counts[flow_role][1] else None,
                                        _describe(clips[flow_role]))
        if isinstance(clips.get("source"), (str, Path)):  # a long recording: the painting of the same place
            painted = painted.matched(clips["source"])
    texture = FrameTexture(texture_every, "reference" in clips, painted)
    known = [c for c, exact in counts.values() if c is not None]
    total_pairs = max(0, min(known + ([max_frames] if max_frames else [])) - 1) if known else None

    streams = {role: _frames(clip, size, max_frames) for role, clip in clips.items() if role != flow_role}
    previous = {role: next(stream, None) for role, stream in streams.items()}
    for role, frame in previous.items():
        if frame is None:
            raise InputError(f"the {role} clip has no frames", _describe(clips[role]))
    scorer = _PairScorer(preset, exclude_outside, tof and source is not None, texture)
    results: list[tuple[FlowPair, _PairResult]] = []
    pending: deque[tuple[FlowPair, Future]] = deque()
    last_frames: dict[str, np.ndarray] = {}
    trimmed = False
    flow_source = clips[flow_role]
    with ThreadPoolExecutor(workers, thread_name_prefix="vidstyle-flicker") as pool, \
            progress(total_pairs, desc, unit="pair") as bar:
        for pair in video_flows(flow_source, preset=preset, end_frame=max_frames, cache=cache,
                                workers=workers, size=size if isinstance(flow_source, list) else None):
            pair_frames = {flow_role: (pair.image, pair.next_image)}
            for role, stream in streams.items():
                following = next(stream, None)
                if following is None:
                    trimmed = True
                    break
                pair_frames[role] = (previous[role], following)
                previous[role] = following
            if trimmed:
                if not allow_trim:
                    raise InputError(f"the {next(r for r in streams if r not in pair_frames)} clip has fewer "
                                     f"frames than the {flow_role} ({pair.next_index + 1} or more); "
                                     "pass allow_trim=True to compare the common frames", None,
                                     params=("allow_trim",))
                break
            last_frames = {role: frames[1] for role, frames in pair_frames.items()}
            pending.append((pair, pool.submit(scorer, pair, pair_frames, len(results) + len(pending))))
            if len(pending) > 2 * workers:
                done_pair, future = pending.popleft()
                results.append((_strip(done_pair), future.result()))
                bar.update(1)
        while pending:
            done_pair, future = pending.popleft()
            results.append((_strip(done_pair), future.result()))
            bar.update(1)
    if not trimmed and not allow_trim:
        for role, stream in streams.items():
            if next(stream, None) is not None:
                raise InputError(f"the {role} clip has more frames than the {flow_role}; pass allow_trim=True "
                                 "to compare the common frames", _describe(clips[role]), params=("allow_trim",))
    if trimmed or (allow_trim and len({c for c, _ in counts.values()}) > 1):
        notes.append(f"clips differ in length; compared the first {len(results) + 1} frames")
    if not results:
        raise InputError("fewer than two frames to compare; flicker needs at least one pair",
                         _describe(clips[flow_role]))
    return _assemble(results, last_frames, clips, flow_role, preset, exclude_outside, size, notes, texture)


def _strip(pair: FlowPair) -> FlowPair:
    """Keep only what the report needs (index, time), not the frames and flows."""
    empty = np.zeros((0, 0, 2), np.float32)
    return FlowPair(pair.index, pair.next_index, empty, None, empty, empty, pair.time)


def _check_counts(counts: dict[str, tuple[int | None, bool]], max_frames: int | None,
                  allow_trim: bool) -> None:
    """Refuse clips whose exact frame counts differ (before any work), unless trimming is allowed."""
    exact = {role: count for role, (count, is_exact) in counts.items() if is_exact and count is not None}
    if max_frames is not None:
        exact = {role: min(count, max_frames) for role, count in exact.items()}
    if len(set(exact.values())) > 1 and not allow_trim:
        listing = ", ".join(f"{role} {count}" for role, count in exact.items())
        raise InputError(f"clips differ in frame count ({listing}); pass allow_trim=True to compare the "
                         "common frames, or max_frames=N", params=("allow_trim", "max_frames"))


def _assemble(results: list[tuple[FlowPair, _PairResult]], last_frames: dict[str, np.ndarray],
              clips: dict, flow_role: str, preset: FlowPreset, exclude_outside: bool,
              size: tuple[int, int], notes: list[str], texture: FrameTexture) -> FlickerReport:
    def series(pick) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.array([pick(result) for _, result in results], dtype=np.float64)

    scores = {role: ClipScores(role, _describe(clip), series(lambda r, k=role: r.warp[k]),
                               series(lambda r, k=role: r.static[k])) for role, clip in clips.items()}
    psnr = ssim = None
    if "reference" in clips:
        last_psnr, last_ssim = _fidelity(last_frames["stylized"], last_frames["reference"])
        psnr = np.append(series(lambda r: r.psnr), last_psnr)
        ssim = np.append(series(lambda r: r.ssim), last_ssim)
    empty = int(np.isnan(scores["stylized"].warp_error).sum())
    if empty:
        notes.append(f"{empty} pair(s) had no valid pixel (everything occluded) and are left out of the means")
    times = np.array([np.nan if pair.time is None else pair.time for pair, _ in results])
    frames = np.array([pair.index for pair, _ in results] + [results[-1][0].next_index], dtype=np.int64)
    last = texture(int(frames[-1]), len(results), last_frames["stylized"], last_frames.get("reference"))
    textures = assemble_texture([r.texture for _, r in results] + [last], frames, _frame_times(times), texture,
                                _describe(clips.get("reference")), size)
    tof = series(lambda r: r.tof) if flow_role == "source" and not np.isnan(series(lambda r: r.tof)).all() else None
    return FlickerReport(
        stylized=scores["stylized"], source=scores.get("source"), reference=scores.get("reference"),
        flow_origin=FlowOrigin(flow_role), preset=preset, exclude_outside=exclude_outside, size=size,
        frames=len(results) + 1,
        indices=np.array([pair.index for pair, _ in results], dtype=np.int64),
        times=times,
        valid_fraction=series(lambda r: r.valid_fraction), still_fraction=series(lambda r: r.still_fraction),
        tof=tof, psnr=psnr, ssim=ssim, texture=textures.get("reference"), drift=textures.get("keyframes"),
        notes=tuple(notes))


def _frame_times(pair_times: np.ndarray) -> np.ndarray:
    """Times of every frame: each pair's frame t, and the last frame one median frame step later."""
    steps = np.diff(pair_times)
    step = float(np.median(steps)) if steps.size and np.isfinite(steps).all() else float("nan")
    return np.append(pair_times, pair_times[-1] + step)
