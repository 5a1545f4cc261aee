"""``vidstyle export-texler`` and ``import-texler``: Texler et al.'s project layout."""

from __future__ import annotations

import argparse

from ._options import add_common, add_flow_preset, index_list, number_arg


def register(subparsers: argparse._SubParsersAction) -> None:
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
    add_flow_preset(p)
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
