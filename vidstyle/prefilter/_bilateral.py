"""Temporal bilateral filter along optical-flow trajectories (Texler et al.'s pre-filter)."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .._defaults import PREFILTER_RADIUS, PREFILTER_SIGMA_C, PREFILTER_SIGMA_T
from ..errors import UsageError
from ..flow import FlowCache, FlowPair, FlowPreset, default_workers, video_flows
from ..io import Codec, Frame, TranscodeResult, open_video, transcode
from ._trajectory import Link, filter_frame, make_link

SIGMA_C_DEFAULT = PREFILTER_SIGMA_C  # 27.6, Texler's value in 0-255 units (vidstyle._defaults)


@dataclass(frozen=True)
class PrefilterSettings:
    """``radius`` frames each way; time weight exp(-k^2 / (2 sigma_t^2)) (symmetric);
    colour weight exp(-|c_k - c_0|^2 / (2 sigma_c^2)), RGB 0-255."""

    radius: int = PREFILTER_RADIUS
    sigma_t: float = PREFILTER_SIGMA_T
    sigma_c: float = SIGMA_C_DEFAULT
    preset: FlowPreset = FlowPreset.MEDIUM

    def __post_init__(self) -> None:
        if self.radius < 1:
            raise UsageError(f"radius must be at least 1 frame (got {self.radius})", params=("radius",))
        if not (self.sigma_t > 0 and self.sigma_c > 0):
            raise UsageError("sigma_t and sigma_c must be positive", params=("sigma_t", "sigma_c"))


def temporal_bilateral_frames(frames: Iterable[Frame], *, radius: int = PREFILTER_RADIUS, sigma_t: float = PREFILTER_SIGMA_T,
                              sigma_c: float = SIGMA_C_DEFAULT,
                              preset: FlowPreset | str = FlowPreset.MEDIUM, cache: FlowCache | None = None,
                              workers: int | None = None) -> Iterator[Frame]:
    """Filter a stream of frames; yields frames with the same index and pts, in order.

    For each pixel of frame t the trajectory is followed up to ``radius`` frames
    forward and backward through the flow (bilinear); a trajectory stops at the
    first step whose flow fails Lai et al.'s occlusion test or that leaves the
    frame. The output is the weighted mean of the colours met, with symmetric time
    weights and colour weights (see :class:`PrefilterSettings`). Flows come from
    :func:`vidstyle.flow.video_flows` (threaded; ``cache``, a
    :class:`~vidstyle.flow.FlowCache`, skips flows computed before) and frames are
    filtered by ``workers`` threads (default one per core). Memory: a window of
    2 x radius + 1 frames and their flows.
    """
    settings = PrefilterSettings(radius, sigma_t, sigma_c, FlowPreset.parse(preset))
    seen: deque[Frame] = deque()  # frames video_flows has read and the filter has not taken yet

    def tap() -> Iterator[Frame]:
        for frame in frames:
            seen.append(frame)
            yield frame

    pairs = video_flows(tap(), preset=settings.preset, cache=cache, backward=True, workers=workers)
    yield from filter_along_flows(seen, pairs, settings, workers=workers)


def filter_along_flows(frames: deque[Frame], pairs: Iterator[FlowPair], settings: PrefilterSettings, *,
                       workers: int | None = None) -> Iterator[Frame]:
    """The filter over precomputed flows: ``pairs`` yields the flows between
    consecutive frames, and ``frames`` holds (or, fed by the producer of ``pairs``,
    comes to hold) the frames in order. Frames are filtered on a thread pool
    (OpenCV and numpy release the GIL) a few frames ahead of the consumer."""
    workers = default_workers() if workers is None else workers
    window: list[Frame] = []  # frames first .. first + len(window) - 1 of the clip
    links: list[Future[Link]] = []  # links[i] joins window[i] and window[i + 1]
    first = 0
    next_centre = 0
    jobs: deque[Future[Frame]] = deque()
    radius = settings.radius

    def submit(pool: ThreadPoolExecutor, centre: int) -> None:
        low = max(centre - radius, first) - first
        high = min(centre + radius, first + len(window) - 1) - first
        jobs.append(pool.submit(_filter_job, window[low:high + 1], links[low:high], centre - first - low,
                                settings))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidstyle-prefilter") as pool:
        for pair in pairs:
            if not window:
                window.append(frames.popleft())
            window.append(frames.popleft())
            links.append(pool.submit(make_link, pair.forward, pair.backward))
            while next_centre + radius < first + len(window):  # its whole window is here
                submit(pool, next_centre)
                next_centre += 1
            while len(jobs) > workers:
                yield jobs.popleft().result()
            drop = next_centre - radius - first  # frames no window ahead reaches
            if drop > 0:
                del window[:drop], links[:drop]
                first += drop
        if not window and frames:  # a one-frame clip has no pairs
            window.append(frames.popleft())
        while next_centre < first + len(window):
            submit(pool, next_centre)
            next_centre += 1
        while jobs:
            yield jobs.popleft().result()


def _filter_job(frames: list[Frame], links: list[Future[Link]], centre: int,
                settings: PrefilterSettings) -> Frame:
    # Links were submitted before this job, so the pool has started them already.
    rgb = filter_frame([f.rgb for f in frames], [link.result() for link in links], centre,
                       radius=settings.radius, sigma_t=settings.sigma_t, sigma_c=settings.sigma_c)
    frame = frames[centre]
    return Frame(index=frame.index, pts=frame.pts, time_base=frame.time_base, rgb=rgb)


def temporal_bilateral(source: str | Path, *, radius: int = PREFILTER_RADIUS, sigma_t: float = PREFILTER_SIGMA_T,
                       sigma_c: float = SIGMA_C_DEFAULT, preset: FlowPreset | str = FlowPreset.MEDIUM,
                       size: tuple[int, int] | None = None,
                       cache: FlowCache | None = None) -> Iterator[Frame]:
    """:func:`temporal_bilateral_frames` over the frames of a video or image folder."""
    with open_video(source, size=size) as reader:
        yield from temporal_bilateral_frames(reader, radius=radius, sigma_t=sigma_t, sigma_c=sigma_c,
                                             preset=preset, cache=cache)


def write_prefiltered(source: str | Path, output: str | Path, *, radius: int = PREFILTER_RADIUS, sigma_t: float = PREFILTER_SIGMA_T,
                      sigma_c: float = SIGMA_C_DEFAULT, preset: FlowPreset | str = FlowPreset.MEDIUM,
                      size: tuple[int, int] | None = None, codec: Codec | None = None,
                      crf: int | None = None, encoder_preset: str | None = None, audio: bool = True,
                      overwrite: bool = False, cache: FlowCache | None = None) -> TranscodeResult:
    """Pre-filter ``source`` into ``output`` (a video keeps timestamps and audio; a
    folder gets ``000120.png`` frames). ``preset`` is the flow's, ``encoder_preset``
    the video encoder's. ``cache`` keeps the flows for later runs."""
    PrefilterSettings(radius, sigma_t, sigma_c, FlowPreset.parse(preset))  # fail before decoding

    def transform(frames: Iterator[Frame]) -> Iterator[Frame]:
        return temporal_bilateral_frames(frames, radius=radius, sigma_t=sigma_t, sigma_c=sigma_c,
                                         preset=preset, cache=cache)

    return transcode(source, output, transform=transform, size=size, codec=codec, crf=crf,
                     preset=encoder_preset, audio=audio, overwrite=overwrite, desc="prefilter")
