"""HUD detection against a hand-labelled ground truth of the shared footage, and its cost.

Prints, per clip: each HUD element's recall (fraction of its pixels marked HUD over
the frames where it is shown), the overall precision (marked pixels that are HUD),
the player's kart and driver covered (fraction of the avatar's box marked HUD, over
all frames), and the detection time against the render time of the same clip
(measured side by side in one run; render: the trainer's default architecture with
random weights at the clip's size, CPU, speed does not depend on the weights).

    python3 bench/bench_hud.py                    # both clips, scores and timings
    python3 bench/bench_hud.py --no-render        # scores and detection time only
    python3 bench/bench_hud.py --show 100         # write the truth and the detection of frame 100 as PNGs
    python3 bench/bench_hud.py --fp               # write where the false positives are, as PNGs

Also printed: where the false positives lie, by distance from the nearest pixel labelled
HUD in the same frame (a rim of 1-3 px around an element, or scenery farther away).

Ground truth: bench/data/hud_truth.json (its "_about" says how it was made).
Targets (issue 16): precision >= 0.95, every element >= 0.5, avatar <= 0.02, detection <= 0.2 x render.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from _common import FOOTAGE, HACIENDA, SNOWMOUNTAIN, machine  # noqa: E402
from vidstyle.masks import as_bool, detect_hud_timeline, overlay_mask, read_mask  # noqa: E402
from vidstyle.models import DEFAULT_ARCH  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
TRUTH = DATA / "hud_truth.json"


def shape_mask(shape: dict, size: tuple[int, int]) -> np.ndarray:
    """(H, W) bool raster of one ground-truth shape."""
    width, height = size
    mask = np.zeros((height, width), dtype=np.uint8)
    if "rect" in shape:
        x, y, w, h = shape["rect"]
        mask[y:y + h, x:x + w] = 1
    elif "poly" in shape:
        cv2.fillPoly(mask, [np.array(shape["poly"], np.int32)], 1)
        if "hole" in shape:
            cx, cy, r = shape["hole"]
            cv2.circle(mask, (cx, cy), r, 0, -1)
    elif "mask" in shape:
        name, x, y = shape["mask"]
        painted = as_bool(read_mask(DATA / name))
        mask[y:y + painted.shape[0], x:x + painted.shape[1]] = painted
    else:
        raise ValueError(f"unknown shape {shape}")
    return mask.astype(bool)


class Truth:
    """One clip's labels: element masks per frame, ignored pixels per frame, the avatar box."""

    def __init__(self, clip: str) -> None:
        entry = json.loads(TRUTH.read_text())[clip]
        self.size = tuple(entry["size"])
        self.frames = entry["frames"]
        self.names = [e["name"] for e in entry["elements"]]
        # element -> list of (first, last, mask)
        self.spans = [[(s["frames"][0], s["frames"][1], np.any([shape_mask(x, self.size) for x in s["shapes"]], 0))
                       for s in e["spans"]] for e in entry["elements"]]
        self.ignores = [[(a, b, np.any([m for _, _, m in spans], 0)) for a, b in e.get("ignore", [])]
                        for e, spans in zip(entry["elements"], self.spans)]
        self.avatar = shape_mask(entry["avatar"], self.size)

    def element(self, k: int, t: int) -> np.ndarray | None:
        for first, last, mask in self.spans[k]:
            if first <= t <= last:
                return mask
        return None

    def ignored(self, t: int) -> np.ndarray:
        out = np.zeros(self.size[::-1], dtype=bool)
        for spans in self.ignores:
            for first, last, mask in spans:
                if first <= t <= last:
                    out |= mask
        return out


FP_RINGS = (1, 3)  # px: false positives within these distances of a labelled element are counted apart


def score(truth: Truth, timeline) -> dict:  # type: ignore[no-untyped-def]
    hits = np.zeros(len(truth.names))
    totals = np.zeros(len(truth.names))
    marked = true_marked = avatar = 0
    near = np.zeros(len(FP_RINGS))
    false_map = np.zeros(truth.size[::-1], np.int32)
    for t in range(truth.frames):
        detected = timeline.at(t)
        hud = np.zeros_like(detected)
        for k in range(len(truth.names)):
            mask = truth.element(k, t)
            if mask is not None:
                hud |= mask
                hits[k] += np.count_nonzero(detected & mask)
                totals[k] += np.count_nonzero(mask)
        counted = detected & ~truth.ignored(t)
        marked += np.count_nonzero(counted)
        true_marked += np.count_nonzero(counted & hud)
        avatar += np.count_nonzero(detected & truth.avatar)
        false = counted & ~hud
        false_map += false
        distance = cv2.distanceTransform((~hud).astype(np.uint8), cv2.DIST_L2, 3)
        near += [np.count_nonzero(false & (distance <= r)) for r in FP_RINGS]
    false_total = max(marked - true_marked, 1)
    return {"recall": dict(zip(truth.names, (hits / totals).tolist())),
            "precision": true_marked / max(marked, 1),
            # the labels are drawn by eye and an overlay's anti-aliased edge is part overlay, part scene:
            # the same precision with the 1 px band outside each label not counted (a "void" border, as
            # PASCAL VOC's segmentation labels have). The target is the strict figure above.
            "precision_void": true_marked / max(marked - near[0], 1),
            "avatar": avatar / (truth.frames * np.count_nonzero(truth.avatar)),
            "false_near": (near / false_total).tolist(), "false_map": false_map}


