"""``vidstyle masks``: training masks (PNG per frame, white = use)."""

from __future__ import annotations

import argparse
import re

from ._options import add_common, add_flow_preset, add_size, count_arg, index_list, number_arg, rect_arg


def keyframe_pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"bad --from-keyframe {text!r}: expected FRAME=PAINTED.png")
    frame, painted = text.split("=", 1)
    return frame, painted


def propagate_arg(text: str) -> tuple[str, int]:
    match = re.fullmatch(r"(.+)@(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad --propagate {text!r}: expected MASK.png@FRAME, e.g. hero.png@40")
    return match[1], int(match[2])


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "masks", help="make training masks (PNG per frame, white = use)",
        description="Masks from painted keyframes, HUD detection, a colour key, moving objects or a "
        "hand-drawn mask carried through the clip; combined, shaped, written as 000120.png (frame 120).")
    p.add_argument("input", help="video or image folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--from-keyframe", action="append", type=keyframe_pair, default=[], metavar="FRAME=PAINTED",
                   help="region the artist changed; FRAME is a frame index or the frame's PNG "
                   "(named by index); a painted PNG with alpha uses its alpha (repeatable)")
    p.add_argument("--hud", action="store_true", help="screen overlays: timer, minimap, gauges, icons, credits "
                   "(white = HUD; per frame, so elements that come and go are followed)")
    p.add_argument("--hud-include", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --hud: a rectangle always marked HUD, in output pixels (repeatable)")
    p.add_argument("--hud-exclude", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --hud: a rectangle never marked HUD, e.g. the player's kart (repeatable)")
    p.add_argument("--color-key", metavar="HSV", help="HSV box H1-H2[,S1-S2[,V1-V2]], hue in degrees, "
                   "saturation/value in percent, e.g. 90-150,40-100,20-100")
    p.add_argument("--motion", action="store_true", help="moving objects over a static camera")
    p.add_argument("--motion-threshold", type=int, default=30, metavar="N",
                   help="colour difference from the background that counts as moving (default 30)")
    p.add_argument("--propagate", action="append", type=propagate_arg, default=[], metavar="MASK.png@K",
                   help="carry a mask drawn on frame K through the clip by optical flow (repeatable)")
    p.add_argument("--combine", default="union", choices=["union", "intersection", "subtract"],
                   help="how several modes merge (subtract: the first minus the others; default union)")
    p.add_argument("--invert", action="store_true", help="swap white and black (e.g. train on all but the HUD)")
    p.add_argument("--erode", type=count_arg, default=0, metavar="PX", help="shrink the white region")
    p.add_argument("--dilate", type=count_arg, default=0, metavar="PX", help="grow the white region")
    p.add_argument("--feather", type=number_arg, default=0.0, metavar="PX", help="soften the edge")
    p.add_argument("--frames", type=index_list, metavar="LIST",
                   help="frames to write (default: the keyframes with --from-keyframe, else all)")
    p.add_argument("--preview", metavar="VIDEO", help="also write a video with the masks overlaid")
    add_flow_preset(p)
    add_size(p, scale=False)
    add_common(p)
    p.set_defaults(func=run_masks)


def run_masks(args: argparse.Namespace) -> int:
    from ..masks import MaskJob, make_masks
    from ..progress import info

    job = MaskJob(source=args.input, output=args.output, keyframes=args.from_keyframe, hud=args.hud,
                  hud_include=args.hud_include, hud_exclude=args.hud_exclude,
                  color_key=args.color_key, motion=args.motion, motion_threshold=args.motion_threshold,
                  propagate=args.propagate, combine=args.combine, invert=args.invert, erode=args.erode,
                  dilate=args.dilate, feather=args.feather, frames=args.frames, preview=args.preview,
                  preset=args.flow_preset, size=args.size, overwrite=args.overwrite)
    count = make_masks(job)
    info(f"wrote {count} masks to {args.output}" + (f" and {args.preview}" if args.preview else ""))
    return 0
