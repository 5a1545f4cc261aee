"""Video and frame-folder writers: BT.709 limited range, source timestamps, audio kept."""

from __future__ import annotations

from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Protocol, Self

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange as SwsRange
from av.video.reformatter import Colorspace as SwsColorspace
from av.video.reformatter import Interpolation, VideoReformatter

from .._defaults import CRF, ENCODER_PRESET, NVENC_PRESET
from ..errors import UsageError, VidstyleError
from ..progress import warn
from ._audio import AudioCopier
from ._colour import ACCURATE_FLAGS, BT709_TAG, LIMITED_RANGE_TAG
from ._frames import frame_name
from ._atomic import atomic_output
from ._paths import CONTAINER_FORMATS, IMAGE_EXTENSIONS
from ._timeline import TimelineRepair
from ._types import Codec

DEFAULT_CRF = CRF  # vidstyle._defaults
DEFAULT_PRESET = ENCODER_PRESET
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow", "placebo")  # x265 has the same names
CRF_RANGE = (0, 63)


def check_encoder_settings(codec: Codec, crf: int | None, preset: str | None) -> None:
    """Refuse a quality or preset the encoder would reject (FFmpeg fails only at
    the first frame, with a message about avcodec_open2)."""
    if crf is not None and not CRF_RANGE[0] <= crf <= CRF_RANGE[1]:
        raise UsageError(f"bad crf {crf}: must be {CRF_RANGE[0]}-{CRF_RANGE[1]} (lower is better quality)")
    if preset is not None and codec in (Codec.H264, Codec.H265) and preset not in X264_PRESETS:
        raise UsageError(f"unknown {codec.value} preset {preset!r} (choose from {', '.join(X264_PRESETS)})")


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an (H, W, 3) RGB or (H, W) grey uint8 image, format by extension (PNG, JPEG...).

    Encoded in memory and written by Python, so a full disk raises OSError with its errno (which
    :func:`atomic_output` turns into one line naming the output) instead of OpenCV's bare False."""
    path = Path(path)
    ok, data = cv2.imencode(path.suffix.lower() or ".png",
                            image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise VidstyleError("could not encode the image", path)
    path.write_bytes(data.tobytes())
    return path


class FrameWriter(Protocol):
    """What every writer offers: ``write`` frames, optionally ``finish`` (write
    what is still buffered; leaving the ``with`` block does it otherwise), then
    leave the ``with`` block."""

    def write(self, rgb: np.ndarray, *, pts: int | None = None, index: int | None = None) -> None: ...
    def finish(self) -> None: ...
    def __enter__(self) -> "FrameWriter": ...
    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...


class _AtomicWriter:
    """A writer whose output appears under ``path`` only when its ``with`` block ends without an
    error (``atomic_output``): until then frames go to the temporary ``_temp``. Nothing is buffered."""

    _is_dir = False

    def __init__(self, path: str | Path, *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.frames_written = 0
        self._stack = ExitStack()
        self._temp = self._stack.enter_context(atomic_output(self.path, overwrite=overwrite, is_dir=self._is_dir))

    def finish(self) -> None:
        """Nothing is buffered: every frame is a file as soon as it is written."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._stack.__exit__(exc_type, exc, tb)


class FolderWriter(_AtomicWriter):
    """Writes ``000120.png`` frames (:func:`frame_name` of the zero-based source index) into a folder,
    atomically: a temporary folder renamed to ``DIR`` when complete (see ``atomic_output``)."""

    _is_dir = True

    @property
    def folder(self) -> Path:
        """Where files go while writing (renamed to ``path`` on success)."""
        return self._temp

    def write(self, rgb: np.ndarray, *, pts: int | None = None, index: int | None = None) -> None:
        index = self.frames_written if index is None else index
        write_image(self._temp / frame_name(index), rgb)
        self.frames_written += 1


class ImageWriter(_AtomicWriter):
    """Writes a single frame to an image file (PNG, JPEG, WebP...), atomically."""

    def write(self, rgb: np.ndarray, *, pts: int | None = None, index: int | None = None) -> None:
        if self.frames_written:
            raise VidstyleError("an image file holds one frame; give a folder for several", self.path)
        ok, data = cv2.imencode(self.path.suffix.lower(), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise VidstyleError("could not encode the image", self.path)
        self._temp.write_bytes(data.tobytes())  # the extension is the final name's, not the temporary's
        self.frames_written = 1


class VideoWriter:
    """Encode RGB frames to a video file, keeping source timestamps and audio.

    Args:
        path: output file; written under a temporary name and renamed when closed
            without error.
        width, height: frame size.
        time_base: the source's time base; every ``pts`` passed to
            :meth:`write` is in it and is kept as is (no renumbering).
        rate: nominal frame rate (for rate control and frames without pts).
        codec, crf, preset: encoder settings. ``crf`` is x264/x265's CRF and
            NVENC's CQ; ``preset`` the encoder's preset name.
        audio_from: a file whose audio streams are copied packet for packet,
            trimmed to [``start``, ``end``) seconds of the source.
        start: the source time (seconds) the output begins at; video and audio
            are both shifted by it, so a trimmed clip starts at 0.
        threads: encoder threads (default: FFmpeg's choice).
    """

    def __init__(self, path: str | Path, *, width: int, height: int, time_base: Fraction,
                 rate: float | None = None, codec: Codec = Codec.H264, crf: int | None = None,
                 preset: str | None = None, audio_from: str | Path | None = None,
                 start: float | None = None, end: float | None = None,
                 overwrite: bool = False, threads: int | None = None) -> None:
        self.path = Path(path)
        self.threads = threads
        self.width, self.height = width, height
        self.time_base = Fraction(time_base)
        self.rate = Fraction(rate).limit_denominator(1001) if rate else Fraction(30)
        self.offset_ticks = int(round((start or 0.0) / self.time_base))
        self.frames_written = 0
        self._last_pts: int | None = None
        self._timeline = TimelineRepair(int(round(1 / (self.rate * self.time_base))) or 1)
        self._finished = False
        fmt = CONTAINER_FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise UsageError(f"unknown video extension {self.path.suffix!r} (use one of "
                             f"{', '.join(sorted(CONTAINER_FORMATS))}, or a folder for PNG frames)", self.path)
        check_encoder_settings(codec, crf, preset)
        self._stack = ExitStack()
        temp = self._stack.enter_context(atomic_output(self.path, overwrite=overwrite))
        self._container = av.open(str(temp), mode="w", format=fmt)
        self._stack.callback(self._container.close)
        try:
            self._stream = self._add_video_stream(codec, crf, preset)
            self._audio = None
            if audio_from is not None:
                self._audio = AudioCopier(Path(audio_from), self._container, self.path,
                                          start=start, end=end, offset=start or 0.0)
                self._stack.callback(self._audio.close)
        except BaseException as err:
            self._stack.__exit__(type(err), err, None)
            raise
        self._reformatter = VideoReformatter()

    def _add_video_stream(self, codec: Codec, crf: int | None, preset: str | None) -> av.VideoStream:
        if codec is Codec.PNG:
            raise UsageError("PNG output is a folder: give a folder path instead of a file")
        if codec.value not in av.codecs_available:
            raise VidstyleError(f"encoder {codec.value} is not in this FFmpeg build", self.path)
        if codec.value not in self._container.supported_codecs and codec is not Codec.H264_NVENC:
            raise VidstyleError(f"{self.path.suffix} files cannot hold {codec.name.lower()} video; "
                                "use .mp4 or .mkv", self.path)
        stream = self._container.add_stream(codec.value, rate=self.rate)
        stream.width, stream.height = self.width, self.height
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        odd = self.width % 2 or self.height % 2
        if codec is Codec.FFV1:
            stream.pix_fmt = "bgr0"  # lossless RGB: no chroma subsampling, no matrix
        elif odd:
            warn(f"{self.path}: odd frame size {self.width}x{self.height}; encoding 4:4:4, which some "
                 "players (browsers) do not play; an even size plays everywhere", params=("size",))
            stream.pix_fmt = "yuv444p"
        else:
            stream.pix_fmt = "yuv420p"
        options = {}
        quality = DEFAULT_CRF if crf is None else crf
        if codec in (Codec.H264, Codec.H265):
            options = {"crf": str(quality), "preset": preset or DEFAULT_PRESET}
            if codec is Codec.H265:
                options["x265-params"] = "log-level=error"
        elif codec is Codec.H264_NVENC:
            options = {"rc": "vbr", "cq": str(quality), "preset": preset or NVENC_PRESET}
        stream.options = options
        if codec is not Codec.FFV1:
            ctx = stream.codec_context
            ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709_TAG
            ctx.color_range = LIMITED_RANGE_TAG
        stream.thread_type = "AUTO"
        if self.threads:
            stream.codec_context.thread_count = self.threads
        if codec is Codec.H264_NVENC:
            try:
                stream.codec_context.open()
            except av.error.FFmpegError as err:
                raise VidstyleError("h264_nvenc is not available here (needs an NVIDIA GPU and driver; "
                                    f"FFmpeg says: {err}); use codec=h264", self.path, params=("codec",)) from None
        return stream

    def _yuv_frame(self, rgb: np.ndarray) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if self._stream.pix_fmt == "bgr0":
            return self._reformatter.reformat(frame, format="bgr0")
        out = self._reformatter.reformat(
            frame, format=self._stream.pix_fmt, dst_colorspace=SwsColorspace.ITU709,
            # AREA: box-filtered chroma, 2.5 dB closer to the RGB input than BILINEAR
            dst_color_range=SwsRange.MPEG, interpolation=Interpolation.AREA | ACCURATE_FLAGS)
        out.colorspace, out.color_range = BT709_TAG, LIMITED_RANGE_TAG
        return out

    def write(self, rgb: np.ndarray, *, pts: int | None = None, index: int | None = None) -> None:
        """Encode one (H, W, 3) uint8 RGB frame at source timestamp ``pts``."""
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise VidstyleError(f"frame is {rgb.shape} {rgb.dtype}, writer expects "
                                f"({self.height}, {self.width}, 3) uint8", self.path)
        if pts is None:  # continue the timeline at the nominal rate
            out_pts = 0 if self._last_pts is None else self._last_pts + self._timeline.step
        else:
            out_pts = pts - self.offset_ticks
        self._encode(self._yuv_frame(np.ascontiguousarray(rgb)), out_pts)

    @property
    def pix_fmt(self) -> str:
        """The pixel format frames are encoded in (``yuv420p``, ``yuv444p`` or ``gbrp``)."""
        return self._stream.pix_fmt

    def write_frame(self, frame: av.VideoFrame, *, pts: int) -> None:
        """Encode a frame already converted to :attr:`pix_fmt` with BT.709
        limited range (e.g. on a GPU); ``pts`` is the source timestamp."""
        if (frame.width, frame.height) != (self.width, self.height) or frame.format.name != self.pix_fmt:
            raise VidstyleError(f"frame is {frame.width}x{frame.height} {frame.format.name}, writer "
                                f"expects {self.width}x{self.height} {self.pix_fmt}", self.path)
        out_pts = pts - self.offset_ticks
        frame.colorspace, frame.color_range = BT709_TAG, LIMITED_RANGE_TAG
        self._encode(frame, out_pts)

    def _encode(self, frame: av.VideoFrame, out_pts: int) -> None:
        out_pts = self._timeline(out_pts)  # a repeated or backwards timestamp: moved, never dropped
        frame.pts, frame.time_base = out_pts, self.time_base
        self._container.mux(self._stream.encode(frame))
        self._last_pts = out_pts
        self.frames_written += 1
        if self._audio is not None:
            self._audio.mux_until(float(out_pts * self.time_base))

    def finish(self) -> None:
        """Encode the frames the encoder still holds (x264 keeps dozens for its
        lookahead, so on a short clip this is most of the encoding) and the rest
        of the audio. Leaving the ``with`` block does it when not called."""
        if self._finished:
            return
        self._finished = True
        repaired = self._timeline.message(self.path)
        if repaired:
            warn(repaired)
        self._container.mux(self._stream.encode(None))
        if self._audio is not None:
            self._audio.finish()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()
        self._stack.__exit__(exc_type, exc, tb)


def open_writer(path: str | Path, *, width: int, height: int, time_base: Fraction,
                codec: Codec | None = None, **options: object) -> FrameWriter:
    """A :class:`VideoWriter` for a video path, an :class:`ImageWriter` for an
    image path (one frame), a :class:`FolderWriter` for a folder path (no video
    extension) or ``codec=Codec.PNG``."""
    path = Path(path)
    if codec is Codec.PNG and path.suffix.lower() in CONTAINER_FORMATS:
        raise UsageError("codec=png writes a folder of PNG frames; give a folder, not a video file name",
                         path, params=("codec",))
    if codec not in (None, Codec.PNG) and not path.suffix:
        raise UsageError(f"a folder gets PNG frames, but codec={codec.name.lower()} asks for a video; "
                         "give a file name such as out.mp4", path, params=("codec",))
    suffix = path.suffix.lower()
    if suffix and codec is not Codec.PNG and suffix not in CONTAINER_FORMATS and suffix not in IMAGE_EXTENSIONS:
        videos = ", ".join(sorted(CONTAINER_FORMATS))
        raise UsageError(f"unknown output extension {path.suffix!r}: give a video ({videos})"
                         f", an image ({', '.join(sorted(IMAGE_EXTENSIONS))}), or a folder name without an "
                         "extension (or codec=png) for PNG frames", path, params=("codec",))
    if path.suffix.lower() in IMAGE_EXTENSIONS and codec in (None, Codec.PNG):
        return ImageWriter(path, overwrite=bool(options.get("overwrite", False)))
    if codec is Codec.PNG or path.suffix.lower() not in CONTAINER_FORMATS:
        return FolderWriter(path, overwrite=bool(options.get("overwrite", False)))
    return VideoWriter(path, width=width, height=height, time_base=time_base,
                       codec=codec or Codec.H264, **options)  # type: ignore[arg-type]
