"""Progress bars that always have the best total available and always close."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from tqdm import tqdm

_quiet = False


def _as_named(message: str, params: Sequence[str]) -> str:
    """The library's own spelling: parameters as a Python caller names them."""
    return message


# How a line spells the parameters it names: as the library does, unless the CLI says otherwise.
_spell: Callable[[str, Sequence[str]], str] = _as_named


def set_quiet(quiet: bool) -> bool:
    """Silence every progress bar and info line (the CLI's ``--quiet``); returns the previous setting."""
    global _quiet
    previous, _quiet = _quiet, quiet
    return previous


def set_spelling(spell: Callable[[str, Sequence[str]], str] | None) -> Callable[[str, Sequence[str]], str]:
    """How :func:`info` and :func:`warn` lines spell the parameters they name (the CLI: as its
    flags, ``keep_hud='auto'`` -> ``--keep-hud auto``); None = as the library names them.
    Returns the previous spelling."""
    global _spell
    previous, _spell = _spell, spell or _as_named
    return previous


def info(message: str, *, params: Sequence[str] = ()) -> None:
    """Print a status line to stderr unless quiet. ``params``: the parameters the line names
    (as :class:`vidstyle.errors.VidstyleError`'s), which the CLI spells as its flags."""
    if not _quiet:
        _line(_spell(message, params) if params else message)


def warn(message: str, *, params: Sequence[str] = ()) -> None:
    """Print a warning line to stderr (warnings are shown even when quiet); ``params`` as :func:`info`'s."""
    _line(f"vidstyle: warning: {_spell(message, params) if params else message}")


def format_time(seconds: float) -> str:
    """A clock reading for messages: ``1:05.250`` (minutes), ``1:02:03.000`` from an hour up."""
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:06.3f}" if hours else f"{minutes}:{secs:06.3f}"


def _line(text: str) -> None:
    # tqdm.write clears a progress bar drawn on stderr first and redraws it below, so a message
    # never lands on the end of the bar's line (a plain print does when a bar is open).
    tqdm.write(text, file=sys.stderr)
    sys.stderr.flush()


@contextmanager
def progress(total: float | None, desc: str, unit: str = "frame") -> Iterator[tqdm]:
    """A tqdm bar showing rate and ETA; ``total=None`` gives an indeterminate bar.

    Use as ``with progress(n, "render") as bar: bar.update(1)``. The bar is
    closed on exit, also on errors and Ctrl-C.
    """
    bar = tqdm(
        total=None if total is None else int(round(total)),
        desc=desc,
        unit=unit,
        disable=_quiet,
        dynamic_ncols=True,
        file=sys.stderr,
        leave=True,
    )
    try:
        yield bar
    finally:
        bar.close()
