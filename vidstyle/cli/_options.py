"""Options shared by several subcommands, defined once."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from .._defaults import CRF, ENCODER_PRESET_TEXT, FLOW_PRESET
from ..io import Codec, parse_size

if TYPE_CHECKING:
    from ..flow import FlowCache
    from ..masks import Rect


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


def add_encoder(parser: argparse.ArgumentParser, preset_default: str = ENCODER_PRESET_TEXT) -> None:
    parser.add_argument("--codec", type=codec_arg, default=None,
                        help="h264 (default), h265, h264_nvenc, ffv1 (lossless) or png (folder)")
    parser.add_argument("--crf", type=int, help=f"quality: x264/x265 CRF or NVENC CQ (default {CRF})")
    parser.add_argument("--preset", help=f"encoder preset (default {preset_default})")
    parser.add_argument("--no-audio", action="store_true", help="drop the audio streams")


def add_flow_preset(parser: argparse.ArgumentParser, default: str = FLOW_PRESET, *, alias: str | None = None) -> None:
    """``--flow-preset P``, the DIS optical-flow preset (``alias``: an old spelling, still taken, not listed)."""
    parser.add_argument("--flow-preset", type=flow_preset_arg, default=default, metavar="P",
                        help=f"DIS optical-flow preset: ultrafast, fast or medium (default {default})")
    if alias:
        parser.add_argument(alias, dest="flow_preset", type=flow_preset_arg, help=argparse.SUPPRESS)


def add_flow_cache(parser: argparse.ArgumentParser, *, alias: str | None = None) -> None:
    """``--flow-cache DIR`` (``alias``: an old spelling, still taken, not listed)."""
    parser.add_argument("--flow-cache", metavar="DIR", help="flow cache folder: flows found there are "
                        "reused, new ones stored (keyed by file, size, mtime, preset and frame pair)")
    if alias:
        parser.add_argument(alias, dest="flow_cache", help=argparse.SUPPRESS)


def flow_preset_arg(text: str) -> str:
    """A DIS preset name, checked (``--flow-preset slowest`` is a usage error naming the choices)."""
    from ..flow import FlowPreset

    return _as_argparse_error(FlowPreset.parse, text).value


def flow_cache_of(args: argparse.Namespace) -> "FlowCache | None":
    """The :class:`vidstyle.flow.FlowCache` that ``--flow-cache`` names, if any."""
    from ..flow import FlowCache  # imported when run, like the commands' modules

    return FlowCache(args.flow_cache) if args.flow_cache else None


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


def index_list(text: str) -> list[int]:
    """``"0,40,80"`` -> [0, 40, 80]: frame indices, zero-based."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad frame list {text!r}: expected indices like 0,40,80") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"bad frame list {text!r}: expected indices like 0,40,80")
    return values


def rect_arg(text: str) -> "Rect":
    """``"x,y,w,h"`` -> :class:`vidstyle.masks.Rect` (argparse type)."""
    from ..errors import UsageError
    from ..masks import Rect

    try:
        return Rect.parse(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
