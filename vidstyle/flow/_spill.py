"""Per-frame arrays kept on disk in last-in-first-out order, for passes that run backwards."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np


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
