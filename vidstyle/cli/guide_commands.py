"""``vidstyle guides``: flow-advected Gaussian noise guides."""

from __future__ import annotations

import argparse

from ._options import add_common, add_flow_cache, add_flow_preset, add_size, flow_cache_of, index_list, number_arg


def register(subparsers: argparse._SubParsersAction) -> None:
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
    add_flow_preset(p)
    add_flow_cache(p)
    add_size(p, scale=False)
    add_common(p)
    p.set_defaults(func=run_guides)


def run_guides(args: argparse.Namespace) -> int:
    from ..guides import write_guides
    from ..progress import info

    count = write_guides(args.input, args.output, args.keys, preview=args.preview, overwrite=args.overwrite,
                         radius=args.radius, sigma=args.sigma, seed_masks=args.seed_masks, seed=args.seed,
                         check_flow=not args.no_flow_check, preset=args.flow_preset, size=args.size,
                         cache=flow_cache_of(args))
    info(f"wrote {count} guide frames to {args.output}")
    return 0
