"""``vidstyle shots`` benchmark: scan speed, and cut precision/recall on a recording with known cuts.

The recording is made here from the two benchmark clips: segments of both, scaled to one
size (1280x720, 20 fps), joined with hard cuts (a jump within the same track counts: the
camera is elsewhere), and one fade through black generated between two segments.

    python3 bench/bench_shots.py                # makes the recording in a temporary folder
    python3 bench/bench_shots.py --keep rec.mp4 # and keeps it
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from _common import FOOTAGE, HACIENDA, SNOWMOUNTAIN, machine  # noqa: E402
from vidstyle.io import VideoWriter, open_video  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.shots import Transition, find_shots  # noqa: E402

SIZE = (1280, 720)
FPS = 20
# (clip, first frame, last frame exclusive); a cut between consecutive segments
SEGMENTS = [(HACIENDA.name, 0, 50), (SNOWMOUNTAIN.name, 0, 40), (HACIENDA.name, 100, 160),
            (SNOWMOUNTAIN.name, 60, 100), (HACIENDA.name, 180, 240), (SNOWMOUNTAIN.name, 100, 160),
            (HACIENDA.name, 60, 100)]
FADE_AFTER = 4  # index of the segment followed by a fade through black instead of a cut
FADE_OUT, FADE_BLACK, FADE_IN = 8, 3, 8
CUT_TOLERANCE, FADE_TOLERANCE = 1, 4


def make_recording(path: Path, footage: Path = FOOTAGE) -> list[tuple[int, Transition]]:
    """Write the recording; returns the true shot starts (frame, kind)."""
    truth: list[tuple[int, Transition]] = []
    index = 0
    with VideoWriter(path, width=SIZE[0], height=SIZE[1], time_base=Fraction(1, FPS), rate=FPS,
                     preset="veryfast", overwrite=True) as writer:
        def put(rgb: np.ndarray) -> None:
            nonlocal index
            writer.write(rgb, pts=index)
            index += 1

        for number, (clip, first, last) in enumerate(SEGMENTS):
            frames = [f.rgb for f in open_video(footage / clip, start_frame=first, end_frame=last, size=SIZE)]
            if number == FADE_AFTER + 1:  # fade in
                for i in range(FADE_IN):
                    put((frames[i] * ((i + 1) / (FADE_IN + 1))).astype(np.uint8))
                frames = frames[FADE_IN:]
            elif number:
                truth.append((index, Transition.CUT))
            for i, rgb in enumerate(frames):
                if number == FADE_AFTER and i >= len(frames) - FADE_OUT:
                    rgb = (rgb * ((len(frames) - i) / (FADE_OUT + 1))).astype(np.uint8)
                put(rgb)
            if number == FADE_AFTER:
                for _ in range(FADE_BLACK):
                    put(np.zeros((SIZE[1], SIZE[0], 3), np.uint8))
                truth.append((index, Transition.FADE))  # the fade-in's first frame
    return truth


def score(found: list[int], truth: list[tuple[int, Transition]]) -> tuple[int, int, int]:
    """(true positives, false positives, misses), each true cut matched at most once."""
    unmatched = list(found)
    hits = 0
    for frame, kind in truth:
        tolerance = FADE_TOLERANCE if kind is Transition.FADE else CUT_TOLERANCE
        near = [f for f in unmatched if abs(f - frame) <= tolerance]
        if near:
            unmatched.remove(near[0])
            hits += 1
    return hits, len(unmatched), len(truth) - hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the generated recording here")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--footage", type=Path, default=FOOTAGE, help="the benchmark clips' folder")
    args = parser.parse_args()
    if not (args.footage / HACIENDA.name).exists():
        sys.exit(f"benchmark footage not found in {args.footage} (see ../shared/footage/README.md; --footage DIR)")
    set_quiet(True)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.mp4"
        truth = make_recording(path, args.footage)
        if args.keep:
            shutil.copy(path, args.keep)
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            report = find_shots(path)
            after = resource.getrusage(resource.RUSAGE_SELF)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime)
    frames = report.frames
    hits, false, missed = score(report.cuts, truth)
    print(f"recording: {frames} frames at {SIZE[0]}x{SIZE[1]}, {len(truth)} true shot starts "
          f"({sum(k is Transition.CUT for _, k in truth)} cuts, 1 fade): {[f for f, _ in truth]}")
    print(f"found: {[(s.start, s.transition.value) for s in report.shots[1:]]}")
    print(f"precision {hits / max(hits + false, 1):.2f}, recall {hits / len(truth):.2f} "
          f"(cuts within {CUT_TOLERANCE} frame, the fade within {FADE_TOLERANCE})")
    print(f"speed: {frames / best_wall:.0f} fps wall, {frames / best_cpu:.0f} frames per CPU second "
          f"(~{2 * frames / best_cpu:.0f} fps on 2 free cores), best of {args.repeats}")
    print(f"keyframes suggested: {[k.frame for k in report.keyframes]} "
          f"(shots of them: {sorted({k.shot for k in report.keyframes})} of {len(report.shots)})")


if __name__ == "__main__":
    main()
