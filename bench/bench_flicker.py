"""Benchmark: vidstyle's flicker metric against a straightforward single-threaded implementation.

Both compute Lai et al.'s E_warp of the same stylized clip with flow on the same
source, in one run, alternating, so that the machine's load hits both alike:

- baseline: decode both clips, per pair DIS forward and backward (same preset,
  OpenCV limited to one thread), Lai's mask with cv2.remap, cv2.remap warp, error.
- vidstyle: ``vidstyle.metrics.flicker(..., tof=False)`` (threads, one per core);
  also timed: with tOF, with a warm flow cache, and ``video_flows`` alone.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 bench/bench_flicker.py [--source ../shared/footage/stk_hacienda_640x480_audio.mp4]
        [--hd ../shared/footage/stk_snowmountain_1280x720.mp4] [--repeats 2] [--max-frames N]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

from vidstyle.flow import FlowCache, FlowPreset, video_flows
from vidstyle.io import VideoWriter, probe, read_frames
from vidstyle.metrics import flicker
from vidstyle.progress import set_quiet

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
if not FOOTAGE.exists():
    FOOTAGE = Path("/work/shared/footage")


def make_stylized(source: Path, output: Path, max_frames: int | None) -> None:
    """A flickering 'stylization': posterized colours, per-frame tint and grain (fixed seed)."""
    rng = np.random.default_rng(0)
    info = probe(source)
    with VideoWriter(output, width=info.width, height=info.height, time_base=info.time_base,
                     rate=info.nominal_fps, crf=12, preset="veryfast") as writer:
        for frame in read_frames(source, end_frame=max_frames):
            image = (frame.rgb // 32 * 32 + 16).astype(np.int16)
            image += rng.integers(-6, 7, size=3, dtype=np.int16)          # per-frame tint
            image += rng.integers(-4, 5, size=image.shape[:2], dtype=np.int16)[..., None]  # grain
            writer.write(np.clip(image, 0, 255).astype(np.uint8), pts=frame.pts)


def baseline_warp_error(stylized: Path, source: Path, preset: FlowPreset, max_frames: int | None) -> tuple[float, int]:
    """The straightforward way: one thread, one pair at a time."""
    previous_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        dis = cv2.DISOpticalFlow_create(preset.cv_preset)
        errors = []
        prev_src = prev_sty = None
        for src, sty in zip(read_frames(source, end_frame=max_frames), read_frames(stylized, end_frame=max_frames)):
            if prev_src is not None:
                a = cv2.cvtColor(prev_src, cv2.COLOR_RGB2GRAY)
                b = cv2.cvtColor(src.rgb, cv2.COLOR_RGB2GRAY)
                fwd = dis.calc(a, b, None)
                bwd = dis.calc(b, a, None)
                h, w = a.shape
                xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
                map_x, map_y = xs + fwd[..., 0], ys + fwd[..., 1]
                bwd_w = cv2.remap(bwd, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                fb = ((fwd + bwd_w) ** 2).sum(-1)
                mag = (fwd ** 2).sum(-1) + (bwd_w ** 2).sum(-1)
                occ = fb > 0.01 * mag + 0.5
                du = np.zeros_like(fwd)
                dv = np.zeros_like(fwd)
                du[:, :-1] = fwd[:, 1:] - fwd[:, :-1]
                dv[:-1] = fwd[1:] - fwd[:-1]
                occ |= (du ** 2).sum(-1) + (dv ** 2).sum(-1) > 0.01 * (fwd ** 2).sum(-1) + 0.002
                mask = (~occ).astype(np.float32)[..., None]
                o_t = prev_sty.astype(np.float32) / 255
                o_t1 = cv2.remap(sty.rgb.astype(np.float32) / 255, map_x, map_y, cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
                errors.append(float((mask * (o_t1 - o_t) ** 2).sum() / (3 * mask.sum())))
            prev_src, prev_sty = src.rgb, sty.rgb
        return float(np.mean(errors)), len(errors)
    finally:
        cv2.setNumThreads(previous_threads)


def timed(fn):  # type: ignore[no-untyped-def]
    """(result, wall seconds, CPU seconds of this process: user + system, all threads)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return result, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def flows_rate(path: Path, preset: FlowPreset, max_frames: int | None) -> tuple[int, float]:
    count, seconds, _ = timed(lambda: sum(1 for _ in video_flows(path, preset=preset, end_frame=max_frames)))
    return count, count / seconds


