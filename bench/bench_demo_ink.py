"""Does `vidstyle demo` keep the ink lines of its `toon` keyframe? Recipe variants side by side.

Runs the demo once per variant (recipe overrides), one after the other on the same
machine, and scores each run's stylized.mp4 against the per-frame `toon` reference
the run wrote for its report:

* **ink kept**: `toon` inks the Canny edges (thresholds 60/140) of the 5x5
  median-filtered source. On those pixels, the darkening of a frame against its
  own non-edge pixels within 4 px, ``1 - luma / local luma``, averaged; the
  output's over the reference's (1 = as dark as the reference's lines, 0 = no
  line). On the keyframe (40) and on far frames (0, 10, 20, 70, 80, 99); on far frames
  also on the weak stretches alone: the ink pixels Canny's hysteresis links to the strong
  edges (gradient below 140), about a third of them, where a generator finds ink hardest;
* the report's texture distance (strokes / colours), detail ratio, PSNR/SSIM
  and E_warp (x the source clip's own).

    PYTHONPATH=$PWD python3 bench/bench_demo_ink.py --variants recipe= \\
        tw20=train.texture_weight=20 no-edges=train.edges=false,train.texture_weight=20

The ink measure takes `toon`'s own ink pixels (`vidstyle.styles.toon_ink`), so it
means something only for the demo's `toon` keyframe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ink_darkening, machine

KEYFRAME = 40
FAR_FRAMES = (0, 10, 20, 70, 80, 99)


def score(folder: Path) -> dict[str, float]:
    from vidstyle.io import read_frames
    from vidstyle.pipeline import demo_recipe

    report = json.loads((folder / "flicker.json").read_text())
    texture, clips = report["texture"]["reference"], report["clips"]
    source = [f.rgb for f in read_frames(demo_recipe().input.video)]
    output = [f.rgb for f in read_frames(folder / "stylized.mp4")]
    reference = [f.rgb for f in read_frames(texture["path"])]

    def kept(i: int, weak_only: bool = False) -> float:
        return ink_darkening(output[i], source[i], weak_only=weak_only) / \
            ink_darkening(reference[i], source[i], weak_only=weak_only)

    return {"ink_key": kept(KEYFRAME), "ink_far": float(np.mean([kept(i) for i in FAR_FRAMES])),
            "ink_weak": float(np.mean([kept(i, weak_only=True) for i in FAR_FRAMES])),
            "ink_99": kept(99), "texture": texture["texture_distance"], "strokes": texture["stroke_distance"],
            "colours": texture["colour_distance"], "detail": texture["detail_ratio"], "psnr": report["psnr"],
            "ssim": report["ssim"], "e_warp_x": clips["output"]["e_warp"] / clips["source"]["e_warp"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["recipe="], metavar="NAME=KEY=VALUE[,KEY=VALUE]",
                        help="recipe overrides per run; NAME= alone runs the recipe as it is")
    parser.add_argument("-o", "--output", type=Path, help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()

    from vidstyle.pipeline import run_demo
    from vidstyle.progress import set_quiet

    set_quiet(True)
    root = args.output or Path(tempfile.mkdtemp(prefix="bench-demo-ink-"))
    print(f"machine: {os.cpu_count()} CPU cores, {machine()}; load average {os.getloadavg()[0]:.1f}")
    print("| variant | wall s | ink kept: key / far (frame 99) | far, weak stretches | texture distance "
          "(strokes / colours) | detail | PSNR / SSIM | E_warp x source |\n|---|---|---|---|---|---|---|---|")
    for variant in args.variants:
        name, _, settings = variant.partition("=")
        overrides = [item for item in settings.split(",") if item]
        started = time.perf_counter()
        run_demo(root / name, overrides=overrides, overwrite=True)
        seconds = time.perf_counter() - started
        s = score(root / name)
        print(f"| {name} {' '.join(overrides)} | {seconds:.1f} | {s['ink_key']:.2f} / {s['ink_far']:.2f} "
              f"({s['ink_99']:.2f}) | {s['ink_weak']:.2f} | {s['texture']:.2f} ({s['strokes']:.2f} / {s['colours']:.2f}) "
              f"| {s['detail']:.3f} | {s['psnr']:.2f} / {s['ssim']:.3f} | {s['e_warp_x']:.2f}x |", flush=True)
    print(f"runs in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
