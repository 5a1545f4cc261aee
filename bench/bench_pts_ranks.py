"""What frame indices from timestamps cost at variable frame rate (issue 18, defect 3).

At VFR the reader ranks every packet timestamp in one demux-only pass before decoding, so a frame lost
to damage leaves a gap instead of shifting later indices. This prints that pass's CPU time against
decoding the same file to RGB (what every command does anyway), side by side in one run.

    python3 bench/bench_pts_ranks.py [VIDEO ...]     # default: the footage in ../shared/footage
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import av

from _common import FOOTAGE, machine
from vidstyle.io import open_video, pts_ranks  # pts_ranks: the pass itself, timed alone


def cpu(fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    print(machine())
    paths = [Path(p) for p in sys.argv[1:]] or sorted(FOOTAGE.glob("*.mp4"))
    for path in paths:
        def ranks(path: Path = path) -> None:
            with av.open(str(path)) as container:
                assert pts_ranks(container, container.streams.video[0])

        def decode(path: Path = path) -> None:
            with open_video(path, threads=1) as reader:
                for _ in reader:
                    pass

        scan, full = cpu(ranks), cpu(decode)
        print(f"{path.name}: timestamp ranks {scan * 1000:.1f} ms CPU, decode to RGB {full * 1000:.0f} ms CPU, "
              f"ratio {scan / full:.4f}")


if __name__ == "__main__":
    main()
