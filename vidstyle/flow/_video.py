"""Forward and backward flow over a whole video, streamed, on all cores."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from .._cpu import available_cores
from ..errors import InputError, UsageError
from ..io import Frame, open_video
from ._cache import FlowCache, SourceId
from ._dis import DEFAULT_FLOW_PRESET, DisFlow, FlowPreset, to_gray
from ._occlusion import validity_mask

@dataclass(frozen=True)
class FlowPair:
    """The flows between frame ``index`` (t) and the next frame ``next_index`` (t+1).

    ``forward`` is flow(t -> t+1) and ``backward`` flow(t+1 -> t) (None when not
    asked for), both (H, W, 2) float32 with a(x) ~ b(x + F(x)). ``image`` and
    ``next_image`` are the two RGB frames the flow was computed on (at the flow's
    size), ``time`` the source time of frame t in seconds (None for arrays).
    """

    index: int
    next_index: int
    forward: np.ndarray
    backward: np.ndarray | None
    image: np.ndarray
    next_image: np.ndarray
    time: float | None = None

    def validity_mask(self, *, exclude_outside: bool = False) -> np.ndarray:
        """Lai et al.'s (H, W) bool mask of pixels of frame t that are visible in t+1."""
        if self.backward is None:
            raise ValueError("the validity mask needs the backward flow (video_flows(..., backward=True))")
        return validity_mask(self.forward, self.backward, exclude_outside=exclude_outside)


_NO_TIME_BASE = None  # frames made from bare arrays have no timeline


def default_workers() -> int:
    """Worker threads for flow: one per available core (DIS releases the GIL)."""
    return available_cores()


def _frames_of(source: object, size: tuple[int, int] | None, start_frame: int | None,
               end_frame: int | None) -> Iterator[Frame]:
    """Frames of a path, or of an iterable of RGB arrays / Frames, resized to ``size``."""
    if isinstance(source, (str, Path)):
        with open_video(source, size=size, start_frame=start_frame, end_frame=end_frame) as reader:
            yield from reader
        return
    if isinstance(source, np.ndarray) and source.ndim < 4:
        raise UsageError("a frame source must be a path or a sequence of frames, not one image")
    for position, item in enumerate(source):  # type: ignore[attr-defined]
        frame = item if isinstance(item, Frame) else None
        index = frame.index if frame is not None else position
        if start_frame is not None and index < start_frame:
            continue
        if end_frame is not None and index >= end_frame:
            break
        rgb = np.asarray(frame.rgb if frame is not None else item)
        if rgb.ndim not in (2, 3) or rgb.dtype != np.uint8:
            raise UsageError(f"frame {index} is {rgb.shape} {rgb.dtype}; expected (H, W, 3) uint8 RGB")
        if size is not None and rgb.shape[1::-1] != tuple(size):
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if frame is None:
            yield Frame(index=index, pts=index, time_base=_NO_TIME_BASE, rgb=rgb)
        else:
            yield Frame(index=index, pts=frame.pts, time_base=frame.time_base, rgb=rgb)


class _FlowWorkers:
    """A thread pool whose threads each keep their own DIS estimator."""

    def __init__(self, preset: FlowPreset, workers: int, cache: FlowCache | None) -> None:
        self.preset = preset
        self.cache = cache
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidstyle-flow")

    def submit(self, source_id: SourceId | None, i: int, j: int, a: np.ndarray, b: np.ndarray) -> Future:
        return self._pool.submit(self._flow, source_id, i, j, a, b)

    def _flow(self, source_id: SourceId | None, i: int, j: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        size = (a.shape[1], a.shape[0])
        if self.cache is not None:
            key = source_id or SourceId.of_frames(a, b)
            cached = self.cache.get(key, i, j, preset=self.preset, size=size)
            if cached is not None:
                return cached
        estimator = getattr(self._local, "dis", None)
        if estimator is None:
            estimator = self._local.dis = DisFlow(self.preset)
        flow = estimator(a, b)
        if self.cache is not None:
            flow = self.cache.put(key, i, j, flow, preset=self.preset)
        return flow

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def video_flows(source: "str | Path | Iterable[np.ndarray] | Iterable[Frame]", *,
                preset: FlowPreset | str = DEFAULT_FLOW_PRESET, size: tuple[int, int] | None = None,
                start_frame: int | None = None, end_frame: int | None = None,
                cache: FlowCache | None = None, backward: bool = True,
                workers: int | None = None) -> Iterator[FlowPair]:
    """Optical flow between consecutive frames of a video, as a stream of :class:`FlowPair`.

    Frames are decoded once and converted to grey once; forward and backward
    flows are computed by ``workers`` threads (default: one per core), at most
    a few pairs ahead of the consumer, so memory stays flat on long clips.

    Args:
        source: a video file, image folder, or an iterable of (H, W, 3) uint8 RGB
            arrays or :class:`~vidstyle.io.Frame` records.
        preset: DIS preset (MEDIUM is the measurement default).
        size: (width, height) to resize frames to before computing flow.
        start_frame, end_frame: zero-based frame range (end exclusive).
        cache: a :class:`FlowCache`; flows found there are not recomputed.
            File sources are keyed by path, size and mtime; arrays by their pixels.
        backward: also compute flow(t+1 -> t), needed for validity masks.
        workers: number of flow threads.

    Yields:
        One :class:`FlowPair` per consecutive pair, in order.
    """
    preset = FlowPreset.parse(preset)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise UsageError(f"workers must be at least 1 (got {workers})")
    source_id = SourceId.of_file(source) if cache is not None and isinstance(source, (str, Path)) else None
    pool = _FlowWorkers(preset, workers, cache)
    pending: deque[tuple[Frame, Frame, Future, Future | None]] = deque()
    max_pending = 2 * workers
    try:
        previous: Frame | None = None
        previous_gray: np.ndarray | None = None
        for frame in _frames_of(source, size, start_frame, end_frame):
            gray = to_gray(frame.rgb)
            if previous is not None and previous_gray is not None:
                if gray.shape != previous_gray.shape:
                    raise InputError(f"frame {frame.index} is {gray.shape[1]}x{gray.shape[0]} but frame "
                                     f"{previous.index} is {previous_gray.shape[1]}x{previous_gray.shape[0]}",
                                     source if isinstance(source, (str, Path)) else None)
                i, j = previous.index, frame.index
                forward = pool.submit(source_id, i, j, previous_gray, gray)
                back = pool.submit(source_id, j, i, gray, previous_gray) if backward else None
                pending.append((previous, frame, forward, back))
                if len(pending) >= max_pending:
                    yield _collect(*pending.popleft())
            previous, previous_gray = frame, gray
        while pending:
            yield _collect(*pending.popleft())
    finally:
        pool.close()


def _collect(first: Frame, second: Frame, forward: Future, backward: Future | None) -> FlowPair:
    time = first.time if first.time_base is not None else None
    return FlowPair(index=first.index, next_index=second.index, forward=forward.result(),
                    backward=None if backward is None else backward.result(),
                    image=first.rgb, next_image=second.rgb, time=time)
