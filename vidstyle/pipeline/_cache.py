"""The step cache: one folder per (step, key) under the work folder.

A step's key is a SHA-256 over its name and code version, its parameters, the
identity of its input files and the keys of the steps it depends on, so changing
anything upstream changes every key downstream and nothing else. A cached entry
is a folder ``WORK/<step>/<key>/`` holding the step's files and ``result.json``;
it is written as ``<key>.<pid>-<random>.partial`` and renamed when complete, so a killed run
never leaves an entry that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..io import atomic_output, remove_stale

RESULT_FILE = "result.json"
# Files up to this size are identified by content; larger ones by size and mtime.
CONTENT_HASH_LIMIT = 64 * 1024 * 1024


def file_identity(path: str | Path) -> dict[str, Any]:
    """What makes a file or folder "the same input": content hash for files up to
    64 MiB (moving or touching them keeps the key), size + mtime for larger ones,
    and the same per entry for folders."""
    path = Path(path).absolute()
    if path.is_dir():
        entries = sorted(p for p in path.rglob("*") if p.is_file())
        return {"entries": [[str(p.relative_to(path)), _file_digest(p)] for p in entries]}
    return {"digest": _file_digest(path)}


def _file_digest(path: Path) -> str:
    stat = path.stat()
    if stat.st_size > CONTENT_HASH_LIMIT:
        return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def step_key(name: str, version: str, params: dict[str, Any], files: dict[str, Any],
             upstream: dict[str, str]) -> str:
    """The cache key of one step run (hex, 16 characters is plenty for a work folder)."""
    payload = json.dumps({"step": name, "version": version, "params": params, "files": files,
                          "upstream": upstream}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class CacheEntry:
    """One finished step output: its folder, named files and JSON data."""

    step: str
    key: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)   # role -> path relative to ``folder``
    data: dict[str, Any] = field(default_factory=dict)     # small JSON results (losses, metrics)
    seconds: float = 0.0                                   # how long computing it took

    def path(self, role: str) -> Path:
        """The absolute path of the file the step stored under ``role``."""
        if role not in self.files:
            raise KeyError(f"step {self.step!r} produced no {role!r} (has {sorted(self.files)})")
        return self.folder / self.files[role]

    def has(self, role: str) -> bool:
        return role in self.files


class StepCache:
    """Cache folders under ``root`` (the work folder)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def folder(self, step: str, key: str) -> Path:
        return self.root / step / key

    def load(self, step: str, key: str) -> CacheEntry | None:
        """The finished entry, or None (missing, partial, or its files are gone)."""
        folder = self.folder(step, key)
        try:
            record = json.loads((folder / RESULT_FILE).read_text())
        except (OSError, ValueError):
            return None
        entry = CacheEntry(step=step, key=key, folder=folder, files=record.get("files", {}),
                           data=record.get("data", {}), seconds=float(record.get("seconds", 0.0)))
        if not all((folder / rel).exists() for rel in entry.files.values()):
            return None
        return entry

    def write(self, step: str, key: str) -> "_EntryWriter":
        """``with cache.write(step, key) as (folder, finish):`` fill ``folder``, then
        call ``finish(files, data, seconds)``; the entry appears only on success."""
        return _EntryWriter(self, step, key)

    def entries(self) -> Iterator[tuple[str, str]]:
        if not self.root.is_dir():
            return
        for step_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for entry in sorted(p for p in step_dir.iterdir() if p.is_dir() and not p.name.endswith(".partial")):
                yield step_dir.name, entry.name

    def prune(self, keep: dict[str, str]) -> int:
        """Remove entries of the steps in ``keep`` other than the kept key; returns
        how many folders were removed (old renders, old models)."""
        removed = 0
        for step, key in list(self.entries()):
            if step in keep and keep[step] != key:
                shutil.rmtree(self.folder(step, key), ignore_errors=True)
                removed += 1
        return removed


class _EntryWriter:
    def __init__(self, cache: StepCache, step: str, key: str) -> None:
        self.cache, self.step, self.key = cache, step, key
        self.entry: CacheEntry | None = None

    def __enter__(self) -> tuple[Path, Any]:
        final = self.cache.folder(self.step, self.key)
        if final.parent.is_dir():
            remove_stale(final)  # what a killed run of this step left
        self._atomic = atomic_output(final, overwrite=True, is_dir=True, owned=True)
        temp = self._atomic.__enter__()

        def finish(files: dict[str, str], data: dict[str, Any], seconds: float) -> None:
            record = {"step": self.step, "key": self.key, "files": files, "data": data, "seconds": seconds}
            (temp / RESULT_FILE).write_text(json.dumps(record, indent=1, default=_json_default))
            self.entry = CacheEntry(self.step, self.key, final, dict(files), data, seconds)

        return temp, finish

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        if exc_type is None and self.entry is None:
            exc = RuntimeError(f"step {self.step!r} finished without recording its result")
            self._atomic.__exit__(RuntimeError, exc, None)
            raise exc
        return bool(self._atomic.__exit__(exc_type, exc, tb))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
