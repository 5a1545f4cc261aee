"""``probe``: what a video, image folder or image holds, without decoding it all."""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np

from ..errors import InputError
from ._colour import color_info
from ._paths import list_images, source_kind
from ._types import AudioStreamInfo, ColorInfo, ColorMatrix, ColorRange, SourceKind, Transfer, VideoInfo

IMAGE_FOLDER_FPS = 30.0  # rate given to image sequences unless the caller says otherwise
_VFR_SCAN_PACKETS = 600


def ffmpeg_reason(err: Exception) -> str:
    """FFmpeg's own words for an error, without errno noise."""
    text = getattr(err, "strerror", None) or str(err)
    return str(text).split(":")[-1].strip() or type(err).__name__


@contextmanager
def open_container(path: Path, hwaccel: object | None = None) -> Iterator[av.container.InputContainer]:
    """av.open for reading, turning FFmpeg failures into one-line InputErrors.

    ``hwaccel`` (an ``av.codec.hwaccel.HWAccel``) decodes on a device, e.g. NVDEC."""
    try:
        container = av.open(str(path), mode="r", **({"hwaccel": hwaccel} if hwaccel else {}))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable video file ({ffmpeg_reason(err)})", path) from None
    try:
        if not container.streams.video:
            raise InputError("has no video stream", path)
        yield container
    finally:
        container.close()


def probe(path: str | Path, *, fps: float = IMAGE_FOLDER_FPS) -> VideoInfo:
    """Describe an input: size, rates, frame count, duration, colour, audio, rotation.

    ``fps`` is the rate assumed for image folders and single images.
    """
    path = Path(path)
    kind = source_kind(path)
    if kind is not SourceKind.VIDEO:
        return _probe_images(path, kind, fps)
    with open_container(path) as container:
        return _probe_video(path, container)


# OpenCV logs "[ WARN ] ... PNG input buffer is incomplete" on stderr before our own one-line error
# about the same file; errors (and vidstyle's messages) are all a user needs.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def _image_bytes(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise InputError(f"cannot read the image: {err.strerror or err}", path) from None


def read_image_rgb(path: Path) -> "cv2.typing.MatLike":
    """An image file as an (H, W, 3) uint8 RGB array, or InputError."""
    data = _image_bytes(Path(path))
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError("not a readable image", path)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def image_alpha(path: Path) -> np.ndarray | None:
    """The (H, W) uint8 alpha channel of an image with transparent pixels, else None."""
    data = _image_bytes(Path(path))
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None or image.ndim != 3 or image.shape[2] != 4:
        return None
    alpha = image[..., 3]
    top = 65535 if alpha.dtype == np.uint16 else 255
    if alpha.min() == top:
        return None
    return (alpha // 257).astype(np.uint8) if alpha.dtype == np.uint16 else alpha


def _probe_images(path: Path, kind: SourceKind, fps: float) -> VideoInfo:
    files = [path] if kind is SourceKind.IMAGE else list_images(path)
    first = read_image_rgb(files[0])
    height, width = first.shape[:2]
    return VideoInfo(
        path=path, kind=kind, width=width, height=height, codec=files[0].suffix.lstrip(".").lower(),
        pixel_format="rgb24", nominal_fps=fps, average_fps=fps, is_vfr=False,
        frame_count=len(files), frame_count_is_estimate=False, duration=len(files) / fps,
        start_time=0.0, time_base=1 / Fraction(fps).limit_denominator(1000),
        color=ColorInfo(ColorMatrix.RGB, ColorRange.FULL, Transfer.SDR), rotation=0,
    )


def _rate(value: Fraction | None) -> float | None:
    return float(value) if value else None


def _scan_vfr(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> bool:
    """Look at packet timestamps (demux only, no decode) for uneven frame spacing."""
    stamps = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                stamps.append(packet.pts)
            if len(stamps) >= _VFR_SCAN_PACKETS:
                break
    except av.error.FFmpegError:
        pass  # damaged files are reported when decoding
    stamps.sort()
    steps = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
    if len(steps) < 3:
        return False
    typical = statistics.median(steps)
    return any(abs(step - typical) > 0.25 * typical for step in steps)


def _probe_video(path: Path, container: av.container.InputContainer) -> VideoInfo:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    time_base = stream.time_base or Fraction(1, 1000)
    nominal = _rate(stream.guessed_rate or stream.base_rate)
    average = _rate(stream.average_rate) or nominal
    duration = None
    if stream.duration:
        duration = float(stream.duration * time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    start_time = float(stream.start_time * time_base) if stream.start_time is not None else 0.0

    first = None
    try:
        first = next(container.decode(stream), None)
    except av.error.FFmpegError:
        pass
    if first is not None:
        color = color_info(first.colorspace, first.color_range, first.color_trc, first.format.name,
                           first.height)
        if not color.matrix_from_tag:  # frame untagged: fall back to the stream's tags
            color = color_info(ctx.colorspace, ctx.color_range, ctx.color_trc, first.format.name,
                               first.height)
        rotation = int(round(first.rotation or 0)) % 360
        width, height, pix = first.width, first.height, first.format.name
    else:
        color = color_info(ctx.colorspace, ctx.color_range, ctx.color_trc, ctx.pix_fmt or "", ctx.height)
        rotation, width, height, pix = 0, ctx.width, ctx.height, ctx.pix_fmt or "unknown"
    if rotation in (90, 270):
        width, height = height, width

    container.seek(0)
    is_vfr = _scan_vfr(container, stream)
    if nominal and average and abs(nominal - average) > 0.01 * nominal:
        is_vfr = True

    frame_count = stream.frames or None
    estimate = frame_count is None
    if estimate and duration and average:
        frame_count = int(round(duration * average))

    audio = tuple(
        AudioStreamInfo(
            index=a.index, codec=a.codec_context.name, sample_rate=a.codec_context.sample_rate or 0,
            channels=a.codec_context.channels if hasattr(a.codec_context, "channels")
            else a.codec_context.layout.nb_channels,
            duration=float(a.duration * a.time_base) if a.duration and a.time_base else None,
        )
        for a in container.streams.audio
    )
    return VideoInfo(
        path=path, kind=SourceKind.VIDEO, width=width, height=height, codec=ctx.name,
        pixel_format=pix, nominal_fps=nominal, average_fps=average, is_vfr=is_vfr,
        frame_count=frame_count, frame_count_is_estimate=estimate, duration=duration,
        start_time=start_time, time_base=time_base, color=color, rotation=rotation, audio=audio,
    )
