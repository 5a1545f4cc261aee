"""Atomic outputs: every run writes under its own temporary name and renames when complete.

The temporary name is ``NAME.<pid>-<random>.partial`` next to the final name, so two
runs writing the same output never share (and never delete) each other's half-written
files; the one that finishes last wins, with a complete file. Leftovers of killed runs
(their process is gone) are removed by the next run to the same output (:func:`remove_stale`).

Folder outputs also get a manifest (:data:`MANIFEST`) listing the files vidstyle wrote.
``overwrite`` replaces an existing folder only when it holds nothing else: a folder with
files vidstyle did not write (a user's own folder, ``-o .``) is refused, never emptied.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import OutputExistsError, VidstyleError

MANIFEST = ".vidstyle-output.json"  # what vidstyle wrote into a folder output
_SUFFIX = ".partial"


def partial_path(final: Path) -> Path:
    """A temporary name for ``final`` that no other run uses: ``NAME.<pid>-<random>.partial``."""
    return final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(3)}{_SUFFIX}")


def _owner_pid(final: Path, candidate: Path) -> int | None:
    """The pid in a temporary name made by :func:`partial_path` for ``final``, else None."""
    name = candidate.name
    prefix = final.name + "."
    if not (name.startswith(prefix) and name.endswith(_SUFFIX)):
        return None
    pid, _, token = name[len(prefix):-len(_SUFFIX)].partition("-")
    return int(pid) if pid.isdigit() and token else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(final: str | Path) -> None:
    """Remove temporary outputs for ``final`` left by runs that were killed (their pid is gone).

    It lists ``final``'s folder, so it runs once per output a user names (:func:`check_output`) or
    per cache entry, not in :func:`atomic_output`: a flow export writes a file per frame into one
    folder, and listing it for each would cost O(frames^2) (3000 files: 186 s on the loaded dev VM)."""
    final = Path(final)
    legacy = final.with_name(final.name + _SUFFIX)  # the shared name older versions used
    try:
        candidates = [p for p in final.parent.iterdir() if p.name.startswith(final.name + ".")]
    except OSError:
        return
    for path in candidates:
        pid = _owner_pid(final, path)
        if path == legacy or (pid is not None and pid != os.getpid() and not _alive(pid)):
            _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` (recursively, relative paths) that its manifest does not list:
    files vidstyle did not write there. Every file counts when there is no manifest."""
    try:
        listed = set(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        listed = set()
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())
    return [name for name in found if name != MANIFEST and name not in listed]


def check_replaceable(final: Path, *, is_dir: bool) -> None:
    """Refuse, before any work, an existing ``final`` that replacing would lose data in:
    a folder holding files vidstyle did not write, or a file where a folder goes (and back)."""
    if not final.exists():
        return
    if final.is_dir() and not is_dir:
        raise VidstyleError("is a folder; give a file name for this output", final)
    if is_dir and not final.is_dir():
        raise VidstyleError("is a file, but this output is a folder; give a folder name", final)
    if is_dir:
        foreign = foreign_files(final)
        if foreign:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise VidstyleError(f"folder holds files vidstyle did not write ({foreign[0]}{more}); "
                                "overwrite=True replaces only vidstyle's own outputs: give a new or empty folder",
                                final, params=("overwrite",))


_DISK_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
              errno.EFBIG: "file too large (file system or ulimit -f size limit)"}


# What torch.save's zip writer says when a write fails (it keeps no errno): seen with a full disk
# ("file write failed") and with ulimit -f ("unexpected pos N vs M").
_TORCH_WRITE_FAILED = ("file write failed", "inline_container", "PytorchStreamWriter")


def _size_limited() -> bool:
    if sys.platform == "win32":
        return False
    import resource

    return resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY


def write_failure(err: BaseException, final: Path) -> VidstyleError | None:
    """A one-line error for a write that failed because the disk (or quota, or size limit) is full,
    naming the output; None for other errors. FFmpeg raises OSError with the errno; torch.save only
    says "file write failed", so the free space decides what to call it."""
    cause = getattr(err, "cause", None)  # a failure wrapped with where it happened (a render stage)
    if isinstance(cause, BaseException) and cause is not err:
        return write_failure(cause, final)
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return VidstyleError(f"{_DISK_FULL[err.errno]} while writing it; nothing was written under "
                             "this name", final)
    if isinstance(err, RuntimeError) and any(mark in str(err) for mark in _TORCH_WRITE_FAILED):
        try:
            full = shutil.disk_usage(final.parent).free < 16 << 20
        except OSError:
            full = False
        limited = _size_limited()
        cause = ("no space left on device" if full else "file too large (ulimit -f size limit)" if limited
                 else "the write failed (disk full?)")
        return VidstyleError(f"{cause} while writing it; nothing was written under this name", final)
    return None


def _write_manifest(folder: Path) -> None:
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())
    (folder / MANIFEST).write_text(json.dumps({"files": [f for f in files if f != MANIFEST]}, indent=0))


def _install(temp: Path, final: Path, *, overwrite: bool, is_dir: bool, owned: bool) -> None:
    """Rename the complete ``temp`` to ``final``; without ``overwrite`` never replace an
    output another run put there meanwhile."""
    if not overwrite:
        if is_dir:
            try:
                os.rename(temp, final)  # fails on an existing non-empty folder
            except OSError as err:
                if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                    raise OutputExistsError(final) from None
                raise
            return
        try:
            os.link(temp, final)  # atomic create-if-absent
        except FileExistsError:
            raise OutputExistsError(final) from None
        except OSError:  # no hard links here (some network/FAT file systems)
            if final.exists():
                raise OutputExistsError(final) from None
            os.replace(temp, final)
            return
        temp.unlink()
        return
    if not owned:
        check_replaceable(final, is_dir=is_dir)  # again: the folder may have changed while we worked
    if is_dir and final.exists():
        old = partial_path(final)
        os.rename(final, old)  # a folder cannot be replaced in one step; this swap is the shortest gap
        os.rename(temp, final)
        _remove(old)
    else:
        os.replace(temp, final)


@contextmanager
def atomic_output(final: str | Path, *, overwrite: bool, is_dir: bool = False,
                  owned: bool = False) -> Iterator[Path]:
    """Yield a temporary path unique to this run; rename it to ``final`` on success.

    On any exception (Ctrl-C included) the temporary output is removed and nothing
    appears under the final name. An existing ``final`` is only replaced when
    ``overwrite`` is true, only once the new output is complete, and (for folders)
    only when it holds nothing but what vidstyle wrote there; ``owned`` skips that
    check for folders that are vidstyle's own (cache entries).
    """
    final = Path(final)
    if final.exists() and not overwrite:
        raise OutputExistsError(final)
    if overwrite and not owned:
        check_replaceable(final, is_dir=is_dir)
    temp = partial_path(final)
    try:
        if final.parent and not final.parent.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            temp.mkdir()
        else:
            temp.touch()  # fail here, naming the file, not deep inside an encoder
    except OSError as err:
        raise VidstyleError(f"cannot write the output: {err.strerror or err}", final) from None
    try:
        yield temp
        if is_dir and not owned:
            _write_manifest(temp)
        _install(temp, final, overwrite=overwrite or owned, is_dir=is_dir, owned=owned)
    except BaseException as err:
        _remove(temp)
        failure = write_failure(err, final)
        if failure is not None:
            raise failure from None
        raise
