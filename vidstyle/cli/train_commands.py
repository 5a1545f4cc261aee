"""``vidstyle train`` and ``vidstyle paint`` (paint frames with a per-frame stylizer)."""

from __future__ import annotations

import argparse

from .._defaults import DESIGN, DESIGN_SETTINGS, LINE_ART, TRAIN_MINUTES, per_design
from ._options import add_common, add_encoder, add_range, add_size, count_arg, flow_preset_arg, index_list, number_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="learn a painted style from 1-N keyframes",
        description="Few-shot patch-based training (after Texler et al. 2020) with optical-flow temporal "
                    "losses. Keyframes (and masks) are PNGs named by zero-based frame index (0.png, "
                    "0120.png); a Texler _train folder is accepted too. Stops after --minutes or --steps.")
    p.add_argument("input", help="video file or frame folder")
    p.add_argument("--keyframes", required=True, metavar="DIR", help="painted frames, PNGs named by frame index")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.pt", help="checkpoint to write")
    p.add_argument("--masks", metavar="DIR", help="masks per keyframe (white = learn from here)")
    guides = p.add_mutually_exclusive_group()
    guides.add_argument("--guides", metavar="DIR", help="guide images for every frame (from vidstyle guides)")
    guides.add_argument("--auto-guides", action="store_true", help="generate guides with vidstyle.guides")
    add_size(p, scale=False)
    add_range(p)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=number_arg, metavar="M", help=f"time budget (default {TRAIN_MINUTES:g})")
    budget.add_argument("--steps", type=int, metavar="N", help="train until step N (counted across --resume)")
    p.add_argument("--temporal-weight", type=number_arg, metavar="W",
                   help="the consistency knob, scaling every temporal term below; 0 = off, a per-frame "
                        f"model (default {per_design('temporal_weight')})")
    p.add_argument("--propagation-weight", type=number_arg, metavar="W",
                   help="patches of each frame the keyframes are carried to by flow, per keyframe patch "
                        f"(default {per_design('propagation_weight')})")
    p.add_argument("--pair-weight", type=number_arg, metavar="W",
                   help=f"warping loss between the outputs of frame pairs (default {per_design('pair_weight')})")
    p.add_argument("--fusion-weight", type=number_arg, metavar="W",
                   help="the learned temporal stage's warping loss; 0 = no stage "
                        f"(default {per_design('fusion_weight')})")
    p.add_argument("--compound-weight", type=number_arg, metavar="W",
                   help="flow-free regulariser (random smooth warp + noise) weight; 0 = off "
                        f"(default {per_design('compound_weight')})")
    p.add_argument("--gan-weight", type=number_arg, metavar="W",
                   help=f"PatchGAN loss weight; 0 = off (default {per_design('gan_weight')})")
    p.add_argument("--texture-weight", type=number_arg, metavar="W",
                   help="patch-distribution (sliced Wasserstein) loss that keeps brush texture; "
                        f"0 = L1 alone, a blur (default {per_design('texture_weight')})")
    p.add_argument("--detail-gain", type=number_arg, metavar="G",
                   help="the temporal stage restores the brush detail its blend averages away, by at most "
                        f"this gain; 1 = the plain blend of earlier versions, smoother and blurrier (default {per_design('detail_gain')})")
    p.add_argument("--colour-calibration", type=number_arg, metavar="S",
                   help="after training, map the generator's colours onto the painted keyframes' colour "
                        "statistics with this strength; 0 = off, 1 = the full map "
                        f"(default {per_design('colour_calibration')})")
    p.add_argument("--detail-sampling", type=number_arg, metavar="S",
                   help="share of the training patches drawn where the painting has the most strokes and "
                        "lines (its gradient energy) instead of uniformly; 0 = uniform "
                        f"(default {per_design('detail_sampling')})")
    p.add_argument("--mirror", type=number_arg, metavar="S",
                   help="share of the training patches mirrored left-right with their painting: more to learn "
                        "from one keyframe, for styles whose strokes have no handedness; 0 = none "
                        f"(default {per_design('mirror')})")
    p.add_argument("--edges", action="store_true",
                   help="give a new fast model the source's structural edges (the ridges of the median-filtered "
                        "luma's gradient, linked along each contour) as one more input: it keeps far more of a line-art style's ink lines (off by "
                        "default: on painterly styles it measured the same or worse); --line-art adds the "
                        "settings that go with it")
    p.add_argument("--line-art", action="store_true",
                   help="the preset for line-art styles (cel shading, ink outlines): --edges, and "
                        f"--texture-weight {LINE_ART['texture_weight']:g} --detail-sampling "
                        f"{LINE_ART['detail_sampling']:g} --mirror {LINE_ART['mirror']:g} unless given")
    p.add_argument("--fusion-flow", type=flow_preset_arg, metavar="P",
                   help="DIS preset of the temporal stage's motion, in training and when rendering with the "
                        "model: ultrafast, fast or medium; faster presets render faster and flicker more "
                        f"(default {per_design('fusion_flow')})")
    p.add_argument("--vgg-weights", metavar="FILE",
                   help="torchvision VGG19 state dict for the perceptual loss (also looked up in the "
                        "torch hub cache); without it the perceptual loss is off")
    p.add_argument("--arch", default=DESIGN, help="generator design: " + " or ".join(
        f"{arch} (default)" if arch == DESIGN else arch for arch in sorted(DESIGN_SETTINGS, key=lambda a: a != DESIGN)))
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto",
                   help="auto (default: bf16 autocast where the GPU or CPU computes bf16 natively, else fp32), "
                        "fp32 or bf16")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: the idle cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed + --steps = same model on CPU)")
    p.add_argument("--resume", action="store_true", help="continue training MODEL.pt")
    p.add_argument("--preview-every", type=count_arg, default=0, metavar="K",
                   help="write preview PNGs to MODEL_previews/ every K steps")
    p.add_argument("--preview-frames", metavar="LIST", type=index_list,
                   help="frame indices to preview, e.g. 0,50,99 (default: keyframes, middle, last)")
    p.add_argument("--lr", type=number_arg, help=f"learning rate (default {per_design('lr')})")
    p.add_argument("--patch-size", type=int, metavar="PX", help=f"training patch size (default {per_design('patch_size')})")
    p.add_argument("--batch-size", type=int, metavar="N", help=f"patches per step (default {per_design('batch_size')})")
    add_common(p)
    p.set_defaults(func=run_train)

    p = subparsers.add_parser(
        "paint", help="paint frames with a per-frame stylizer (reference, neural, style image, model)",
        description="Paint keyframes for vidstyle train with a per-frame stylizer: a deterministic reference "
                    "filter (toon, pixel-art, watercolor), a neural style (neural:0 to neural:25) or any "
                    "picture as the style (--style-image), both from the optional neural extra "
                    '(pip install "vidstyle[neural]"), or a model file (--model: a vidstyle checkpoint, a '
                    "fast_neural_style .pth, or an ONNX image-to-image model taking (N, 3, H, W) float RGB). "
                    "With --frames, writes those frames as PNGs named by frame index (a keyframe folder); "
                    "without, paints every frame to a video with the source's audio, or a PNG folder (the "
                    "per-frame baseline a trained model is compared with).")
    p.add_argument("input", help="video file or frame folder")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="video file or folder")
    p.add_argument("--style", help="toon (default), pixel-art, watercolor, or neural:N (N 0-25; neural extra)")
    p.add_argument("--style-image", metavar="IMAGE", help="use this picture as the style (neural extra)")
    p.add_argument("--model", metavar="FILE",
                   help="per-frame model: vidstyle .pt, fast_neural_style .pth, or .onnx (onnxruntime)")
    p.add_argument("--model-range", type=int, default=1, choices=[1, 255],
                   help="an ONNX model's input and output scale: 1 = [0, 1] (default, what vidstyle export "
                        "writes), 255 = [0, 255]")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda, for neural styles and models")
    p.add_argument("--frames", type=index_list, metavar="LIST", help="only these frame indices, e.g. 0,60")
    add_size(p, scale=False)
    add_range(p)
    add_encoder(p)
    add_common(p)
    p.set_defaults(func=run_paint)


