"""Streaming frame reader over videos, image folders and single images."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from ..errors import InputError, UsageError
from ..progress import warn
from ._colour import ACCURATE_FLAGS, frame_color, to_rgb_args
from ._frames import sequence_indices
from ._paths import list_images
from ._probe import IMAGE_FOLDER_FPS, open_container, probe, read_image_rgb
from ._timeline import TimelineRepair
from ._types import ColorInfo, Frame, SourceKind, VideoInfo

_SEEK_MIN_SECONDS = 2.0  # below this, decoding from the start is as cheap as seeking


class FrameReader:
    """Iterate over the frames of a video, image folder or image, bounded in memory.

    Use :func:`open_video` to make one. Frames come as :class:`Frame` records in
    source order; ``start``/``end`` (seconds) or ``start_frame``/``end_frame``
    (zero-based indices, end exclusive) pick a range. ``size`` resizes on decode.
    ``threads`` caps the decoder's threads (default: FFmpeg's choice);
    ``hwaccel`` (an ``av.codec.hwaccel.HWAccel``) decodes on a device.
    """

    def __init__(self, path: str | Path, *, start: float | None = None, end: float | None = None,
                 start_frame: int | None = None, end_frame: int | None = None,
                 size: tuple[int, int] | None = None, allow_hdr: bool = False,
                 fps: float = IMAGE_FOLDER_FPS, threads: int | None = None,
                 hwaccel: object | None = None) -> None:
        self.path = Path(path)
        self.threads, self.hwaccel = threads, hwaccel
        self.info: VideoInfo = probe(self.path, fps=fps)
        if (start is not None or end is not None) and (start_frame is not None or end_frame is not None):
            raise UsageError("give a time range or a frame range, not both")
        for name, value in (("start", start), ("end", end), ("start_frame", start_frame),
                            ("end_frame", end_frame)):
            if value is not None and not 0 <= value < float("inf"):  # nan fails this too
                raise UsageError(f"{name} must be a finite number, not negative (got {value})")
        for first, last, what in ((start, end, "end"), (start_frame, end_frame, "end_frame")):
            if first is not None and last is not None and last <= first:
                raise UsageError(f"{what} ({last}) must be after the start ({first})", self.path)
        if self.info.color.is_hdr and not allow_hdr:
            raise InputError(
                f"HDR video ({self.info.color.transfer.value.upper()} transfer): vidstyle works in SDR; "
                "convert it first or pass allow_hdr=True to read it without tone mapping", self.path,
                params=("allow_hdr",))
        self.start, self.end = start, end
        self.start_frame, self.end_frame = start_frame, end_frame
        self.size = size or (self.info.width, self.info.height)
        self.frames_read = 0
        self.frames_lost = 0
        self._container: av.container.InputContainer | None = None

    # -- context manager -------------------------------------------------
    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    # -- what to expect ----------------------------------------------------
    @property
    def expected_frames(self) -> int | None:
        """Frames this reader should yield (None when unknown), for progress bars."""
        total = self.info.frame_count
        if total is None:
            return None
        first, last = 0, total
        rate = self.info.average_fps or 0
        if self.start_frame is not None:
            first = min(self.start_frame, total)
        if self.end_frame is not None:
            last = min(self.end_frame, total)
        if self.start is not None and rate:
            first = min(int(round(self.start * rate)), total)
        if self.end is not None and rate:
            last = min(int(round(self.end * rate)), total)
        return max(0, last - first)

    def __iter__(self) -> Iterator[Frame]:
        if self.info.kind is SourceKind.VIDEO:
            yield from self._video_frames()
        else:
            yield from self._image_frames()

    # -- images ------------------------------------------------------------
    def _image_frames(self) -> Iterator[Frame]:
        files = [self.path] if self.info.kind is SourceKind.IMAGE else list_images(self.path)
        time_base = self.info.time_base
        for index, file in zip(sequence_indices(files), files):
            if not self._in_range(index, float(index * time_base)):
                continue
            rgb = read_image_rgb(file)
            if rgb.shape[1] != self.info.width or rgb.shape[0] != self.info.height:
                raise InputError(f"image is {rgb.shape[1]}x{rgb.shape[0]} but the sequence is "
                                 f"{self.info.width}x{self.info.height}", file)
            if self.size != (self.info.width, self.info.height):
                shrink = self.size[0] < self.info.width
                rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
            self.frames_read += 1
            yield Frame(index=index, pts=index, time_base=time_base, rgb=rgb)

    def _in_range(self, index: int, time: float) -> bool:
        if self.start_frame is not None and index < self.start_frame:
            return False
        if self.end_frame is not None and index >= self.end_frame:
            return False
        if self.start is not None and time < self.start - 1e-6:
            return False
        if self.end is not None and time >= self.end - 1e-6:
            return False
        return True

    def _past_end(self, index: int, time: float) -> bool:
        return (self.end_frame is not None and index >= self.end_frame) or (
            self.end is not None and time >= self.end - 1e-6)

    # -- video -------------------------------------------------------------
    def _video_frames(self) -> Iterator[Frame]:
        info = self.info
        with open_container(self.path, self.hwaccel) as container:
            self._container = container
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # the default (slice) threading does nothing for x264 files
            if self.threads:
                stream.thread_count = self.threads
            time_base = stream.time_base
            start_pts = stream.start_time or 0
            rate = info.nominal_fps or info.average_fps or 0
            # Indices stay source indices after a seek; that needs constant frame rate.
            start_time = self.start
            if start_time is None and self.start_frame and not info.is_vfr and rate:
                start_time = self.start_frame / rate
            seeked = bool(start_time and start_time >= _SEEK_MIN_SECONDS and not info.is_vfr and rate)
            if seeked:
                container.seek(int(start_time / time_base) + start_pts, stream=stream, backward=True)
            reformatter = VideoReformatter()
            color: ColorInfo | None = None
            step = int(round(1 / (rate * time_base))) if rate else 1
            repair = TimelineRepair(step)
            # Indices come from timestamps, so a frame that fails to decode leaves a gap, not a shift:
            # pts x rate at constant rate, the rank among all packet timestamps at variable rate.
            table = None if seeked or not info.is_vfr else pts_ranks(container, stream)
            last_raw: int | None = None
            last_index = -1
            self._gaps = 0
            for frame in self._decode(container, stream):
                raw = frame.pts
                if raw is None:  # keep the timeline: a bare counter drifts on VFR input
                    raw = start_pts if last_raw is None else last_raw + step
                last_raw = raw
                pts = repair(raw)
                time = float(pts * time_base)
                if table is not None and not repair.offset:
                    index = table.get(raw, last_index + 1)
                elif rate and not info.is_vfr:
                    index = int(round((pts - start_pts) * time_base * rate))
                else:
                    index = last_index + 1
                index = max(index, last_index + 1)
                if last_index >= 0 and not (seeked and self.frames_read == 0):
                    self._gaps += index - last_index - 1
                last_index = index
                if seeked and self.start_frame is None and time < start_time - 1e-6:
                    continue
                if self._past_end(index, time):
                    break
                if not self._in_range(index, time):
                    continue
                if color is None:
                    color = frame_color(frame, self.info.color)
                yield Frame(index=index, pts=pts, time_base=Fraction(time_base),
                            rgb=self._to_rgb(reformatter, frame, color))
                self.frames_read += 1
            self._container = None
            self._last_index = last_index
        self._report_loss(repair)

    def _decode(self, container: av.container.InputContainer,
                stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
        """Decode, skipping over damaged packets and stopping at a broken tail."""
        errors = 0
        try:
            for packet in container.demux(stream):
                try:
                    yield from packet.decode()
                except av.error.InvalidDataError:
                    errors += 1
        except av.error.FFmpegError:
            errors += 1
        self._decode_errors = errors

    def _to_rgb(self, reformatter: VideoReformatter, frame: av.VideoFrame, color: ColorInfo) -> np.ndarray:
        rotation = self.info.rotation
        width, height = self.size if rotation in (0, 180) else self.size[::-1]
        rgb_frame = reformatter.reformat(
            frame, width=width, height=height, format="rgb24", **to_rgb_args(color),
            interpolation=_interpolation(frame.width, frame.height, width, height),
        )
        rgb = rgb_frame.to_ndarray()
        if rotation:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))
        return rgb

    def _report_loss(self, repair: TimelineRepair) -> None:
        """Warn (one line each) about repaired timestamps and frames that really failed to decode:
        gaps between timestamps, or fewer frames than the container's exact count. A frame count
        that is only an estimate (duration x rate) is never evidence of loss on its own: variable
        frame rate files have fewer frames than that and nothing wrong with them."""
        repaired = repair.message(self.path)
        if repaired:
            warn(repaired)
        errors = getattr(self, "_decode_errors", 0)
        whole = self.end is None and self.end_frame is None
        lost, about = self._gaps, 0
        count = self.info.frame_count
        if whole and count is not None and not self.info.frame_count_is_estimate and not repair.repaired:
            lost += max(0, count - 1 - self._last_index)  # a truncated tail
        elif whole and count is not None and (errors or not self.info.is_vfr) and self.frames_read < count - 2:
            about = max(0, count - self.frames_read - lost)  # duration x rate: within a frame or two at constant rate
            lost += about
        if lost:
            self.frames_lost = lost
            approx = "about " if about else ""
            warn(f"{self.path}: damaged or truncated; decoded {self.frames_read} frames, {approx}{lost} lost "
                 "(later frames keep their source indices)")
        elif errors:
            warn(f"{self.path}: damaged data; {errors} unreadable packet(s) skipped")


def open_video(path: str | Path, **options: object) -> FrameReader:
    """Open a video, image folder or image for streaming. Use as a context manager::

        with open_video("clip.mp4", start=2.0, end=5.0, size=(320, 240)) as reader:
            for frame in reader:
                frame.rgb  # (240, 320, 3) uint8
    """
    return FrameReader(path, **options)  # type: ignore[arg-type]


def read_frames(path: str | Path, **options: object) -> Iterator[Frame]:
    """Generator form of :func:`open_video`; closes the file when exhausted."""
    with open_video(path, **options) as reader:
        yield from reader


def clip_indices(source: str | Path) -> list[int]:
    """The frame indices ``source`` yields, in order, without decoding a video.

    Videos count from 0; image folders whose files are all numbered use the numbers
    (``000120.png`` is frame 120), as :func:`open_video` does.
    """
    info = probe(source)
    if info.kind is SourceKind.IMAGE_FOLDER:
        return sequence_indices(list_images(Path(source)))
    return list(range(clip_length(source)))


def clip_length(source: str | Path) -> int:
    """Number of frames in ``source``: from the container when exact, else by decoding."""
    info = probe(source)
    if info.frame_count is not None and not info.frame_count_is_estimate:
        count = info.frame_count
    else:
        count = sum(1 for _ in read_frames(source))
    if count < 1:
        raise InputError("holds no frames", source)
    return count


def pts_ranks(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> dict[int, int] | None:
    """Each packet timestamp's rank among all of them (demux only, no decoding): the frame index
    at variable frame rate. None when timestamps repeat (joined segments): ranks mean nothing then."""
    stamps: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                stamps.append(packet.pts)
    except av.error.FFmpegError:
        pass  # a broken tail: rank what was read
    container.seek(0, stream=stream, backward=True)
    ordered = sorted(stamps)
    if len(set(ordered)) != len(ordered):
        return None
    return {pts: rank for rank, pts in enumerate(ordered)}


def _interpolation(src_w: int, src_h: int, dst_w: int, dst_h: int) -> Interpolation:
    """AREA to shrink, BICUBIC to enlarge, BILINEAR (no ringing in chroma) at the same size."""
    if (dst_w, dst_h) == (src_w, src_h):
        kind = Interpolation.BILINEAR
    elif dst_w * dst_h < src_w * src_h:
        kind = Interpolation.AREA
    else:
        kind = Interpolation.BICUBIC
    return kind | ACCURATE_FLAGS
