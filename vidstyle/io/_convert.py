"""Whole-file operations built from the reader and writers: transcode and extract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from ..errors import UsageError
from ..progress import progress
from ._frames import frame_name
from ._paths import check_output
from ._reader import FrameReader, open_video
from ._types import Codec, Frame, SourceKind
from ._writer import FolderWriter, open_writer, write_image

FrameTransform = Callable[[Iterator[Frame]], Iterable[Frame]]


@dataclass(frozen=True)
class TranscodeResult:
    output: Path
    frames: int
    frames_lost: int


def transcode(source: str | Path, output: str | Path, *, transform: FrameTransform | None = None,
              start: float | None = None, end: float | None = None,
              size: tuple[int, int] | None = None, output_size: tuple[int, int] | None = None,
              codec: Codec | None = None, crf: int | None = None, preset: str | None = None,
              audio: bool = True, overwrite: bool = False, desc: str = "transcode",
              allow_hdr: bool = False) -> TranscodeResult:
    """Decode ``source``, pass its frames through ``transform`` (an iterator of
    :class:`Frame` in, frames out, same pts), and encode to ``output`` with the
    source's timestamps and audio.

    ``size`` resizes on decode (what ``transform`` sees), ``output_size`` the
    frames ``transform`` returns. Without ``transform`` this is a re-encode.
    """
    output = check_output(output, [source], overwrite)
    with open_video(source, start=start, end=end, size=size, allow_hdr=allow_hdr) as reader:
        first_frames = _peek_size(reader, transform)
        frames, width, height = first_frames
        width, height = output_size or (width, height)
        has_audio = audio and reader.info.kind is SourceKind.VIDEO and bool(reader.info.audio)
        writer_options: dict[str, object] = dict(crf=crf, preset=preset, overwrite=overwrite)
        if output.suffix:
            writer_options.update(rate=reader.info.nominal_fps, start=start, end=end,
                                  audio_from=source if has_audio else None)
        with open_writer(output, width=width, height=height, time_base=reader.info.time_base,
                         codec=codec, **writer_options) as writer, \
                progress(reader.expected_frames, desc) as bar:
            for frame in frames:
                rgb = frame.rgb
                if rgb.shape[1::-1] != (width, height):
                    rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
                writer.write(rgb, pts=frame.pts, index=frame.index)
                bar.update(1)
            count = writer.frames_written
        return TranscodeResult(output=output, frames=count, frames_lost=reader.frames_lost)


def _peek_size(reader: FrameReader, transform: FrameTransform | None) -> tuple[Iterator[Frame], int, int]:
    """The transformed frame stream and the size of its first frame."""
    frames: Iterator[Frame] = iter(reader if transform is None else transform(iter(reader)))
    first = next(frames, None)
    if first is None:
        raise UsageError(f"{reader.path}: no frames in the requested range")

    def chained() -> Iterator[Frame]:
        yield first
        yield from frames

    return chained(), first.rgb.shape[1], first.rgb.shape[0]


MIRROR_FOLDER = "mirrored"


def extract_frames(source: str | Path, output_dir: str | Path, *, size: tuple[int, int] | None = None,
                   every: int = 1, start: float | None = None, end: float | None = None,
                   mirror: bool = False, overwrite: bool = False) -> int:
    """Write frames of ``source`` as PNGs named by zero-based source index
    (``000120.png``). ``mirror`` also writes horizontally flipped copies under
    ``output_dir/mirrored/`` with the same names. Returns the frames written."""
    if every < 1:
        raise UsageError(f"every must be at least 1 (got {every})", params=("every",))
    output_dir = check_output(output_dir, [source], overwrite)
    with open_video(source, start=start, end=end, size=size) as reader:
        total = reader.expected_frames
        with FolderWriter(output_dir, overwrite=overwrite) as writer, \
                progress(None if total is None else -(-total // every), "extract") as bar:
            mirrored = writer.folder / MIRROR_FOLDER if mirror else None
            if mirrored is not None:
                mirrored.mkdir()
            for frame in reader:
                if frame.index % every:
                    continue
                writer.write(frame.rgb, index=frame.index)
                if mirrored is not None:
                    write_image(mirrored / frame_name(frame.index), np.ascontiguousarray(frame.rgb[:, ::-1]))
                bar.update(1)
            if not writer.frames_written:  # before the folder appears under its name
                raise UsageError("no frames in the requested range", source)
            return writer.frames_written
