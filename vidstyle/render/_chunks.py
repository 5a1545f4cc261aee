"""Splitting one recording into chunks, and the worker side of ``vidstyle render --ray``.

Nothing here imports Ray: :class:`ChunkRenderer` is a plain class the driver
(:mod:`._ray`) turns into a Ray actor, and :func:`render_file` a plain function it
turns into a Ray task; both call :func:`~vidstyle.render.render`, the one render loop.
"""

from __future__ import annotations

import socket
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import av

from ..errors import InputError, VidstyleError
from .._defaults import RAY_WARMUP
from ..models import load_stylizer
from ..progress import set_quiet
from ._render import RenderOptions, render

DEFAULT_WARMUP = RAY_WARMUP


@dataclass(frozen=True)
class Chunk:
    """Source frames [``first``, ``last``) rendered after ``warmup`` frames before them."""

    index: int
    first: int
    last: int
    warmup: int = 0

    @property
    def frames(self) -> int:
        return self.last - self.first


@dataclass
class ChunkResult:
    """What a worker sends back: the encoded chunk (``data``) or a one-line ``error``."""

    index: int
    data: bytes = b""
    frames: int = 0
    seconds: float = 0.0
    busy: dict[str, float] = field(default_factory=dict)  # decode/model/encode busy seconds
    node: str = ""
    error: str | None = None


def source_keyframes(path: str | Path) -> tuple[int, list[int]]:
    """(frames, keyframe frame indices) of a video from its packets alone (no decoding):
    frames are numbered in presentation order, as the reader numbers them."""
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise InputError(f"not a readable video file ({err})", path) from None
    with container:
        if not container.streams.video:
            raise InputError("has no video stream", path)
        stream = container.streams.video[0]
        stamps = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.pts is not None]
    stamps.sort()
    return len(stamps), [i for i, (_, key) in enumerate(stamps) if key]


def plan_chunks(frames: int, keyframes: Sequence[int], *, chunk_frames: int, cuts: Sequence[int] = (),
                warmup: int = DEFAULT_WARMUP) -> list[Chunk]:
    """Chunks of about ``chunk_frames`` frames (the last may be shorter), starting at source
    keyframes (exact seeks, nothing decoded twice) or at ``cuts`` (shot starts: no warm-up
    there, the temporal state is reset anyway); where neither comes within twice
    ``chunk_frames``, at any frame (the reader then decodes from the keyframe before it)."""
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be at least 1 (got {chunk_frames})")
    cut_set = {c for c in cuts if 0 < c < frames}
    marks = sorted((set(keyframes) | cut_set | {frames}) - {0})
    starts = [0]
    for mark in marks:
        while mark - starts[-1] > 2 * chunk_frames:
            starts.append(starts[-1] + chunk_frames)
        if mark - starts[-1] >= chunk_frames and mark < frames:
            starts.append(mark)
    ends = starts[1:] + [frames]
    return [Chunk(index=i, first=first, last=last,
                  warmup=0 if first == 0 or first in cut_set else min(warmup, first))
            for i, (first, last) in enumerate(zip(starts, ends)) if last > first]


def _node() -> str:
    return socket.gethostname()


class ChunkRenderer:
    """A worker: loads the model once, then renders chunks of sources to bytes."""

    def __init__(self, model: str, options: RenderOptions) -> None:
        set_quiet(True)
        self.options = options
        self.error: str | None = None
        try:
            self.model = load_stylizer(model, "cpu")
        except VidstyleError as err:
            self.error = f"{err} (on Ray worker node {_node()})"

    def ready(self) -> str | None:
        """None, or why this worker cannot render (e.g. the model file is not on its node)."""
        return self.error

    def render(self, source: str, chunk: Chunk, suffix: str) -> ChunkResult:
        if self.error is not None:
            return ChunkResult(chunk.index, error=self.error, node=_node())
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="vidstyle-chunk-") as folder:
                out = Path(folder) / f"chunk{chunk.index:05d}{suffix}"
                result = render(source, self.model, out, self.options, frame_range=(chunk.first, chunk.last),
                                warmup=chunk.warmup, audio=False, overwrite=True, desc=f"chunk {chunk.index}")
                data = out.read_bytes()
        except VidstyleError as err:
            return ChunkResult(chunk.index, error=f"{err} (on Ray worker node {_node()})", node=_node())
        times = result.times
        return ChunkResult(chunk.index, data=data, frames=result.frames, seconds=time.perf_counter() - started,
                           busy={"decode": times.decode, "model": times.model, "encode": times.encode},
                           node=_node())


@dataclass(frozen=True)
class FileResult:
    """One file of a batch render: its output, or the one-line ``error``."""

    source: Path
    output: Path
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None


def render_file(source: str, model: str, output: str, options: RenderOptions, quiet: bool = False) -> FileResult:
    """Render one whole file; a user-facing failure comes back as ``error``, not raised."""
    if quiet:
        set_quiet(True)
    started = time.perf_counter()
    try:
        result = render(source, model, output, replace(options, desc=Path(source).name))
    except VidstyleError as err:
        return FileResult(Path(source), Path(output), error=str(err))
    return FileResult(Path(source), result.output, frames=result.frames, seconds=time.perf_counter() - started)
