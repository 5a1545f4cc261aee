"""``vidstyle render`` and ``vidstyle export``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._defaults import HOLD_STRETCH, RAY_WARMUP, RENDER_PRESET_TEXT, STABILIZE_FLOW_PRESET
from ._options import add_common, add_encoder, add_range, number_arg, rect_arg, size_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render", help="stylize a video with a model, keeping timestamps and audio",
        description="Decode, stylize and encode in three overlapping stages with constant memory. The "
        "output keeps the source's frames, timestamps and audio, is tagged BT.709, and is written as "
        "OUTPUT.<pid>-<random>.partial until complete. MODEL is a vidstyle checkpoint or a pytorch/examples "
        "fast_neural_style .pth state dict.")
    p.add_argument("input", nargs="+", help="video file, image folder or image; several: each into -o DIR")
    p.add_argument("-m", "--model", required=True, help="model file")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="video file, or a folder for PNGs; a folder for several inputs")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the model runs (default: cuda when available)")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16", "bf16"],
                   help="inference precision (default: fp16 on CUDA; on CPU bf16 where the CPU computes it "
                   "natively (AMX, AVX512-BF16), else fp32; fp32 = full precision everywhere)")
    p.add_argument("--batch", type=int, metavar="N", help="frames per model call (default 8 on CUDA, 1 on CPU)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="PyTorch threads in all (default: the idle cores)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="on CPU, model workers running alternate frames, sharing --threads (default: 2 when "
                   "there are 2+ threads and no --compile, else 1)")
    p.add_argument("--size", type=size_arg, metavar="WxH",
                      help="size the model runs at (default: the size it was trained at)")
    p.add_argument("--output-size", type=size_arg, metavar="WxH", help="encoded size (default: the source's)")
    add_range(p)
    add_encoder(p, preset_default=RENDER_PRESET_TEXT)
    p.add_argument("--keep-hud", metavar="MASK|auto",
                   help="composite the source's HUD back: a mask image (white = HUD) or 'auto' to detect it "
                   "frame by frame")
    p.add_argument("--hud-include", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --keep-hud: a rectangle always kept from the source, in output pixels (repeatable)")
    p.add_argument("--hud-exclude", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --keep-hud: a rectangle never kept, e.g. the player's kart (repeatable)")
    p.add_argument("--stabilize", type=number_arg, default=0.0, metavar="S",
                   help="blend each frame with the flow-warped previous output, 0 (off) to <1 (default 0)")
    p.add_argument("--stabilize-flow", default=STABILIZE_FLOW_PRESET, choices=["ultrafast", "fast", "medium"],
                   help=f"DIS preset for --stabilize (default {STABILIZE_FLOW_PRESET})")
    p.add_argument("--per-frame", action="store_true",
                   help="skip the model's learned temporal stage (trained with --temporal-weight > 0): "
                        "every frame on its own, no flow")
    p.add_argument("--hold-stretch", type=number_arg, default=None, metavar="D",
                   help="the learned temporal stage lets go of what it holds once the flow has stretched it "
                   f"by D (summed |log scale|; default the model's, {HOLD_STRETCH:g}); 0 = hold regardless, "
                   "steadier but streaky where the camera drives forward")
    p.add_argument("--shots", nargs="?", const="", metavar="SHOTS.json",
                   help="reset the temporal stage and --stabilize at every cut, so nothing is blended across "
                   "one: the cuts of a 'vidstyle shots' JSON file, or found by a fast pass first when no file "
                   "is given")
    p.add_argument("--guides", metavar="DIR", help="guide images (000123.png per frame) for guided models")
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="render on a Ray cluster (pip install 'vidstyle[ray]'): one input in chunks on Ray actors, "
                   "joined into one file; several inputs as one Ray task each. ADDRESS: the head (host:6379, "
                   "ray://host:10001, auto); none = a local Ray instance on this machine")
    p.add_argument("--ray-workers", type=int, metavar="N",
                   help="Ray actors for one input (default: one per GPU of the cluster, else one per CPU)")
    p.add_argument("--chunk-seconds", type=number_arg, metavar="S",
                   help="chunk length with --ray (default: about 4 chunks per worker, at most 60 s; snapped to "
                   "source keyframes)")
    p.add_argument("--warmup", type=int, metavar="N",
                   help="with --ray, frames rendered unwritten before each chunk to settle the temporal stage "
                   f"(default {RAY_WARMUP})")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model (CUDA graphs on GPU); falls back to eager if it fails")
    p.add_argument("--no-hw-decode", action="store_true", help="do not decode with NVDEC on CUDA")
    p.add_argument("--allow-hdr", action="store_true", help="read HDR input without tone mapping")
    add_common(p)
    p.set_defaults(func=run_render)

    p = subparsers.add_parser(
        "export", help="export a model to ONNX for game engines",
        description="Writes an ONNX graph taking 'frames' (B, 3, H, W) float RGB in [0, 1] and returning "
        "'stylized' in [0, 1], verified against PyTorch with onnxruntime when installed. Needs the onnx "
        "package: pip install 'vidstyle[onnx]'.")
    p.add_argument("model", help="vidstyle checkpoint or fast_neural_style .pth")
    p.add_argument("-o", "--output", required=True, metavar="FILE.onnx")
    p.add_argument("--size", type=size_arg, metavar="WxH",
                   help="fixed input size (default: dynamic height and width)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--no-verify", action="store_true", help="skip the onnxruntime comparison")
    add_common(p)
    p.set_defaults(func=run_export)


def run_render(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..progress import format_time, info
    from ..render import RenderOptions, render

    if args.ray is None and (args.ray_workers or args.chunk_seconds or args.warmup is not None):
        raise UsageError("--ray-workers, --chunk-seconds and --warmup go with --ray")
    for name in ("ray_workers", "chunk_seconds", "warmup"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "warmup" else 1e-9):
            raise UsageError(f"--{name.replace('_', '-')} must be {'0 or more' if name == 'warmup' else 'positive'}")
    if len(args.input) > 1 and (args.shots is not None or args.start is not None or args.end is not None):
        raise UsageError("--shots and --start/--end take one input")
    source = args.input[0]
    cuts = _cuts(args) if args.shots is not None else ()
    options = RenderOptions(
        device=args.device, precision=args.precision,
        batch=args.batch, threads=args.threads, workers=args.workers, size=args.size,
        output_size=args.output_size, start=args.start, end=args.end, codec=args.codec, crf=args.crf,
        preset=args.preset, audio=not args.no_audio, keep_hud=args.keep_hud,
        hud_include=args.hud_include, hud_exclude=args.hud_exclude, stabilize=args.stabilize,
        stabilize_flow=args.stabilize_flow, temporal=not args.per_frame, hold_stretch=args.hold_stretch,
        guides=args.guides, cuts=cuts,
        compile=args.compile,
        hw_decode=not args.no_hw_decode, allow_hdr=args.allow_hdr, overwrite=args.overwrite)
    if len(args.input) > 1:
        return _render_many(args, options)
    if args.ray is not None:
        return _render_on_ray(args, source, options)
    result = render(source, args.model, args.output, options)
    shares = result.times.shares()
    speed = "" if result.realtime_factor is None else f", {result.realtime_factor:.2f}x realtime"
    info(f"wrote {result.frames} frames to {result.output} in {format_time(result.times.wall)} "
         f"({result.fps:.1f} fps{speed}; model at {result.work_size[0]}x{result.work_size[1]} on "
         f"{result.device} {result.precision}; busy: decode {shares['decode']:.0%}, model "
         f"{shares['model']:.0%}, encode {shares['encode']:.0%})")
    return 0


def _render_on_ray(args: argparse.Namespace, source: str, options: object) -> int:
    from ..io import probe
    from ..progress import format_time, info
    from ..render import DEFAULT_WARMUP, render_on_ray

    chunk_frames = None
    if args.chunk_seconds:
        video = probe(source)
        chunk_frames = max(1, round(args.chunk_seconds * (video.nominal_fps or video.average_fps or 30.0)))
    result = render_on_ray(source, args.model, args.output, options, address=args.ray or None,  # type: ignore[arg-type]
                           workers=args.ray_workers, chunk_frames=chunk_frames,
                           warmup=DEFAULT_WARMUP if args.warmup is None else args.warmup)
    info(f"wrote {result.frames} frames to {result.output} in {format_time(result.wall)} "
         f"({result.frames / result.wall:.1f} fps; {len(result.chunks)} chunk(s) on {result.workers} Ray "
         f"worker(s); Ray start {result.connect_seconds:.1f} s, join {result.join_seconds:.2f} s)")
    return 0


def _render_many(args: argparse.Namespace, options: object) -> int:
    from ..render import render_many

    results = render_many(args.input, args.model, args.output, options,  # type: ignore[arg-type]
                          ray_address=args.ray or None,
                          use_ray=args.ray is not None)
    width = max(len(str(r.source.name)) for r in results)
    print(f"{'input':<{width}}  {'frames':>7}  {'seconds':>8}  result")
    for r in results:
        outcome = f"error: {r.error}" if r.error else str(r.output)
        print(f"{r.source.name:<{width}}  {r.frames:>7}  {r.seconds:>8.1f}  {outcome}")
    failed = sum(r.error is not None for r in results)
    print(f"{len(results) - failed} of {len(results)} rendered" + (f", {failed} failed" if failed else ""))
    return 2 if failed else 0


def _cuts(args: argparse.Namespace) -> list[int]:
    """The source frames where shots begin, for --shots."""
    from ..errors import UsageError
    from ..progress import info
    from ..shots import find_shots, load_shots

    source = Path(args.input[0])
    report = load_shots(args.shots) if args.shots else find_shots(source, max_keyframes=1)
    if args.shots and report.path.name != source.name:
        raise UsageError(f"{args.shots} lists the shots of {report.path.name}, not of {source.name}")
    info(f"--shots: {len(report.cuts)} cut(s); the temporal state is reset at frame(s) "
         f"{', '.join(map(str, report.cuts[:12]))}{' ...' if len(report.cuts) > 12 else ''}" if report.cuts
         else "--shots: no cuts found; one shot")
    return report.cuts


def run_export(args: argparse.Namespace) -> int:
    from ..progress import info
    from ..render import export_onnx

    result = export_onnx(args.model, args.output, size=args.size, opset=args.opset,
                         verify=not args.no_verify, overwrite=args.overwrite)
    shape = "dynamic HxW" if result.size is None else f"{result.size[0]}x{result.size[1]}"
    check = (f"max |onnx - torch| = {result.max_abs_error:.2g} ({result.verified_with})"
             if result.max_abs_error is not None else "checked with onnx.checker (install onnxruntime to "
             "compare outputs)")
    info(f"wrote {result.path} (opset {result.opset}, input frames (B, {result.in_channels}, H, W), "
         f"{shape}); {check}")
    return 0
