"""``vidstyle masks``, ``guides``, ``prefilter``, ``export-texler`` and ``import-texler``."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from ._options import add_common, add_encoder, add_size, count_arg, number_arg

if TYPE_CHECKING:
    from ..flow import FlowCache
    from ..masks import Rect


def index_list(text: str) -> list[int]:
    """``"0,40,80"`` -> [0, 40, 80]."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"bad frame list {text!r}: expected indices like 0,40,80")
    return [int(p) for p in parts]


def keyframe_pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"bad --from-keyframe {text!r}: expected FRAME=PAINTED.png")
    frame, painted = text.split("=", 1)
    return frame, painted


def rect_arg(text: str) -> "Rect":
    """``"x,y,w,h"`` -> :class:`vidstyle.masks.Rect` (argparse type)."""
    from ..errors import UsageError
    from ..masks import Rect

    try:
        return Rect.parse(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def propagate_arg(text: str) -> tuple[str, int]:
    match = re.fullmatch(r"(.+)@(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad --propagate {text!r}: expected MASK.png@FRAME, e.g. hero.png@40")
    return match[1], int(match[2])


def _flow_preset(parser: argparse.ArgumentParser, default: str = "medium") -> None:
    parser.add_argument("--flow-preset", default=default, choices=["ultrafast", "fast", "medium"],
                        help=f"DIS optical-flow preset (default {default})")


def _flow_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flow-cache", metavar="DIR", help="flow cache folder: flows found there are "
                        "reused, new ones stored (repeated runs skip the optical flow)")


def _cache_of(args: argparse.Namespace) -> "FlowCache | None":
    from ..flow import FlowCache  # imported when run, like the commands' modules

    return FlowCache(args.flow_cache) if args.flow_cache else None


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
    _flow_preset(p)
    add_size(p, scale=False)
    add_common(p)
    p.set_defaults(func=run_masks)

    p = subparsers.add_parser(
        "guides", help="flow-advected Gaussian noise guides (Texler's gdisko)",
        description="Poisson-disk points seeded on each key frame inside its seed mask, carried through "
        "the clip by optical flow, drawn as fixed-colour Gaussian blobs; one PNG per frame.")
    p.add_argument("input", help="video or image folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--keys", required=True, type=index_list, metavar="K1,K2,...", help="key frame indices")
    p.add_argument("--radius", type=number_arg, default=10.0, help="Poisson-disk spacing in px (default 10)")
    p.add_argument("--sigma", type=number_arg, default=10.0, help="blob size in px (default 10)")
    p.add_argument("--seed-masks", metavar="DIR", help="masks named by frame index: seed only inside")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same guides)")
    p.add_argument("--no-flow-check", action="store_true",
                   help="keep points whose flow fails the forward-backward check (Texler's behaviour)")
    p.add_argument("--preview", metavar="VIDEO", help="also write the guides as a video")
    _flow_preset(p)
    _flow_cache(p)
    add_size(p, scale=False)
    add_common(p)
    p.set_defaults(func=run_guides)

    p = subparsers.add_parser(
        "prefilter", help="temporal bilateral filter along optical flow (against flicker)",
        description="Averages each pixel with its flow trajectory up to --radius frames each way, "
        "weighted by time and colour distance; a trajectory stops at an occlusion.")
    p.add_argument("input", help="video or image folder")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="video file or folder for PNGs")
    p.add_argument("--radius", type=int, default=15, help="frames each way (default 15)")
    p.add_argument("--sigma-t", type=number_arg, default=5.0, help="time weight sigma in frames (default 5)")
    p.add_argument("--sigma-c", type=number_arg, default=27.6, help="colour weight sigma, 0-255 (default 27.6)")
    _flow_preset(p)
    _flow_cache(p)
    add_size(p, scale=False)
    add_encoder(p)
    add_common(p)
    p.set_defaults(func=run_prefilter)

    p = subparsers.add_parser(
        "export-texler", help="write a <Name>_train/<Name>_gen tree for Texler's tools",
        description="Frames, filtered frames, stylized keyframes, masks, guides and DIS flows (.A2V2f) "
        "in the Few-Shot-Patch-Based-Training layout (files numbered from 001).")
    p.add_argument("input", help="video or image folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--name", required=True, help="project name (folders NAME_train, NAME_gen)")
    p.add_argument("--keys", required=True, type=index_list, metavar="K1,K2,...")
    p.add_argument("--styled", required=True, metavar="DIR", help="stylized keyframes named by frame index")
    p.add_argument("--masks", metavar="DIR", help="training masks of the keys (default all white)")
    p.add_argument("--radius", type=number_arg, default=10.0, help="guide spacing (default 10)")
    p.add_argument("--sigma", type=number_arg, default=10.0, help="guide blob size (default 10)")
    p.add_argument("--no-guides", action="store_true", help="skip the guide folders")
    p.add_argument("--no-flows", action="store_true", help="skip flow_fwd/flow_bwd")
    p.add_argument("--prefilter", action="store_true", help="fill input_filtered with the pre-filter")
    _flow_preset(p)
    add_common(p)
    p.set_defaults(func=run_export_texler)

    p = subparsers.add_parser(
        "import-texler", help="read a Texler project into vidstyle's layout",
        description="Writes DIR/frames, keyframes, masks, guides/<name>, flows/forward|backward (.flo), "
        "all named by zero-based frame index.")
    p.add_argument("input", metavar="PROJECT", help="folder holding <Name>_train (and <Name>_gen)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    add_common(p)
    p.set_defaults(func=run_import_texler)


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


def run_guides(args: argparse.Namespace) -> int:
    from ..guides import write_guides
    from ..progress import info

    count = write_guides(args.input, args.output, args.keys, preview=args.preview, overwrite=args.overwrite,
                         radius=args.radius, sigma=args.sigma, seed_masks=args.seed_masks, seed=args.seed,
                         check_flow=not args.no_flow_check, preset=args.flow_preset, size=args.size,
                         cache=_cache_of(args))
    info(f"wrote {count} guide frames to {args.output}")
    return 0


def run_prefilter(args: argparse.Namespace) -> int:
    from ..prefilter import write_prefiltered
    from ..progress import info

    result = write_prefiltered(args.input, args.output, radius=args.radius, sigma_t=args.sigma_t,
                               sigma_c=args.sigma_c, preset=args.flow_preset, size=args.size,
                               codec=args.codec, crf=args.crf, encoder_preset=args.preset,
                               audio=not args.no_audio, overwrite=args.overwrite, cache=_cache_of(args))
    info(f"wrote {result.frames} filtered frames to {result.output}")
    return 0


def run_export_texler(args: argparse.Namespace) -> int:
    from ..progress import info
    from ..texler import export_texler

    out = export_texler(args.input, args.output, name=args.name, keys=args.keys, styled=args.styled,
                        masks=args.masks, guides=not args.no_guides, radius=args.radius, sigma=args.sigma,
                        prefilter=args.prefilter, flows=not args.no_flows, preset=args.flow_preset,
                        overwrite=args.overwrite)
    info(f"wrote {out}/{args.name}_train and {args.name}_gen")
    return 0


def run_import_texler(args: argparse.Namespace) -> int:
    from ..progress import info
    from ..texler import import_texler

    result = import_texler(args.input, args.output, overwrite=args.overwrite)
    info(f"imported {result.frames} frames, keyframes {result.keyframes}, "
         f"{len(result.guide_folders)} guide folder(s), {result.flows} flows into {result.output}")
    return 0
