"""``vidstyle shots``."""

from __future__ import annotations

import argparse
import json

from .._defaults import KEYFRAME_RADIUS
from ._options import add_common


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "shots", help="find the shots (cuts, fades) of a recording and suggest keyframes to paint",
        description="One fast pass over the whole recording (decoded at 32x18): hard cuts and fades through "
        "a flat frame, and the fewest frames whose appearance covers the recording (greedy cover; at least "
        "one in every shot that looks unlike the others). Prints a table; -o DIR writes DIR/shots.json, "
        "DIR/keyframes/000123.png (named by source frame, as 'vidstyle extract' names them) and "
        "DIR/contact_sheet.png.")
    p.add_argument("input", help="video file, image folder or image")
    p.add_argument("-o", "--output", metavar="DIR", help="write shots.json, keyframes/ and contact_sheet.png")
    p.add_argument("--max", type=int, metavar="N", dest="max_keyframes", help="suggest at most N keyframes")
    p.add_argument("--radius", type=float, metavar="R",
                   help=f"appearance distance (RMS, 0-1) a keyframe covers (default {KEYFRAME_RADIUS:g}; "
                   "smaller = more keyframes)")
    p.add_argument("--coverage", metavar="KEYFRAMES",
                   help="instead: the stretches far from every painted keyframe in KEYFRAMES (a folder of PNGs "
                   "named by frame index, as 'vidstyle train' takes them), where the model will guess")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_common(p)
    p.set_defaults(func=run_shots)


def run_shots(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..progress import info
    from ..shots import DEFAULT_RADIUS, find_shots, write_shots

    if args.max_keyframes is not None and args.max_keyframes < 1:
        raise UsageError(f"--max must be at least 1 (got {args.max_keyframes})")
    radius = DEFAULT_RADIUS if args.radius is None else args.radius
    if not 0 < radius <= 1:
        raise UsageError(f"--radius must be in (0, 1] (got {radius})")
    if args.coverage is not None:
        if args.output or args.max_keyframes is not None:
            raise UsageError("--coverage measures painted keyframes; it takes no -o/--max")
        return _coverage(args.input, args.coverage, radius, args.json)
    if args.output:
        from ..io import check_output
        check_output(args.output, [args.input], args.overwrite)  # before the pass, not after it
    report = find_shots(args.input, max_keyframes=args.max_keyframes, radius=radius)
    if args.output:
        out = write_shots(report, args.output, overwrite=args.overwrite)
        info(f"wrote {out}/shots.json, {len(report.keyframes)} keyframe(s) in {out}/keyframes and "
             f"{out}/contact_sheet.png")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    keys_by_shot: dict[int, list[int]] = {}
    for key in report.keyframes:
        keys_by_shot.setdefault(key.shot, []).append(key.frame)
    print(f"{'shot':>4}  {'frames':>15}  {'time (s)':>19}  {'begins':<6}  keyframes")
    for shot in report.shots:
        keys = ", ".join(map(str, keys_by_shot.get(shot.index, []))) or "-"
        print(f"{shot.index:>4}  {shot.start:>7}-{shot.end - 1:<7}  {shot.start_time:>9.3f}-{shot.end_time:<9.3f}  "
              f"{shot.transition.value:<6}  {keys}")
    print(f"{len(report.shots)} shot(s), {report.frames} frames; {len(report.keyframes)} suggested keyframe(s): "
          f"{', '.join(str(k.frame) for k in report.keyframes)}")
    return 0


def _coverage(source: str, keyframes: str, radius: float, as_json: bool) -> int:
    from ..shots import find_coverage
    from ..train import keyframe_numbers

    numbers, texler = keyframe_numbers(keyframes)
    coverage = find_coverage(source, [n - 1 for n in numbers] if texler else numbers, radius=radius)
    if as_json:
        print(json.dumps(coverage.to_dict(), indent=2))
        return 0
    print(f"{'frames':>15}  {'time (s)':>19}  {'seconds':>7}  {'distance':>8}  nearest keyframe")
    for far in coverage.stretches:
        print(f"{far.start:>7}-{far.end - 1:<7}  {far.start_time:>9.3f}-{far.end_time:<9.3f}  {far.seconds:>7.2f}  "
              f"{far.distance:>8.3f}  {far.nearest}")
    print(f"{len(coverage.keyframes)} keyframe(s) cover {100 * coverage.covered:.1f} % of the recording "
          f"(within {coverage.radius:g} in appearance); {len(coverage.stretches)} stretch(es) far from all of them")
    return 0
