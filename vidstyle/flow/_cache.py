"""An on-disk flow cache, so that metrics, guides and training never compute the same flow twice.

Layout under ``root``::

    <source digest>/source.txt              what the digest stands for (for people)
    <source digest>/<preset>-<W>x<H>/<i>-<j>.npy   flow(frame i -> frame j)

A source is identified by its resolved path, size in bytes and modification
time (``SourceId.of_file``), by a hash of its bytes (``content=True``), or by
any caller-chosen text. Flows are stored as float16 by default (relative
rounding error at most 2**-11, i.e. 0.005 px on a 10 px motion, far below DIS's
own error) or float32 (``FlowPrecision.FULL``); ``put`` returns the stored
value, so a cache hit and a miss give bit-identical results.
"""

from __future__ import annotations

import enum
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._shapes import check_shape
from ..errors import InputError, VidstyleError
from ._dis import FlowPreset

_HASH_CHUNK = 1 << 20


class FlowPrecision(enum.Enum):
    """How cached flows are stored: HALF (float16, 4 bytes a pixel) or FULL (float32)."""

    HALF = "float16"
    FULL = "float32"


@dataclass(frozen=True)
class SourceId:
    """A stable identity for a video or frame sequence: ``digest`` keys the cache."""

    description: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.description.encode()).hexdigest()[:20]

    @classmethod
    def of_file(cls, path: str | Path, *, content: bool = False) -> "SourceId":
        """Identify a file (or image folder) by path, size and mtime, or by its bytes."""
        path = Path(path)
        if not path.exists():
            raise InputError("no such file or folder", path)
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        if content:
            digest = hashlib.sha256()
            for file in files:
                if path.is_dir():  # a renamed single file keeps its identity
                    digest.update(file.name.encode())
                with open(file, "rb") as handle:
                    while chunk := handle.read(_HASH_CHUNK):
                        digest.update(chunk)
            return cls(f"content sha256={digest.hexdigest()}")
        stats = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
        if path.is_file():
            return cls(f"file {path.resolve()} bytes={stats[0][1]} mtime_ns={stats[0][2]}")
        listing = hashlib.sha256(repr(stats).encode()).hexdigest()
        return cls(f"folder {path.resolve()} files={len(files)} listing={listing}")

    @classmethod
    def of_frames(cls, *frames: np.ndarray) -> "SourceId":
        """Identify in-memory frames by their pixels (for sources that are not files)."""
        digest = hashlib.blake2b(digest_size=16)
        for frame in frames:
            digest.update(repr((frame.shape, str(frame.dtype))).encode())
            digest.update(np.ascontiguousarray(frame).data)
        return cls(f"frames blake2b={digest.hexdigest()}")


class FlowCache:
    """Flows on disk, keyed by source, frame size, preset and frame pair.

    Example::

        cache = FlowCache("~/.cache/vidstyle/flow")
        flow = cache.get("clip.mp4", 10, 11, preset=FlowPreset.MEDIUM, size=(640, 480))
        if flow is None:
            flow = cache.put("clip.mp4", 10, 11, compute_flow(a, b), preset=FlowPreset.MEDIUM)

    Writes are atomic (a temporary file renamed into place), so several
    processes can share a cache; an unreadable entry counts as a miss.
    """

    def __init__(self, root: str | Path, precision: FlowPrecision = FlowPrecision.HALF) -> None:
        self.root = Path(root).expanduser()
        if self.root.exists() and not self.root.is_dir():
            raise InputError("flow cache is not a folder", self.root)
        self.precision = precision
        self.hits = 0
        self.misses = 0
        self._count_lock = threading.Lock()  # video_flows calls get/put from several threads

    def _count(self, hit: bool) -> None:
        with self._count_lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def folder(self, source: "str | Path | SourceId", preset: FlowPreset | str,
               size: tuple[int, int]) -> Path:
        """The folder holding one source's flows at one preset and size (width, height)."""
        source_id = source if isinstance(source, SourceId) else SourceId.of_file(source)
        preset = FlowPreset.parse(preset)
        return self.root / source_id.digest / f"{preset.value}-{size[0]}x{size[1]}"

    def _path(self, source: "str | Path | SourceId", i: int, j: int, preset: FlowPreset | str,
              size: tuple[int, int]) -> Path:
        return self.folder(source, preset, size) / f"{i}-{j}.npy"

    def get(self, source: "str | Path | SourceId", i: int, j: int, *, preset: FlowPreset | str,
            size: tuple[int, int]) -> np.ndarray | None:
        """flow(frame i -> frame j) as (H, W, 2) float32, or None if not cached."""
        path = self._path(source, i, j, preset, size)
        try:
            flow = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            self._count(hit=False)
            return None
        except (OSError, ValueError):  # truncated or foreign file: recompute it
            path.unlink(missing_ok=True)
            self._count(hit=False)
            return None
        if flow.shape != (size[1], size[0], 2):
            self._count(hit=False)
            return None
        self._count(hit=True)
        return flow.astype(np.float32)

    def put(self, source: "str | Path | SourceId", i: int, j: int, flow: np.ndarray, *,
            preset: FlowPreset | str) -> np.ndarray:
        """Store flow(frame i -> frame j); returns it as stored (rounded to the cache precision)."""
        check_shape(flow, "H, W, 2", "flow")
        stored = np.ascontiguousarray(flow, dtype=self.precision.value)
        size = (flow.shape[1], flow.shape[0])
        path = self._path(source, i, j, preset, size)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._describe(source, path.parent.parent)
            handle, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npy.partial", dir=path.parent)
        except OSError as err:
            raise VidstyleError(f"cannot write the flow cache: {err.strerror or err}", self.root) from None
        try:
            with os.fdopen(handle, "wb") as out:
                np.save(out, stored, allow_pickle=False)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return stored.astype(np.float32)

    def _describe(self, source: "str | Path | SourceId", folder: Path) -> None:
        note = folder / "source.txt"
        if not note.exists():
            source_id = source if isinstance(source, SourceId) else SourceId.of_file(source)
            note.write_text(source_id.description + "\n")

    def __repr__(self) -> str:
        return f"FlowCache({str(self.root)!r}, {self.precision.name}, hits={self.hits}, misses={self.misses})"
