"""Guides and pre-filter speed against Texler's tools (REFERENCE section 1), one run.

Cuts 21-frame clips at 320x240 and 640x480 from the shared hacienda footage and
times, on each: DIS MEDIUM flows for the clip (both directions); guide generation
(r 10, sigma 10) from those flows, with one key (frame 10) and with two (0, 20);
and the temporal pre-filter (radius 15) per frame, with its flows counted in and
taken out. Texler's tools read precomputed flow files, so the "without flow"
figures are the ones comparable to theirs.

    python3 bench/bench_guides.py [--footage DIR]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstyle.flow import FlowPreset, video_flows  # noqa: E402
from vidstyle.guides import GuideSettings, render_guide  # noqa: E402
from vidstyle.guides._generate import _GuideWalker  # noqa: E402
from vidstyle.io import FolderWriter, read_frames  # noqa: E402
from vidstyle.prefilter import temporal_bilateral_frames  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402

# Texler's tools on the development machine (REFERENCE section 1).
ORIGINAL_GUIDES_S = {(320, 240): 1.9, (640, 480): 9.0}  # per 21-frame clip (9-15 s: the low end)
ORIGINAL_PREFILTER_S = {(320, 240): 0.57, (640, 480): 2.0}  # per frame, single-threaded


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


def time_guides(pairs: list, size: tuple[int, int], keys: list[int]) -> float:
    settings = GuideSettings(radius=10, sigma=10)
    walker = _GuideWalker(settings, keys, {k: None for k in keys}, *size)
    start = time.perf_counter()
    for _, layers in walker.run(list(range(len(pairs) + 1)), iter(pairs)):
        render_guide(size[0], size[1], layers, sigma=10, seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", help="folder holding stk_hacienda_640x480_audio.mp4")
    args = parser.parse_args()
    set_quiet(True)
    source = find_footage(args.footage)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; source {source.name}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in ((320, 240), (640, 480)):
            clip = cut(source, Path(scratch) / f"clip{size[0]}", size)
            start = time.perf_counter()
            pairs = list(video_flows(clip, preset=FlowPreset.MEDIUM, backward=True))
            flow_s = time.perf_counter() - start
            one_key = time_guides(pairs, size, [10])
            two_keys = time_guides(pairs, size, [0, 20])
            frames = list(read_frames(clip))
            start = time.perf_counter()
            for _ in temporal_bilateral_frames(iter(frames), radius=15, preset=FlowPreset.MEDIUM):
                pass
            prefilter_total = (time.perf_counter() - start) / len(frames)
            prefilter_only = prefilter_total - flow_s / len(frames)
            rows.append((size, flow_s, one_key, two_keys, prefilter_total, prefilter_only))
    print("| clip | DIS flows, 20 pairs x 2 | guides 1 key (no flow) | guides 2 keys (no flow) "
          "| guides 1 key + flow | vs Texler 1 key | prefilter / frame (no flow) | + flow | vs Texler |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size, flow_s, one, two, pf_total, pf_only in rows:
        original_g = ORIGINAL_GUIDES_S[size]
        original_p = ORIGINAL_PREFILTER_S[size]
        print(f"| {size[0]}x{size[1]} | {flow_s:.2f} s | {one:.2f} s | {two:.2f} s | {one + flow_s:.2f} s "
              f"| **{one / original_g:.2f}x** ({(one + flow_s) / original_g:.2f}x with flow) "
              f"| {pf_only:.3f} s | {pf_total:.3f} s "
              f"| **{pf_only / original_p:.2f}x** ({pf_total / original_p:.2f}x with flow) |")


if __name__ == "__main__":
    main()
