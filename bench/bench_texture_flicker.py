"""Benchmark: what the texture figures add to ``flicker``'s time, side by side in one run.

The same stylized clip, source and painted keyframes, alternating so that the machine's
load hits every variant alike:

- ``flicker``: E_warp, static flicker, tOF (no texture: no reference, no keyframes);
- ``+ keyframes``: the same with ``keyframes=`` (detail ratio on every frame, texture
  distance on every 5th, the default);
- ``+ keyframes, every frame``: ``texture_every=1``.

CPU seconds (user + system of this process, all threads) and wall seconds are printed
with the ratio to plain ``flicker``.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 bench/bench_texture_flicker.py
        [--source ../shared/footage/stk_hacienda_640x480_audio.mp4] [--max-frames 120] [--repeats 1]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import cv2

from vidstyle.io import VideoWriter, probe, read_frames
from vidstyle.metrics import TEXTURE_EVERY, flicker
from vidstyle.progress import set_quiet
from vidstyle.styles import stylize

FOOTAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "footage"
if not FOOTAGE.exists():
    FOOTAGE = Path("/work/shared/footage")


def prepare(source: Path, folder: Path, max_frames: int) -> tuple[Path, Path]:
    """A blurred ``toon`` stylization of the first ``max_frames`` frames, and keyframes 0 and the middle
    painted by ``toon``."""
    info = probe(source)
    keys = folder / "keys"
    keys.mkdir()
    middle = max_frames // 2
    stylized = folder / "stylized.mp4"
    with VideoWriter(stylized, width=info.width, height=info.height, time_base=info.time_base,
                     rate=info.nominal_fps, crf=12, preset="veryfast") as writer:
        for frame in read_frames(source, end_frame=max_frames):
            painted = stylize(frame.rgb, "toon")
            if frame.index in (0, middle):
                cv2.imwrite(str(keys / f"{frame.index}.png"), cv2.cvtColor(painted, cv2.COLOR_RGB2BGR))
            writer.write(cv2.GaussianBlur(painted, (0, 0), 1.5), pts=frame.pts)
    return stylized, keys


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=FOOTAGE / "stk_hacienda_640x480_audio.mp4")
    parser.add_argument("--max-frames", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    set_quiet(True)
    with tempfile.TemporaryDirectory() as temp:
        stylized, keys = prepare(args.source, Path(temp), args.max_frames)
        variants = {"flicker": {}, f"+ keyframes (every {TEXTURE_EVERY}th)": {"keyframes": keys},
                    "+ keyframes, every frame": {"keyframes": keys, "texture_every": 1}}
        totals = {name: [0.0, 0.0] for name in variants}
        for _ in range(args.repeats):
            for name, options in variants.items():
                cpu, wall = cpu_seconds(), time.perf_counter()
                report = flicker(stylized, source=args.source, max_frames=args.max_frames, **options)
                totals[name][0] += cpu_seconds() - cpu
                totals[name][1] += time.perf_counter() - wall
                if report.drift is not None:
                    print(f"  {name}: detail ratio {report.drift.mean_detail_ratio:.3f}, texture distance "
                          f"{report.drift.mean_texture_distance:.3g} over {report.drift.measured} frames")
    info = probe(args.source)
    print(f"{args.source.name}, {info.width}x{info.height}, first {args.max_frames} frames, "
          f"{args.repeats} repeat(s), means:")
    base_cpu, base_wall = (v / args.repeats for v in totals["flicker"])
    for name, (cpu, wall) in totals.items():
        cpu, wall = cpu / args.repeats, wall / args.repeats
        print(f"{name:<28} CPU {cpu:7.1f} s ({cpu / base_cpu:.2f}x)   wall {wall:7.1f} s ({wall / base_wall:.2f}x)")


if __name__ == "__main__":
    main()
