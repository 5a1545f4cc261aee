"""Label sliding HUD icons frame by frame for bench/data/hud_truth.json (a labelling aid, not a detector).

Each icon's sprite is taken from reference frames where the icons stand still while the
scene moves: the window median around the icon's box, keeping the pixels that stayed
within 12 levels in 90 % of those frames (the sprite's opaque pixels; the largest such
region). Every frame is then searched for every sprite by masked template matching
(squared difference over the sprite's pixels) inside ``--region``, and the sprite's box,
1 px larger each way, is the icon's label there. Frames where an icon is not drawn are
given by eye with ``--absent``. Prints the element's "spans" as JSON (one span per run of
frames with the same boxes) and, with ``--check``, writes a strip of every 8th frame with
the boxes drawn, to check by eye.

    python3 bench/label_hud_icons.py ../shared/footage/stk_hacienda_640x480_audio.mp4 --reference 200 239 \\
        --icons 11,30,28,23 12,70,26,23 13,103,25,30 13,142,25,29 10,180,33,28 --region 0,20,120,215 \\
        --absent 3:122-150 --check icons.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from vidstyle.io import open_video  # noqa: E402


def sprites(frames: list[np.ndarray], boxes: list[list[int]]) -> list[tuple[np.ndarray, np.ndarray, list[int]]]:
    """(template, mask of its opaque pixels, box of those pixels within the template) per icon."""
    stack = np.stack(frames).astype(np.int16)
    median = np.median(stack, axis=0)
    steady = (np.abs(stack - median).max(axis=-1) <= 12).mean(axis=0) >= 0.9
    out = []
    for x, y, w, h in boxes:
        pad = 3
        window = (slice(y - pad, y + h + pad), slice(x - pad, x + w + pad))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(steady[window].astype(np.uint8), connectivity=8)
        opaque = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        ys, xs = np.nonzero(opaque)
        box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
        out.append((median[window].astype(np.float32), opaque, box))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--reference", nargs=2, type=int, required=True, metavar=("FIRST", "LAST"))
    parser.add_argument("--icons", nargs="+", required=True, metavar="X,Y,W,H", help="icon boxes in the reference")
    parser.add_argument("--region", required=True, metavar="X,Y,W,H", help="where the icons can be")
    parser.add_argument("--absent", nargs="*", default=[], metavar="K:FIRST-LAST", help="icon K not drawn then")
    parser.add_argument("--check", type=Path, help="write a strip of every 8th frame with the boxes")
    args = parser.parse_args()
    with open_video(args.clip) as reader:
        frames = [f.rgb for f in reader]
    templates = sprites(frames[args.reference[0]:args.reference[1] + 1],
                        [[int(v) for v in b.split(",")] for b in args.icons])
    absent = [(int(k), *map(int, span.split("-"))) for k, span in (a.split(":") for a in args.absent)]
    rx, ry, rw, rh = (int(v) for v in args.region.split(","))
    spans: list[dict] = []
    for t, rgb in enumerate(frames):
        region = rgb[ry:ry + rh, rx:rx + rw].astype(np.float32)
        shapes = []
        for k, (template, opaque, (bx, by, bw, bh)) in enumerate(templates):
            if any(k == i and first <= t <= last for i, first, last in absent):
                continue
            weights = np.repeat(opaque[..., None], 3, axis=2).astype(np.float32)
            found = cv2.matchTemplate(region, template, cv2.TM_SQDIFF, mask=weights)
            _, _, (x, y), _ = cv2.minMaxLoc(found)
            shapes.append({"rect": [rx + x + bx - 1, ry + y + by - 1, bw + 2, bh + 2]})
        if spans and spans[-1]["shapes"] == shapes:
            spans[-1]["frames"][1] = t
        else:
            spans.append({"frames": [t, t], "shapes": shapes})
    print(",\n".join(json.dumps(s) for s in spans))
    if args.check:
        strip = []
        for span in spans:
            for t in range(span["frames"][0], span["frames"][1] + 1):
                if t % 8 == 0:
                    tile = frames[t].copy()
                    for shape in span["shapes"]:
                        x, y, w, h = shape["rect"]
                        cv2.rectangle(tile, (x, y), (x + w - 1, y + h - 1), (255, 0, 255), 1)
                    strip.append(tile[ry:ry + rh, rx:rx + rw])
        cv2.imwrite(str(args.check), cv2.cvtColor(np.concatenate(strip, axis=1), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
