"""Training benchmark: fidelity and flicker against training time, side by side in one run.

On a real clip at 320x240, one keyframe is painted by a reference stylizer;
each configuration is trained for its budget, then the frames that were not
painted are scored against the stylizer's own output (PSNR, SSIM) and the
flicker of the stylized clip is measured as E_warp (Lai et al. 2018 protocol,
REFERENCE section 3: DIS MEDIUM flow on the input frames, Lai's occlusion
mask, RGB in [0, 1], mean over pairs of the per-channel masked MSE).

    python3 bench/bench_train.py --clip ../shared/footage/stk_hacienda_640x480_audio.mp4 \
        --runs fast:1:1.0 fast:1:0 texler:5:0

A run is ARCH:CPU_MINUTES:TEMPORAL_WEIGHT[:NAME=VALUE,...]: training stops
after that much process CPU time (robust on a shared machine; wall time is
reported too); the optional NAME=VALUE pairs are further ``train()`` options,
e.g. ``fast:5:1.0:propagation_weight=0,fusion_weight=1`` or ``fast:5:0:precision=fp32``.
Every design gets the same losses (L1 + temporal; no GAN, no VGG) and the
same learning-rate decay, so only the design differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstyle.flow import DisFlow, FlowPreset, validity_mask  # noqa: E402
from vidstyle.metrics import warping_error  # noqa: E402
from vidstyle.models import flops_per_pixel  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.render import stylize_clip  # noqa: E402
from vidstyle.styles import stylize  # noqa: E402
from vidstyle.train import load_clip, train  # noqa: E402


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def flicker_protocol(frames: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(forward flow, validity mask) per consecutive pair, on the input frames."""
    dis = DisFlow(FlowPreset.MEDIUM)
    out = []
    for t in range(len(frames) - 1):
        forward = dis(frames[t], frames[t + 1])
        backward = dis(frames[t + 1], frames[t])
        out.append((forward, validity_mask(forward, backward)))
    return out


def e_warp(outputs: np.ndarray, protocol: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean over pairs of vidstyle.metrics.warping_error (Lai et al.'s e_t)."""
    return float(np.nanmean([warping_error(outputs[t], outputs[t + 1], flow, mask)
                             for t, (flow, mask) in enumerate(protocol)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default="samples/hacienda_320x240.mp4")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--style", default="toon")
    parser.add_argument("--keyframe", type=int, default=None, help="frame to paint (default: middle)")
    parser.add_argument("--runs", nargs="+", default=["fast:1:1.0", "fast:1:0"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--verbose", action="store_true", help="show the training progress bars")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    torch.set_num_threads(args.threads)
    set_quiet(not args.verbose)
    clip = load_clip(args.clip, (width, height))
    frames = clip.frames
    key = args.keyframe if args.keyframe is not None else len(frames) // 2
    truth = np.stack([stylize(f, args.style) for f in frames])
    others = [i for i in range(len(frames)) if i != key]
    t0 = time.perf_counter()
    protocol = flicker_protocol(frames)
    print(f"clip {args.clip} {width}x{height}, {len(frames)} frames, keyframe {key} painted '{args.style}'; "
          f"flicker protocol {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"E_warp input clip {e_warp(frames, protocol):.5f}, ground-truth stylized clip "
          f"{e_warp(truth, protocol):.5f}", flush=True)
    results = []
    for run in args.runs:
        arch, minutes, weight, *extra = run.split(":")
        weights = {name: _number_or_text(value) for name, value in (item.split("=") for item in extra[0].split(","))} \
            if extra else {}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = train(args.clip, {clip.indices[key]: truth[key]}, None, size=(width, height),
                       cpu_minutes=float(minutes), temporal_weight=float(weight), arch=arch, seed=args.seed,
                       device="cpu", threads=args.threads, gan_weight=0.0, lr_decay_start=0.3, **weights)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        out = stylize_clip(result.model, frames)
        row = {"run": run, "arch": arch, "temporal_weight": float(weight), "steps": result.steps,
               "train_cpu_s": round(result.seconds, 1), "total_wall_s": round(wall, 1),
               "cpu_s": round(cpu, 1), "mflop_per_px": round(flops_per_pixel(result.model) / 1e6, 3),
               "psnr_key": round(psnr(out[key], truth[key]), 2),
               "psnr": round(float(np.mean([psnr(out[i], truth[i]) for i in others])), 2),
               "ssim": round(float(np.mean([structural_similarity(out[i], truth[i], channel_axis=2)
                                            for i in others[::4]])), 4),
               "e_warp": round(e_warp(out, protocol), 5)}
        if result.model.fusion is not None:  # the generator alone, without the learned temporal stage
            alone = stylize_clip(result.model, frames, temporal=False)
            row.update(psnr_per_frame=round(float(np.mean([psnr(alone[i], truth[i]) for i in others])), 2),
                       e_warp_per_frame=round(e_warp(alone, protocol), 5))
        results.append(row)
        print(json.dumps(row), flush=True)
    print("\n| run | steps | train CPU s | wall s (all) | MFLOP/px | PSNR key | PSNR others | SSIM | E_warp "
          "| generator alone: PSNR, E_warp |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        alone = f"{r['psnr_per_frame']}, {r['e_warp_per_frame']}" if "psnr_per_frame" in r else "-"
        print(f"| {r['run']} | {r['steps']} | {r['train_cpu_s']} | {r['total_wall_s']} | {r['mflop_per_px']} | "
              f"{r['psnr_key']} | {r['psnr']} | {r['ssim']} | {r['e_warp']} | {alone} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _number_or_text(value: str) -> float | str:
    """A run option's value: ``0.5`` for weights, ``fp32`` for ``precision``."""
    if value.isdigit():  # steps=1500
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value


if __name__ == "__main__":
    main()