def peak_memory_mb(stylized: Path, source: Path, frames: int) -> float:
    """Peak traced (numpy included) memory of a flicker run over ``frames`` frames, MB."""
    tracemalloc.start()
    flicker(stylized, source=source, preset=FlowPreset.ULTRAFAST, max_frames=frames, tof=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=FOOTAGE / "stk_hacienda_640x480_audio.mp4")
    parser.add_argument("--hd", type=Path, default=FOOTAGE / "stk_snowmountain_1280x720.mp4")
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-frames", type=int)
    args = parser.parse_args()
    set_quiet(True)
    preset = FlowPreset.parse(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        stylized = Path(tmp) / "stylized.mp4"
        make_stylized(args.source, stylized, args.max_frames)
        base_times, ours_times, base_cpu, ours_cpu = [], [], [], []
        for _ in range(args.repeats):  # alternate so that load changes hit both
            (base_value, pairs), seconds, cpu = timed(lambda: baseline_warp_error(
                stylized, args.source, preset, args.max_frames))
            base_times.append(seconds)
            base_cpu.append(cpu)
            report, seconds, cpu = timed(lambda: flicker(stylized, source=args.source, preset=preset,
                                                         max_frames=args.max_frames, tof=False))
            ours_times.append(seconds)
            ours_cpu.append(cpu)
        full, full_s, _ = timed(lambda: flicker(stylized, source=args.source, preset=preset,
                                                max_frames=args.max_frames))
        cache = FlowCache(Path(tmp) / "cache")
        flicker(stylized, source=args.source, preset=preset, max_frames=args.max_frames, tof=False, cache=cache)
        _, warm_s, _ = timed(lambda: flicker(stylized, source=args.source, preset=preset,
                                             max_frames=args.max_frames, tof=False, cache=cache))
        memory = {n: peak_memory_mb(stylized, args.source, n) for n in (40, 200)}
    base, ours = min(base_times), min(ours_times)
    info = probe(args.source)
    print(f"clip: {args.source.name} {info.width}x{info.height}, {pairs} pairs, DIS {preset.value}, "
          f"cv2 threads {cv2.getNumThreads()}, best of {args.repeats}")
    print(f"E_warp  baseline {base_value:.6g}  vidstyle {report.warp_error:.6g}  "
          f"relative difference {abs(report.warp_error - base_value) / base_value:.2%}")
    print(f"time    baseline {base:.2f} s ({pairs / base:.2f} pairs/s)  vidstyle {ours:.2f} s "
          f"({pairs / ours:.2f} pairs/s)  ratio vidstyle/baseline {ours / base:.2f}")
    print(f"        all runs: baseline {[round(t, 2) for t in base_times]} vidstyle {[round(t, 2) for t in ours_times]}")
    print(f"CPU     baseline {min(base_cpu) / pairs * 1000:.0f} ms/pair  vidstyle {min(ours_cpu) / pairs * 1000:.0f} "
          f"ms/pair (all threads; ratio {min(ours_cpu) / min(base_cpu):.2f}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"vidstyle with tOF {full_s:.2f} s ({pairs / full_s:.2f} pairs/s); E_warp {full.warp_error:.6g}, "
          f"tOF {full.to_dict()['tof']:.3f} px")
    print(f"vidstyle, warm flow cache {warm_s:.2f} s ({pairs / warm_s:.2f} pairs/s), "
          f"ratio to baseline {warm_s / base:.2f}")
    print("peak traced memory of flicker (ultrafast, no tOF): "
          + ", ".join(f"{n} frames {mb:.0f} MB" for n, mb in memory.items()))
    for clip in (args.source, args.hd):
        if clip.exists():
            count, rate = flows_rate(clip, preset, args.max_frames)
            clip_info = probe(clip)
            print(f"video_flows forward+backward {clip_info.width}x{clip_info.height}: {rate:.2f} pairs/s "
                  f"({count} pairs)")


if __name__ == "__main__":
    main()
