"""Guides and pre-filter speed against Texler's tools (REFERENCE section 1), one run.

Cuts 21-frame clips at 320x240 and 640x480 from the shared hacienda footage and
times, on each: DIS MEDIUM flows for the clip (both directions), computed and read
back from a warm :class:`~vidstyle.flow.FlowCache`; guide generation (r 10,
sigma 10) with one key (frame 10) and with two (0, 20); and the temporal
pre-filter (radius 15) per frame. Each is timed from flows in memory ("no flow",
the figure comparable to Texler's tools, which read precomputed flow files),
through the public API reading a warm flow cache, and computing the flow.
Measurements are interleaved and repeated, and the best of each is kept: the
development machine is shared, and its load moves while the script runs.

    python3 bench/bench_guides.py [--footage DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstyle.flow import FlowCache, FlowPreset, video_flows  # noqa: E402
from vidstyle.guides import GuideSettings, generate_guides, guides_along_flows  # noqa: E402
from vidstyle.io import FolderWriter, read_frames  # noqa: E402
from vidstyle.prefilter import PrefilterSettings, filter_along_flows, temporal_bilateral_frames  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402

# Texler's tools on the development machine (REFERENCE section 1).
ORIGINAL_GUIDES_S = {(320, 240): 1.9, (640, 480): 9.0}  # per 21-frame clip (9-15 s: the low end)
ORIGINAL_PREFILTER_S = {(320, 240): 0.57, (640, 480): 2.0}  # per frame, single-threaded
TARGET = 0.2  # issue 4: at most 0.2x the original's time
SIZES = ((320, 240), (640, 480))


def find_footage(given: str | None) -> Path:
    here = Path(__file__).resolve()
    for candidate in ([Path(given)] if given else []) + [p / "shared" / "footage" for p in here.parents]:
        clip = candidate / "stk_hacienda_640x480_audio.mp4"
        if clip.is_file():
            return clip
    raise SystemExit("stk_hacienda_640x480_audio.mp4 not found; pass --footage DIR")


def cut(source: Path, folder: Path, size: tuple[int, int], start: int = 60, count: int = 21) -> Path:
    with FolderWriter(folder) as writer:
        for frame in read_frames(source, size=size, start_frame=start, end_frame=start + count):
            writer.write(frame.rgb, index=frame.index - start)
    return folder


def guides_from_pairs(pairs: list, size: tuple[int, int], keys: list[int]) -> None:
    """The guide work on flows already in memory: advection, seeding and rendering."""
    drain(guides_along_flows(pairs, list(range(len(pairs) + 1)), keys, size=size,
                             settings=GuideSettings(radius=10, sigma=10)))


def drain(iterable: object) -> None:
    for _ in iterable:  # type: ignore[attr-defined]
        pass


def measure(clip: Path, size: tuple[int, int], scratch: Path, repeats: int) -> dict[str, float]:
    """Best time in seconds of each measurement, interleaved over ``repeats`` rounds."""
    pairs = list(video_flows(clip, preset=FlowPreset.MEDIUM, backward=True))
    frames = list(read_frames(clip))
    warm = FlowCache(scratch / f"warm{size[0]}")
    drain(video_flows(clip, backward=True, cache=warm))  # the file-keyed flows guides read
    drain(temporal_bilateral_frames(iter(frames), cache=warm))  # the pixel-keyed ones of a frame stream
    settings = PrefilterSettings(radius=15)
    runs: dict[str, Callable[[], object]] = {
        "flow": lambda: drain(video_flows(clip, preset=FlowPreset.MEDIUM, backward=True)),
        "flow_read": lambda: drain(video_flows(clip, backward=True, cache=warm)),
        "guides1": lambda: guides_from_pairs(pairs, size, [10]),
        "guides2": lambda: guides_from_pairs(pairs, size, [0, 20]),
        "guides1_cached": lambda: drain(generate_guides(clip, [10], cache=warm)),
        "guides1_flow": lambda: drain(generate_guides(clip, [10])),
        "prefilter": lambda: drain(filter_along_flows(deque(frames), iter(pairs), settings)),
        "prefilter_cached": lambda: drain(temporal_bilateral_frames(iter(frames), cache=warm)),
        "prefilter_flow": lambda: drain(temporal_bilateral_frames(iter(frames))),
    }
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    for name in ("prefilter", "prefilter_cached", "prefilter_flow"):
        best[name] /= len(frames)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", help="folder holding stk_hacienda_640x480_audio.mp4")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the best of each is kept (3)")
    args = parser.parse_args()
    set_quiet(True)
    source = find_footage(args.footage)
    load_before = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"source {source.name}; best of {args.repeats}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in SIZES:
            clip = cut(source, Path(scratch) / f"clip{size[0]}", size)
            rows.append((size, measure(clip, size, Path(scratch), args.repeats)))
    load_after = os.getloadavg()
    print(f"load average (1/5/15 min): {' '.join(f'{x:.1f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.1f}' for x in load_after)} after")
    print("\nGuides, per 21-frame clip (r 10, sigma 10). Texler: "
          + ", ".join(f"{s[0]}x{s[1]} {ORIGINAL_GUIDES_S[s]} s" for s in SIZES) + f"; target <= {TARGET}x.")
    print("| clip | DIS flows, 20 pairs x 2 | read from cache | 1 key (no flow) | 2 keys (no flow) "
          "| 1 key, cached flow | 1 key + flow | vs Texler, 1 key |")
    print("|---|---|---|---|---|---|---|---|")
    for size, t in rows:
        original = ORIGINAL_GUIDES_S[size]
        print(f"| {size[0]}x{size[1]} | {t['flow']:.2f} s | {t['flow_read']:.2f} s | {t['guides1']:.2f} s "
              f"| {t['guides2']:.2f} s | {t['guides1_cached']:.2f} s | {t['guides1_flow']:.2f} s "
              f"| **{t['guides1'] / original:.2f}x** ({t['guides1_cached'] / original:.2f}x cached flow, "
              f"{t['guides1_flow'] / original:.2f}x with flow) |")
    print("\nPre-filter, per frame (radius 15). Texler: "
          + ", ".join(f"{s[0]}x{s[1]} {ORIGINAL_PREFILTER_S[s]} s" for s in SIZES) + f"; target <= {TARGET}x.")
    print("| clip | no flow | cached flow | + flow | vs Texler |")
    print("|---|---|---|---|---|")
    for size, t in rows:
        original = ORIGINAL_PREFILTER_S[size]
        print(f"| {size[0]}x{size[1]} | {t['prefilter']:.3f} s | {t['prefilter_cached']:.3f} s "
              f"| {t['prefilter_flow']:.3f} s | **{t['prefilter'] / original:.2f}x** "
              f"({t['prefilter_cached'] / original:.2f}x cached flow, "
              f"{t['prefilter_flow'] / original:.2f}x with flow) |")


if __name__ == "__main__":
    main()
