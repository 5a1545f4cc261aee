"""The ``vidstyle`` command: a thin layer over the Python API.

Each module in ``COMMAND_MODULES`` adds its subcommands with ``register(subparsers)``
and sets ``func`` on each parser; handlers import the heavy parts lazily so
``vidstyle --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from .. import __version__
from ..errors import Interrupted, VidstyleError

COMMAND_MODULES = [  # in the order of the workflow, as --help lists them
    "vidstyle.cli.io_commands",
    "vidstyle.cli.shot_commands",
    "vidstyle.cli.flow_commands",
    "vidstyle.cli.mask_commands",
    "vidstyle.cli.guide_commands",
    "vidstyle.cli.prefilter_commands",
    "vidstyle.cli.texler_commands",
    "vidstyle.cli.train_commands",
    "vidstyle.cli.render_commands",
    "vidstyle.cli.pipeline_commands",
]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"vidstyle: error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vidstyle",
        description="Stylize recorded game footage from a few painted keyframes, without flicker.")
    parser.add_argument("--version", action="version", version=f"vidstyle {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ..progress import set_quiet, set_spelling
    from ._flags import cli_message, cli_text

    # Set for this command only: a library call later in the same process is as it was.
    was_quiet = set_quiet(getattr(args, "quiet", False))
    spelling = set_spelling(lambda message, params: cli_text(message, params, args.command))  # flags in warnings
    terminated: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:  # kill, timeout: clean up as for Ctrl-C
        terminated.append(signum)
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    try:
        result = args.func(args)
    except VidstyleError as err:
        print(f"vidstyle: error: {cli_message(err, args.command)}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # the file system said no (permissions, disk full): the user's to fix, not a bug
        print(f"vidstyle: error: {_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        kept = cli_text(str(err), err.params, args.command) if isinstance(err, Interrupted) \
            else "no partial output was kept"
        print(f"vidstyle: interrupted; {kept}", file=sys.stderr)
        return 128 + (terminated[0] if terminated else signal.SIGINT)
    except Exception as err:  # a bug: one line, traceback only on request
        if os.environ.get("VIDSTYLE_DEBUG"):
            raise
        print(f"vidstyle: internal error: {type(err).__name__}: {err} "
              "(set VIDSTYLE_DEBUG=1 for a traceback)".replace("\n", " "), file=sys.stderr)
        return 1
    finally:
        set_quiet(was_quiet)
        set_spelling(spelling)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return int(result or 0)


def _os_error(err: OSError) -> str:
    """One line naming the file and the cause, e.g. ``model.pt: Permission denied``."""
    from pathlib import Path

    from ..io import write_failure

    name = err.filename
    failure = write_failure(err, Path(name)) if name else None
    if failure is not None:
        return str(failure)
    reason = err.strerror or str(err) or type(err).__name__
    return " ".join(f"{name}: {reason}".split()) if name else " ".join(reason.split())
