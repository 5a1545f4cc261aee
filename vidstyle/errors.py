"""Errors that reach users as one line and exit code 2.

Every mistake a user can make (a missing file, a bad size string, an output that
already exists) raises :class:`VidstyleError` or a subclass. The CLI prints
``vidstyle: error: <message>`` and exits with code 2; the Python API lets it
propagate so callers can catch it.
"""

from __future__ import annotations

from pathlib import Path


class VidstyleError(Exception):
    """A user-facing error. ``str(err)`` is the whole one-line message."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        text = f"{path}: {message}" if path is not None else message
        super().__init__(" ".join(text.split()))  # one line, always


class InputError(VidstyleError):
    """An input file or folder is missing, unreadable or not what it should be."""


class OutputExistsError(VidstyleError):
    """The output exists and ``overwrite`` was not given."""

    def __init__(self, path: str | Path) -> None:
        super().__init__("output exists (use -y/--overwrite to replace it)", path)


class UsageError(VidstyleError):
    """An option value is malformed (e.g. a size string)."""


class StageError(VidstyleError):
    """A failure inside a processing stage, naming the stage and position."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) after work was kept on disk; ``str(err)`` says what and where."""
