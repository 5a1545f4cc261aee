"""Training memory against recording length: a 30-minute input vs a 1-minute one, side by side.

Both inputs are made from real footage (``../shared/footage/``): the Snow Mountain
clip (8 s, 720p, 20 fps), played forwards and backwards, is scaled to ``--size``
and encoded once as a 1-minute H.264 file at 30 fps (x264 ultrafast, CRF 28,
a keyframe every 2 s, as OBS records); the 30-minute file copies its packets 30
times with shifted timestamps (no re-encode; same encoder settings). Each input
gets the same number of painted keyframes (the toon reference style) at the same
relative positions, and is trained in a fresh process for the same number of
steps at the same training size; the process's peak RSS is reported. A third
run loads every frame of the 1-minute input (the path before sampling) for
scale::

    python3 bench/bench_train_memory.py --size 1920x1080 --train-size 480x270 --steps 30

Peak RSS is the training process's VmHWM (what the system had to find for it; Linux); "decode" is
the time to get the frames (seeking and decoding the sample, or reading every frame), "train()"
the whole call including it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import SNOWMOUNTAIN, machine  # noqa: E402

FPS = 30


def make_minute(source: Path, path: Path, size: tuple[int, int]) -> None:
    """One minute at ``FPS``: the source clip forwards then backwards, over and over."""
    with av.open(str(source)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC if size[0] > f.shape[1] else cv2.INTER_AREA)
              for f in frames]
    cycle = frames + frames[-2:0:-1]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, FPS)
        stream.options = {"preset": "ultrafast", "crf": "28", "g": str(2 * FPS)}
        for i in range(60 * FPS):
            frame = av.VideoFrame.from_ndarray(cycle[i % len(cycle)], format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def repeat(minute: Path, path: Path, times: int) -> None:
    """``times`` copies of ``minute``'s packets, timestamps shifted by a minute each."""
    with av.open(str(minute)) as source, av.open(str(path), "w") as out:
        template = source.streams.video[0]
        stream = out.add_stream_from_template(template)
        shift = 60 * FPS * int(round(1 / (template.time_base * FPS)))
        for copy in range(times):
            source.seek(0)
            for packet in source.demux(template):
                if packet.size == 0:
                    continue
                packet.pts += copy * shift
                packet.dts += copy * shift
                packet.stream = stream
                out.mux(packet)


def child(args: argparse.Namespace) -> None:
    """Train once and print a JSON line with this process's peak RSS."""
    from vidstyle.io import open_video, probe
    from vidstyle.progress import set_quiet
    from vidstyle.styles import stylize
    from vidstyle.train import _longclip, train

    set_quiet(True)
    if args.all_frames:
        _longclip.LONG_CLIP_FRAMES = 10**9
    info = probe(args.input)
    size = tuple(map(int, args.train_size.split("x")))
    count = info.frame_count
    keys = {}
    for fraction in np.linspace(0.1, 0.9, args.keyframes):
        index = int(fraction * count)
        with open_video(args.input, size=size, start_frame=index, end_frame=index + 1) as reader:
            keys[index] = stylize(next(iter(reader)).rgb, "toon")
    kept, loading = [], []
    loader = _longclip.load_training_clip

    def counting(*a, **k):  # noqa: ANN002, ANN003
        began = time.perf_counter()
        clip = loader(*a, **k)
        loading.append(time.perf_counter() - began)
        kept.append(len(clip.indices))
        return clip

    import vidstyle.train._trainer as trainer
    trainer.load_training_clip = counting
    started = time.perf_counter()
    result = train(args.input, keys, None, size=size, steps=args.steps, device="cpu", threads=1)
    seconds = time.perf_counter() - started
    peak = peak_rss()
    print(json.dumps({"frames": count, "kept": kept[0], "peak": peak, "seconds": seconds, "load": loading[0],
                      "steps": result.steps, "stage_steps": result.temporal_stage.get("steps", 0)}))


def peak_rss() -> int:
    """This process's peak resident memory in bytes: VmHWM, the high-water mark of its own memory.
    (Not ru_maxrss: across fork and exec that keeps the parent's RSS at the fork, which here held the
    decoded footage.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status (Linux only)")


def run(input: Path, args: argparse.Namespace, all_frames: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", str(input), "--train-size", args.train_size,
               "--steps", str(args.steps), "--keyframes", str(args.keyframes)]
    command += ["--all-frames"] if all_frames else []
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1920x1080", help="size of the generated recordings")
    parser.add_argument("--train-size", default="480x270")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--keyframes", type=int, default=4)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--footage", default=str(SNOWMOUNTAIN), help="the clip the inputs are made of")
    parser.add_argument("--workdir", help="keep the generated inputs here (default: a temporary folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--all-frames", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.input = args.child
        child(args)
        return
    size = tuple(map(int, args.size.split("x")))
    with tempfile.TemporaryDirectory(prefix="bench-train-memory-") as temp:
        work = Path(args.workdir or temp)
        work.mkdir(parents=True, exist_ok=True)
        minute, long = work / f"minute_{args.size}.mp4", work / f"{args.minutes}min_{args.size}.mp4"
        started = time.perf_counter()
        if not minute.exists():
            make_minute(Path(args.footage), minute, size)
        if not long.exists():
            repeat(minute, long, args.minutes)
        print(f"inputs made in {time.perf_counter() - started:.0f} s: {minute.stat().st_size / 2**20:.0f} MB and "
              f"{long.stat().st_size / 2**20:.0f} MB at {args.size}, {FPS} fps; training at {args.train_size}, "
              f"{args.steps} steps, {args.keyframes} keyframes, 1 thread", flush=True)
        rows = [("1 minute", run(minute, args)), (f"{args.minutes} minutes", run(long, args)),
                ("1 minute, every frame loaded", run(minute, args, all_frames=True))]
    print(f"machine: {machine()}")
    print(f"{'input':30s} {'frames':>7s} {'kept':>6s} {'peak RSS':>10s} {'decode':>7s} {'train()':>8s}")
    for name, row in rows:
        print(f"{name:30s} {row['frames']:7d} {row['kept']:6d} {row['peak'] / 2**20:8.0f} MB {row['load']:6.1f} s "
              f"{row['seconds']:7.0f} s")
    width, height = map(int, args.train_size.split("x"))
    whole = rows[1][1]["frames"] * width * height * 3
    print(f"(every frame of the {args.minutes}-minute input at {args.train_size} would take {whole / 2**30:.1f} GiB)")
    ratio = rows[1][1]["peak"] / rows[0][1]["peak"]
    verdict = "met" if ratio <= 1.2 else "NOT met"
    print(f"peak RSS {args.minutes} minutes / 1 minute: {ratio:.3f} (target <= 1.2: {verdict})")


if __name__ == "__main__":
    main()
