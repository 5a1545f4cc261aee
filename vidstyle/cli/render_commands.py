"""``vidstyle render`` and ``vidstyle export``."""

from __future__ import annotations

import argparse

from ._options import add_common, add_encoder, add_range, size_arg
from .mask_commands import rect_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render", help="stylize a video with a model, keeping timestamps and audio",
        description="Decode, stylize and encode in three overlapping stages with constant memory. The "
        "output keeps the source's frames, timestamps and audio, is tagged BT.709, and is written as "
        "OUTPUT.partial until complete. MODEL is a vidstyle checkpoint or a pytorch/examples "
        "fast_neural_style .pth state dict.")
    p.add_argument("input", help="video file, image folder or image")
    p.add_argument("-m", "--model", required=True, help="model file")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="video file, or a folder for PNGs")
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
    add_encoder(p, preset_default="veryfast for h264 on CPU, where the encoder shares the cores with the "
                "model; medium for h265; p4 for NVENC")
    p.add_argument("--keep-hud", metavar="MASK|auto",
                   help="composite the source's HUD back: a mask image (white = HUD) or 'auto' to detect it "
                   "frame by frame")
    p.add_argument("--hud-include", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --keep-hud: a rectangle always kept from the source, in output pixels (repeatable)")
    p.add_argument("--hud-exclude", action="append", type=rect_arg, default=[], metavar="X,Y,W,H",
                   help="with --keep-hud: a rectangle never kept, e.g. the player's kart (repeatable)")
    p.add_argument("--stabilize", type=float, default=0.0, metavar="S",
                   help="blend each frame with the flow-warped previous output, 0 (off) to <1 (default 0)")
    p.add_argument("--stabilize-flow", default="ultrafast", choices=["ultrafast", "fast", "medium"],
                   help="DIS preset for --stabilize (default ultrafast)")
    p.add_argument("--per-frame", action="store_true",
                   help="skip the model's learned temporal stage (trained with --temporal-weight > 0): "
                        "every frame on its own, no flow")
    p.add_argument("--guides", metavar="DIR", help="guide images (000123.png per frame) for guided models")
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
    from ..progress import info
    from ..render import render
    from ..render._pipeline import format_time

    result = render(
        args.input, args.model, args.output, device=args.device, precision=args.precision,
        batch=args.batch, threads=args.threads, workers=args.workers, size=args.size,
        output_size=args.output_size, start=args.start, end=args.end, codec=args.codec, crf=args.crf,
        preset=args.preset, audio=not args.no_audio, keep_hud=args.keep_hud,
        hud_include=args.hud_include, hud_exclude=args.hud_exclude, stabilize=args.stabilize,
        stabilize_flow=args.stabilize_flow, temporal=not args.per_frame, guides=args.guides, compile=args.compile,
        hw_decode=not args.no_hw_decode, allow_hdr=args.allow_hdr, overwrite=args.overwrite)
    shares = result.times.shares()
    speed = "" if result.realtime_factor is None else f", {result.realtime_factor:.2f}x realtime"
    info(f"wrote {result.frames} frames to {result.output} in {format_time(result.times.wall)} "
         f"({result.fps:.1f} fps{speed}; model at {result.work_size[0]}x{result.work_size[1]} on "
         f"{result.device} {result.precision}; busy: decode {shares['decode']:.0%}, model "
         f"{shares['model']:.0%}, encode {shares['encode']:.0%})")
    return 0


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