def run_train(args: argparse.Namespace) -> int:
    import dataclasses

    from ..train import TrainOptions, train

    # Every option of vidstyle train is a TrainOptions field of the same name.
    options = TrainOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainOptions)
                              if hasattr(args, f.name)})
    train(args.input, args.keyframes, args.output, options)
    return 0


def run_paint(args: argparse.Namespace) -> int:
    from ..progress import info
    from ..errors import UsageError
    from ..styles import check_painter_spec, paint_frames, paint_video, painter_spec

    spec = painter_spec(args.style, style_image=args.style_image, model=args.model, model_range=args.model_range)
    check_painter_spec(spec)
    if args.frames is not None:
        ignored = [flag for flag, value in (("--start", args.start), ("--end", args.end), ("--codec", args.codec),
                                            ("--crf", args.crf), ("--preset", args.preset),
                                            ("--no-audio", args.no_audio or None)) if value is not None]
        if ignored:
            raise UsageError(f"--frames writes PNGs of the frames named; {', '.join(ignored)} only apply to a "
                             "whole-clip paint (drop --frames)")
        written = paint_frames(args.input, args.output, args.frames, spec, size=args.size, device=args.device,
                               overwrite=args.overwrite)
        info(f"painted frames {', '.join(map(str, written))} into {args.output}")
    else:
        result = paint_video(args.input, args.output, spec, size=args.size, start=args.start,
                             end=args.end, codec=args.codec, crf=args.crf, preset=args.preset,
                             audio=not args.no_audio, device=args.device, overwrite=args.overwrite)
        info(f"painted {result.frames} frames into {result.output}")
    return 0
