"""Frames and flows of a clip for masks, guides and the Texler export.

``clip_flows`` is the single place they get whole-clip optical flow from.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from ..flow import FlowCache, FlowPair, FlowPreset, video_flows
from ..io import Frame, SourceKind, list_images, probe, read_frames, sequence_indices

# Guides and masks want DIS on the original tools' setting (MEDIUM) by default.
DEFAULT_PRESET = FlowPreset.MEDIUM


def clip_frames(source: str | Path, *, size: tuple[int, int] | None = None) -> Iterator[Frame]:
    """Decoded frames of ``source`` in order (a video, image folder or image)."""
    yield from read_frames(source, size=size)


def clip_flows(source: str | Path, *, preset: FlowPreset | str = DEFAULT_PRESET,
               size: tuple[int, int] | None = None, cache: FlowCache | None = None) -> Iterator[FlowPair]:
    """Forward and backward flow of every consecutive frame pair, streamed
    (:func:`vidstyle.flow.video_flows`, threaded and memory-bounded; ``cache``
    reuses flows computed before)."""
    yield from video_flows(source, preset=preset, size=size, backward=True, cache=cache)


def clip_indices(source: str | Path) -> list[int]:
    """The frame indices ``source`` yields, in order, without decoding a video.

    Videos count from 0; image folders whose files are all numbered use the numbers
    (``000120.png`` is frame 120), as :func:`vidstyle.io.open_video` does.
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
        count = sum(1 for _ in clip_frames(source))
    if count < 1:
        raise InputError("holds no frames", source)
    return count


class SpillStack:
    """A last-in-first-out store of per-frame arrays kept on disk, not in memory.

    Backward passes (propagating a mask or advecting guide points towards the start
    of a clip) need flows in reverse order; spilling them keeps long clips within a
    fixed memory budget. Flows are stored as float16 (0.01 px steps near 16 px,
    far below DIS's own error). Use as a context manager; the folder is removed on exit.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="vidstyle-spill-")
        self._count = 0

    def __enter__(self) -> "SpillStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()

    def __len__(self) -> int:
        return self._count

    def push(self, **arrays: np.ndarray) -> None:
        stored = {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in arrays.items()}
        np.savez(Path(self._dir.name) / f"{self._count}.npz", **stored)
        self._count += 1

    def pop_all(self) -> Iterator[dict[str, np.ndarray]]:
        """Items last first, removing each file once read; float16 comes back float32."""
        while self._count:
            self._count -= 1
            path = Path(self._dir.name) / f"{self._count}.npz"
            with np.load(path) as data:
                item = {k: (data[k].astype(np.float32) if data[k].dtype == np.float16 else data[k])
                        for k in data.files}
            path.unlink()
            yield item
