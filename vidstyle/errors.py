"""Errors that reach users as one line and exit code 2.

Every mistake a user can make (a missing file, a bad size string, an output that
already exists) raises :class:`VidstyleError` or a subclass. The CLI prints
``vidstyle: error: <message>`` and exits with code 2; the Python API lets it
propagate so callers can catch it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


class VidstyleError(Exception):
    """A user-facing error. ``str(err)`` is the whole one-line message.

    A message names parameters as a Python caller or recipe author spells them
    (``batch must be at least 1``, ``pass allow_trim=True``) and lists them in
    ``params``; the CLI respells those as its flags (``--batch``, ``--allow-trim``).
    """

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, *, params: Sequence[str] = ()) -> None:
        self.path = None if path is None else Path(path)
        self.message = " ".join(message.split())  # one line, always
        self.params = tuple(params)
        super().__init__(f"{path}: {self.message}" if path is not None else self.message)


class InputError(VidstyleError):
    """An input file or folder is missing, unreadable or not what it should be."""


class OutputExistsError(VidstyleError):
    """The output exists and ``overwrite`` was not given."""

    def __init__(self, path: str | Path) -> None:
        super().__init__("output exists (use overwrite=True to replace it)", path, params=("overwrite",))


class UsageError(VidstyleError):
    """An option value is malformed (e.g. a size string)."""


class StageError(VidstyleError):
    """A failure inside a processing stage, naming the stage and position."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) after work was kept on disk; ``str(err)`` says what and where,
    naming ``params`` as :class:`VidstyleError` does."""

    def __init__(self, message: str, *, params: Sequence[str] = ()) -> None:
        self.params = tuple(params)
        super().__init__(message)
