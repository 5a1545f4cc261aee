"""``vidstyle prefilter``: the temporal bilateral filter along optical flow."""

from __future__ import annotations

import argparse

from .._defaults import PREFILTER_RADIUS, PREFILTER_SIGMA_C, PREFILTER_SIGMA_T
from ._options import add_common, add_encoder, add_flow_cache, add_flow_preset, add_size, flow_cache_of, number_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "prefilter", help="temporal bilateral filter along optical flow (against flicker)",
        description="Averages each pixel with its flow trajectory up to --radius frames each way, "
        "weighted by time and colour distance; a trajectory stops at an occlusion.")
    p.add_argument("input", help="video or image folder")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="video file or folder for PNGs")
    p.add_argument("--radius", type=int, default=PREFILTER_RADIUS, help=f"frames each way (default {PREFILTER_RADIUS})")
    p.add_argument("--sigma-t", type=number_arg, default=PREFILTER_SIGMA_T,
                   help=f"time weight sigma in frames (default {PREFILTER_SIGMA_T:g})")
    p.add_argument("--sigma-c", type=number_arg, default=PREFILTER_SIGMA_C,
                   help=f"colour weight sigma, 0-255 (default {PREFILTER_SIGMA_C:.1f})")
    add_flow_preset(p)
    add_flow_cache(p)
    add_size(p, scale=False)
    add_encoder(p)
    add_common(p)
    p.set_defaults(func=run_prefilter)


def run_prefilter(args: argparse.Namespace) -> int:
    from ..prefilter import write_prefiltered
    from ..progress import info

    result = write_prefiltered(args.input, args.output, radius=args.radius, sigma_t=args.sigma_t,
                               sigma_c=args.sigma_c, preset=args.flow_preset, size=args.size,
                               codec=args.codec, crf=args.crf, encoder_preset=args.preset,
                               audio=not args.no_audio, overwrite=args.overwrite, cache=flow_cache_of(args))
    info(f"wrote {result.frames} filtered frames to {result.output}")
    return 0