def render_seconds(clip: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of rendering ``clip`` (CPU: this process, all threads)."""
    from vidstyle.models import ModelConfig, Stylizer
    import torch

    from vidstyle.render import render

    torch.manual_seed(0)
    model = Stylizer(ModelConfig(DEFAULT_ARCH)).eval()
    with tempfile.TemporaryDirectory(prefix="vidstyle-bench-hud-") as tmp:
        cpu, started = time.process_time(), time.perf_counter()
        render(clip, model, Path(tmp) / "out.mp4", device="cpu", overwrite=True)
        return time.perf_counter() - started, time.process_time() - cpu


def show(clip: Path, truth: Truth, timeline, index: int, out: Path) -> None:  # type: ignore[no-untyped-def]
    from vidstyle.io import open_video

    with open_video(clip) as reader:
        rgb = next(f.rgb for f in reader if f.index == index)
    hud = np.zeros(truth.size[::-1], dtype=bool)
    for k in range(len(truth.names)):
        mask = truth.element(k, index)
        if mask is not None:
            hud |= mask
    labelled = overlay_mask(overlay_mask(rgb, hud, colour=(0, 255, 0)), truth.avatar, colour=(255, 255, 0))
    detected = overlay_mask(rgb, timeline.at(index))
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate([labelled, detected], 1), cv2.COLOR_RGB2BGR))
    print(f"wrote {out} (left: truth, green = HUD, yellow = avatar; right: detected)")


def show_false(clip: Path, truth: Truth, false_map: np.ndarray, out: Path) -> None:
    """The first frame with the false positives in magenta (opaque where marked in every
    frame) and the outlines of every labelled element's shapes in green."""
    from vidstyle.io import open_video

    with open_video(clip) as reader:
        rgb = next(iter(reader)).rgb.astype(np.float32)
    alpha = (false_map / truth.frames)[..., None]
    image = (rgb * (1 - alpha) + np.array([255, 0, 255], np.float32) * alpha).astype(np.uint8)
    labelled = np.zeros(truth.size[::-1], np.uint8)
    for spans in truth.spans:
        for _, _, mask in spans:
            labelled |= mask.astype(np.uint8)
    contours, _ = cv2.findContours(labelled, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, (0, 255, 0), 1)
    cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {out} (magenta: marked but not labelled HUD, by the fraction of frames; green: labels)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", type=Path, default=[HACIENDA, SNOWMOUNTAIN])
    parser.add_argument("--no-render", action="store_true", help="skip the render timing")
    parser.add_argument("--show", type=int, metavar="FRAME", help="write truth/detection PNGs of this frame")
    parser.add_argument("--fp", action="store_true", help="write where the false positives are as PNGs")
    args = parser.parse_args()
    if not all(c.exists() for c in args.clips):
        sys.exit(f"benchmark footage not found at {FOOTAGE} (see ../shared/footage/README.md)")
    set_quiet(True)
    print(f"machine: {machine()}")
    for clip in args.clips:
        truth = Truth(clip.name)
        cpu0, started = time.process_time(), time.perf_counter()
        timeline = detect_hud_timeline(clip)
        detect_wall, detect_cpu = time.perf_counter() - started, time.process_time() - cpu0
        result = score(truth, timeline)
        print(f"\n{clip.name} ({truth.size[0]}x{truth.size[1]}, {truth.frames} frames)")
        for name, recall in result["recall"].items():
            print(f"  recall {name:<16} {recall:6.3f}  {'ok' if recall >= 0.5 else 'MISSED (< 0.5)'}")
        precision = result["precision"]
        print(f"  precision             {precision:6.3f}  {'ok' if precision >= 0.95 else 'BELOW 0.95'}")
        print(f"  precision, 1 px void  {result['precision_void']:6.3f}  (not the target: a {FP_RINGS[0]} px band outside "
              "each label not counted)")
        rim, wider = result["false_near"]
        print(f"  false positives       {rim:6.3f} within {FP_RINGS[0]} px of a labelled element, "
              f"{wider - rim:.3f} at {FP_RINGS[0]}-{FP_RINGS[1]} px, {1 - wider:.3f} farther")
        print(f"  avatar covered        {result['avatar']:6.3f}  {'ok' if result['avatar'] <= 0.02 else 'ABOVE 0.02'}")
        print(f"  detection             {detect_wall:6.2f} s wall, {detect_cpu:.2f} s CPU")
        if not args.no_render:
            wall, cpu = render_seconds(clip)
            print(f"  render                {wall:6.2f} s wall, {cpu:.2f} s CPU ({DEFAULT_ARCH}, untrained, CPU)")
            for what, ratio in (("wall", detect_wall / wall), ("CPU", detect_cpu / cpu)):
                print(f"  detection / render    {ratio:6.3f}  ({what})  {'ok' if ratio <= 0.2 else 'ABOVE 0.2'}")
        if args.fp:
            show_false(clip, truth, result["false_map"], Path(f"hud_{clip.stem}_false.png"))
        if args.show is not None:
            show(clip, truth, timeline, args.show, Path(f"hud_{clip.stem}_{args.show:06d}.png"))


if __name__ == "__main__":
    main()
