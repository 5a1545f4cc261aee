"""Apply a painter (reference style, neural style, style image, model) to frames of a video or folder."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..io import Codec, Frame, FolderWriter, TranscodeResult, check_output, open_video, transcode
from ..progress import progress
from ._painter import Painter, load_painter, spec_files


def paint_frames(source: str | Path, output_dir: str | Path, indices: list[int], style: "str | Painter" = "toon",
                 *, size: tuple[int, int] | None = None, device: str = "auto", overwrite: bool = False) -> list[int]:
    """Paint the frames ``indices`` of ``source`` into ``output_dir`` as PNGs
    named by frame index (a keyframe folder for ``vidstyle train``). ``style`` is a
    painter spec (``toon``, ``neural:7``, ``model:PATH``, ...) or a :class:`Painter`."""
    wanted = set(indices)
    output_dir = check_output(output_dir, [source, *spec_files(style)], overwrite)
    paint = load_painter(style, device=device)
    written: list[int] = []
    with open_video(source, size=size, start_frame=min(wanted), end_frame=max(wanted) + 1) as reader, \
            FolderWriter(output_dir, overwrite=overwrite) as writer, \
            progress(len(wanted), "paint") as bar:
        for frame in reader:
            if frame.index in wanted:
                writer.write(paint(frame.rgb), index=frame.index)
                written.append(frame.index)
                bar.update(1)
        missing = sorted(wanted - set(written))
        if missing:
            raise InputError(f"no frame {missing[0]} (the input has fewer frames)", source)
    return written


def paint_video(source: str | Path, output: str | Path, style: "str | Painter" = "toon", *,
                size: tuple[int, int] | None = None, start: float | None = None, end: float | None = None,
                codec: Codec | None = None, crf: int | None = None, preset: str | None = None,
                audio: bool = True, device: str = "auto", overwrite: bool = False) -> TranscodeResult:
    """Paint every frame of ``source`` into a video (timestamps and audio kept)
    or a PNG folder: the per-frame baseline (or ground truth) a trained model is
    scored against."""
    check_output(output, [source, *spec_files(style)], overwrite)
    paint = load_painter(style, device=device)

    def transform(frames: Iterator[Frame]) -> Iterator[Frame]:
        for frame in frames:
            yield Frame(frame.index, frame.pts, frame.time_base, paint(frame.rgb))

    return transcode(source, output, transform=transform, start=start, end=end, size=size, codec=codec,
                     crf=crf, preset=preset, audio=audio, overwrite=overwrite, desc=f"paint {paint.name}")

