"""Options shared by several subcommands, defined once."""

from __future__ import annotations

import argparse
import math

from ..io import Codec, parse_size


def add_common(parser: argparse.ArgumentParser, *, overwrite: bool = True) -> None:
    """``--quiet`` and (for commands that write) ``-y/--overwrite``."""
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info lines")
    if overwrite:
        parser.add_argument("-y", "--overwrite", action="store_true",
                            help="replace an existing output (never an input)")


def add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", type=seconds_arg, metavar="T", help="first second to use")
    parser.add_argument("--end", type=seconds_arg, metavar="T", help="second to stop at (exclusive)")


def add_size(parser: argparse.ArgumentParser, *, scale: bool = True) -> None:
    parser.add_argument("--size", type=size_arg, metavar="WxH", help="resize frames, e.g. 640x360")
    if scale:
        parser.add_argument("--scale", type=number_arg, metavar="F", help="resize frames by a factor")


def add_encoder(parser: argparse.ArgumentParser, preset_default: str = "medium; p4 for NVENC") -> None:
    parser.add_argument("--codec", type=codec_arg, default=None,
                        help="h264 (default), h265, h264_nvenc, ffv1 (lossless) or png (folder)")
    parser.add_argument("--crf", type=int, help="quality: x264/x265 CRF or NVENC CQ (default 18)")
    parser.add_argument("--preset", help=f"encoder preset (default {preset_default})")
    parser.add_argument("--no-audio", action="store_true", help="drop the audio streams")


def number_arg(text: str) -> float:
    """A finite number (argparse's ``float`` takes ``nan`` and ``inf``, which no option means)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"bad number {text!r}: must be finite")
    return value


def count_arg(text: str) -> int:
    """A whole number, 0 or more (``--erode=-5`` is a mistake, not a no-op)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad value {text!r}: expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"bad value {text!r}: must be 0 or more")
    return value


def seconds_arg(text: str) -> float:
    """A time in seconds: a finite number, not negative (``nan``, ``inf`` and ``-3`` are mistakes)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad time {text!r}: expected seconds, e.g. 12.5") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"bad time {text!r}: expected a finite number of seconds, 0 or more")
    return value


def size_arg(text: str) -> tuple[int, int]:
    return _as_argparse_error(parse_size, text)


def codec_arg(text: str) -> Codec:
    return _as_argparse_error(Codec.parse, text)


def _as_argparse_error(fn, text):  # type: ignore[no-untyped-def]
    from ..errors import VidstyleError

    try:
        return fn(text)
    except VidstyleError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
