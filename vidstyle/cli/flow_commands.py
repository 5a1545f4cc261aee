"""``vidstyle flow`` (export flows and a colour-wheel video) and ``vidstyle flicker`` (measure flicker)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._defaults import TEXTURE_EVERY
from ._options import add_common, add_flow_cache, add_flow_preset, add_size, flow_cache_of, number_arg


def _add_flow_options(parser: argparse.ArgumentParser) -> None:
    # --preset and --cache were this command's names before every command said --flow-preset, --flow-cache
    add_flow_preset(parser, alias="--preset")
    add_flow_cache(parser, alias="--cache")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "flow", help="export optical flow (.flo) and a colour-wheel flow video",
        description="Computes dense DIS flow between consecutive frames, forward (t -> t+1) and backward "
        "(t+1 -> t), and writes DIR/forward/N.flo and DIR/backward/N.flo (N = zero-based index of frame "
        "t), optionally validity masks DIR/mask/N.png and a colour-wheel video of the forward flow.")
    p.add_argument("input", help="video file or image folder")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write the flows into")
    _add_flow_options(p)
    p.add_argument("--viz", metavar="VIDEO", help="also write a colour-wheel visualisation, e.g. flow.mp4")
    p.add_argument("--viz-max", type=number_arg, metavar="PX",
                   help="speed shown fully saturated in --viz (default: frame width / 20)")
    p.add_argument("--format", choices=["flo", "npy"], default="flo", help="flow file format (default flo)")
    p.add_argument("--no-backward", action="store_true", help="forward flow only (half the work)")
    p.add_argument("--masks", action="store_true", help="also write Lai et al.'s validity masks as PNGs")
    p.add_argument("--start-frame", type=int, metavar="N", help="first frame (zero-based)")
    p.add_argument("--end-frame", type=int, metavar="N", help="frame to stop at (exclusive)")
    add_size(p, scale=False)
    add_common(p)
    p.set_defaults(func=run_flow)

    p = subparsers.add_parser(
        "flicker", help="measure flicker: warping error (Lai et al. 2018), static flicker, tOF, PSNR/SSIM, "
        "and texture (detail ratio, texture distance) against a reference or the painted keyframes",
        description="Warping error by Lai et al.'s protocol with flow on the SOURCE frames, the source's "
        "own warping error (the floor) and the ratio; static-region flicker; tOF; and with --reference "
        "PSNR/SSIM, detail ratio and texture distance per frame; with --keyframes the same texture figures "
        "against the painted keyframes (style drift). Without --source the flow comes from the stylized "
        "video itself, a weaker variant that is labelled as such.")
    p.add_argument("stylized", help="the stylized video or image folder")
    p.add_argument("--source", metavar="INPUT", help="the unstylized input (gives the flow; recommended)")
    p.add_argument("--reference", metavar="REF", help="e.g. a per-frame stylization or ground truth: also "
                   "PSNR/SSIM, detail ratio and texture distance per frame")
    p.add_argument("--keyframes", metavar="DIR", help="painted keyframes (PNGs named by frame index, as for "
                   "vidstyle train): detail ratio and texture distance of each frame against the nearest "
                   "keyframe (in appearance of the source frame with --source, as 'vidstyle shots --coverage' "
                   "measures it; else in time), no reference needed (style drift), with the worst stretches")
    p.add_argument("--texture-every", type=int, metavar="K", default=None,
                   help=f"texture distance on every K-th frame (default {TEXTURE_EVERY}; detail ratio on every frame)")
    _add_flow_options(p)
    p.add_argument("--max-frames", type=int, metavar="N", help="use only the first N frames")
    p.add_argument("--allow-trim", action="store_true", help="compare the common frames of clips of "
                   "different lengths instead of stopping with an error")
    p.add_argument("--exclude-outside", action="store_true",
                   help="also mask pixels whose flow leaves the frame (Ruder et al.'s variant)")
    p.add_argument("--no-tof", action="store_true", help="skip tOF (saves one flow per pair)")
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    p.add_argument("--csv", metavar="FILE", help="write per-pair figures as CSV")
    p.add_argument("--plot", metavar="FILE.png", help="plot per-pair error over time as PNG")
    add_common(p)
    p.set_defaults(func=run_flicker)


def run_flow(args: argparse.Namespace) -> int:
    from ..flow import export_flows
    from ..progress import info

    result = export_flows(
        args.input, args.output, preset=args.flow_preset, size=args.size, start_frame=args.start_frame,
        end_frame=args.end_frame, backward=not args.no_backward, masks=args.masks, file_format=args.format,
        visualization=args.viz, max_motion=args.viz_max,
        cache=flow_cache_of(args), overwrite=args.overwrite)
    info(f"wrote {result.pairs} flow pair(s) to {result.folder}"
         + (f" and the visualisation to {result.visualization}" if result.visualization else ""))
    return 0


def run_flicker(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..io import check_output
    from ..metrics import flicker, plot_flicker
    from ..progress import info

    inputs = [p for p in (args.stylized, args.source, args.reference, args.keyframes) if p]
    outputs = [p for p in (args.json, args.csv, args.plot) if p]
    if len({Path(p).resolve() for p in outputs}) < len(outputs):
        raise UsageError("--json, --csv and --plot must be different files")
    for output in outputs:  # refuse before minutes of work, not after
        check_output(output, inputs, args.overwrite)
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        raise UsageError(f"--plot writes a PNG; give a .png path (got {args.plot})")
    texture = {} if args.texture_every is None else {"texture_every": args.texture_every}
    report = flicker(args.stylized, source=args.source, reference=args.reference, keyframes=args.keyframes,
                     preset=args.flow_preset, **texture,
                     max_frames=args.max_frames, allow_trim=args.allow_trim,
                     exclude_outside=args.exclude_outside, tof=not args.no_tof,
                     cache=flow_cache_of(args))
    print(report.table())
    if args.json:
        report.write_json(args.json, overwrite=args.overwrite)
        info(f"wrote {args.json}")
    if args.csv:
        report.write_csv(args.csv, overwrite=args.overwrite)
        info(f"wrote {args.csv}")
    if args.plot:
        plot_flicker(report, args.plot, overwrite=args.overwrite)
        info(f"wrote {args.plot}")
    return 0
