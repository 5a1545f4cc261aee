"""One fast pass over a recording: per-frame statistics for cut detection and
a small appearance descriptor for keyframe suggestions.

Frames are decoded without the deblocking filter and shrunk by swscale straight to a
32x18 thumbnail: the cut and appearance measures need no more, and on the 2-core
development VM skipping the loop filter decoded 720p H.264 13 % faster in CPU time
(165 against 146 frames per CPU second; docs/BENCHMARKS.md, "Shots").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import InputError
from ..io import ColorInfo, SourceKind, frame_color, open_video, probe, to_rgb_args
from ..progress import progress

THUMB_SIZE = (32, 18)  # (W, H) of the thumbnail every measure works on
DESCRIPTOR_SIZE = (8, 6)  # (W, H) of the appearance descriptor's image part
DESCRIPTORS_PER_SECOND = 4
_HIST_BINS = 8
_CHUNK = 256  # frames measured together (440 kB of thumbnails)


@dataclass(frozen=True)
class Scan:
    """What one pass measured. Per frame (length ``frames``): ``times`` (seconds from
    the first frame), ``diff`` (mean absolute RGB difference to the previous frame scaled
    to this frame's mean brightness, 0-255; 0 for the first), ``hist`` (half the L1 distance
    between the previous and this frame's colour histograms, 0-1), ``mean``/``std`` (luma, 0-255).
    ``descriptors`` (len(sampled), D) float32: the appearance of the frames ``sampled``
    (about 4 a second: 10 MB an hour; plus any frames asked for with ``also``)."""

    path: Path
    fps: float
    times: np.ndarray
    diff: np.ndarray
    hist: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    descriptors: np.ndarray
    sampled: np.ndarray

    @property
    def frames(self) -> int:
        return len(self.times)


def describe(thumb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 thumbnail -> appearance descriptor (D,) float32: an 8x6 colour
    image and per-channel histograms, scaled so the RMS over D is in [0, 1]."""
    small = cv2.resize(thumb, DESCRIPTOR_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255
    return np.concatenate((small, _histogram(thumb) * 4.0)).astype(np.float32)


def _histogram(thumb: np.ndarray) -> np.ndarray:
    return _histograms(thumb[None])[0]


def _histograms(thumbs: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3 * bins) float32: per-channel histograms, each summing to 1."""
    n = len(thumbs)
    pixels = thumbs.reshape(n, -1, 3)
    # one bincount over (frame, channel, bin) indices
    index = (pixels // (256 // _HIST_BINS)).astype(np.int64) + np.arange(3) * _HIST_BINS
    index += (np.arange(n) * 3 * _HIST_BINS)[:, None, None]
    counts = np.bincount(index.ravel(), minlength=n * 3 * _HIST_BINS).reshape(n, 3 * _HIST_BINS)
    return counts.astype(np.float32) / pixels.shape[1]


def scan(path: str | Path, *, also: Iterable[int] = (), desc: str = "shots") -> Scan:
    """Measure every frame of ``path`` (a video, image folder or image) in one pass;
    ``also``: frames (positions from 0) described besides the regular samples (painted keyframes)."""
    path = Path(path)
    extra = set(also)
    info = probe(path)
    fps = info.nominal_fps or info.average_fps or 0.0
    every = max(1, round((fps or 20.0) / DESCRIPTORS_PER_SECOND))
    times: list[float] = []
    measures: list[np.ndarray] = []  # (chunk, 4): diff, hist, mean, std
    descriptors, sampled = [], []
    chunk = np.empty((_CHUNK, THUMB_SIZE[1], THUMB_SIZE[0], 3), np.uint8)
    previous: tuple[np.ndarray, np.ndarray] | None = None
    filled = 0
    with progress(info.frame_count, desc) as bar:
        for time, thumb in _thumbnails(path, info.kind, info.color):
            chunk[filled] = thumb
            filled += 1
            if len(times) % every == 0 or len(times) in extra:
                sampled.append(len(times))
                descriptors.append(describe(thumb))
            times.append(time)
            if filled == _CHUNK:
                previous = _measure(chunk, previous, measures)
                bar.update(filled)
                filled = 0
        if filled:
            _measure(chunk[:filled], previous, measures)
            bar.update(filled)
    if not times:
        raise InputError("no frames to scan", path)
    diff, hist, mean, std = np.concatenate(measures).T
    return Scan(path=path, fps=fps, times=np.asarray(times), diff=diff, hist=hist, mean=mean, std=std,
                descriptors=np.stack(descriptors), sampled=np.asarray(sampled, np.int64))


def _measure(thumbs: np.ndarray, previous: tuple[np.ndarray, np.ndarray] | None,
             out: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The measures of :class:`Scan` for (N, H, W, 3) uint8 ``thumbs`` in one go (a loop over
    frames cost 50 us a frame), appended to ``out`` as (N, 4) float32; ``previous``: the last
    thumbnail (H * W * 3,) float32 and histogram (24,) of the chunk before, or None for the first
    frame. Returns those of this chunk's last frame."""
    n = len(thumbs)
    rgb = thumbs.reshape(n, -1).astype(np.float32)
    hists = _histograms(thumbs)
    before_rgb = np.concatenate((previous[0][None] if previous else rgb[:1], rgb[:-1]))
    before_hist = np.concatenate((previous[1][None] if previous else hists[:1], hists[:-1]))
    measures = np.empty((n, 4), np.float32)
    # The previous frame scaled to this one's mean first: a fade darkens every pixel alike, and
    # unscaled that scored as a cut (the test suite's fade: 24.9 against ~6 for its moving frames,
    # score 3.96 of 4; out of a still scene 37 against 0.8; docs/BENCHMARKS.md, "Shots").
    mean_before = before_rgb.mean(axis=1)
    gain = np.where(mean_before >= 1.0, rgb.mean(axis=1) / np.maximum(mean_before, 1.0), 1.0)
    measures[:, 0] = np.abs(rgb - gain[:, None].astype(np.float32) * before_rgb).mean(axis=1)
    measures[:, 1] = np.abs(hists - before_hist).sum(axis=1) / 6.0
    luma = cv2.cvtColor(thumbs.reshape(-1, thumbs.shape[2], 3), cv2.COLOR_RGB2GRAY).reshape(n, -1)
    measures[:, 2] = luma.mean(axis=1)
    measures[:, 3] = luma.std(axis=1)
    out.append(measures)
    return rgb[-1], hists[-1]


def _thumbnails(path: Path, kind: SourceKind, color: ColorInfo) -> Iterator[tuple[float, np.ndarray]]:
    """(time, (18, 32, 3) uint8 RGB) per frame in decode order; YUV converted with the matrix and
    range the frame (else the stream, ``color``) is tagged with, as the renderer's reader does."""
    if kind is not SourceKind.VIDEO:
        with open_video(path, size=THUMB_SIZE) as reader:
            for frame in reader:
                yield frame.time, frame.rgb
        return
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise InputError(f"not a readable video file ({err})", path) from None
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.options = {"skip_loop_filter": "all"}  # see the module docstring
        time_base = Fraction(stream.time_base)
        num, den = time_base.numerator, time_base.denominator  # int / int: exact as float(Fraction), cheaper
        start = stream.start_time or 0
        # One swscale context for the whole pass, single-threaded: ``frame.reformat`` makes a new
        # context per frame (re-initialised, and with threads=0 its own slice threads that wait for
        # cores the decoder holds): 500 against 146 us per 720p frame, identical thumbnails
        # (docs/BENCHMARKS.md, "Shots").
        reformatter = VideoReformatter()
        last_tags: tuple[int, int, str] | None = None
        convert: dict[str, Any] = {}
        try:
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    continue  # a damaged packet: its frames are missing, as for the renderer
                for frame in decoded:
                    tags = (frame.colorspace, frame.color_range, frame.format.name)
                    if tags != last_tags:  # the swscale arguments, looked up again only when they change
                        last_tags, convert = tags, to_rgb_args(frame_color(frame, color))
                    thumb = reformatter.reformat(frame, width=THUMB_SIZE[0], height=THUMB_SIZE[1],
                                                 format="rgb24", interpolation="AREA", threads=1, **convert)
                    pts = frame.pts if frame.pts is not None else start
                    yield (pts - start) * num / den, thumb.to_ndarray()
        except av.error.FFmpegError:
            return  # a broken tail: keep what was decoded
