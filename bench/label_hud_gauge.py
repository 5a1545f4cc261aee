"""Paint the speed gauge's label for bench/data/hud_truth.json (a labelling aid, not a detector).

The gauge was first labelled as a hand-drawn polygon: a ring with a hole. That polygon takes in
scene which no detector can find: the gap between the gauge's ends, a lobe of road below the
yellow segment, the light separators between segments, a band outside the ring. This aid paints
the gauge's own pixels inside the old polygon (grown 4 px), from the clip's mean and temporal
spread over every second frame:

- a pixel is the gauge where its mean colour is more than ``--tolerance`` levels (largest
  channel) from the scene's (the median mean colour of a ring 5-10 px outside the polygon,
  where the road or snow is), or where it changes 2.5x as much as that ring does (the speed
  fill, which sweeps over the segments);
- a 2x2 opening drops 1 px slivers, and pieces under 30 px are dropped;
- inside the old hole only the digit's box (the label's rect) counts, as for every text.

It writes the mask as a bilevel PNG cropped to its bounding box and prints the ``mask`` shape to
put in the element's span, and with ``--check`` a picture (mean | old label | new label) to check
by eye.

    python3 bench/label_hud_gauge.py ../shared/footage/stk_hacienda_640x480_audio.mp4 \\
        bench/data/hud_gauge_hacienda.png --check gauge.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench_hud import TRUTH, shape_mask  # noqa: E402
from vidstyle.io import read_frames  # noqa: E402


def mean_and_spread(clip: Path) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) mean colour and (H, W) temporal standard deviation (largest channel) over every
    second frame."""
    total = square = None
    count = 0
    for frame in itertools.islice(read_frames(clip), 0, None, 2):
        rgb = frame.rgb.astype(np.float64)
        total = rgb if total is None else total + rgb
        square = rgb * rgb if square is None else square + rgb * rgb
        count += 1
    mean = total / count
    spread = np.sqrt(np.maximum(square / count - mean * mean, 0)).max(axis=2)
    return mean, spread


def paint(mean: np.ndarray, spread: np.ndarray, ring: np.ndarray, hole: tuple[int, int, int],
          digit: np.ndarray, tolerance: float) -> np.ndarray:
    """(H, W) bool: the gauge's pixels within the old polygon ``ring`` (a ring with ``hole``)."""
    grown = cv2.dilate(ring.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    outside = (cv2.dilate(ring.astype(np.uint8), np.ones((21, 21), np.uint8)) > 0) & ~grown
    scene = np.median(mean[outside], axis=0)
    drawn = (np.abs(mean - scene).max(axis=2) > tolerance) | (spread > 2.5 * np.median(spread[outside]))
    inner = np.zeros(ring.shape, np.uint8)
    cx, cy, r = hole
    cv2.circle(inner, (cx, cy), r, 1, -1)
    drawn &= grown & ~(inner > 0)
    drawn = cv2.morphologyEx(drawn.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(drawn, connectivity=8)
    keep = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 30) + 1
    return np.isin(labels, keep) | digit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("out", type=Path, help="the PNG to write (bench/data/hud_gauge_<clip>.png)")
    parser.add_argument("--tolerance", type=float, default=14.0, help="levels from the scene's mean colour")
    parser.add_argument("--check", type=Path, help="write mean | old label | new label here")
    args = parser.parse_args()
    entry = json.loads(TRUTH.read_text())[args.clip.name]
    size = tuple(entry["size"])
    gauge = next(e for e in entry["elements"] if e["name"] == "speed gauge")
    shapes = gauge["spans"][0]["shapes"]
    ring_shape = next(s for s in shapes if "poly" in s)
    digit = np.any([shape_mask(s, size) for s in shapes if "rect" in s], axis=0)
    mean, spread = mean_and_spread(args.clip)
    mask = paint(mean, spread, shape_mask(ring_shape, size), ring_shape["hole"], digit, args.tolerance)
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    cv2.imwrite(str(args.out), (mask[y0:y1, x0:x1] * 255).astype(np.uint8))
    print(json.dumps({"mask": [args.out.name, x0, y0]}), f"# {int(mask.sum())} px")
    if args.check:
        old = np.any([shape_mask(s, size) for s in shapes], axis=0)
        pad = 8
        window = (slice(max(y0 - pad, 0), y1 + pad), slice(max(x0 - pad, 0), x1 + pad))
        crop = mean[window].clip(0, 255).astype(np.uint8)
        panels = [crop]
        for label, colour in ((old, (0, 255, 0)), (mask, (255, 0, 255))):
            tinted = crop.copy()
            inside = label[window]
            tinted[inside] = (0.5 * tinted[inside] + 0.5 * np.array(colour)).astype(np.uint8)
            panels.append(tinted)
        strip = np.concatenate(panels, axis=1)
        scale = max(1, 1500 // strip.shape[1])
        strip = cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(args.check), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
