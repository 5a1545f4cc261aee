"""One window of HUD detection: the scores of its sampled frames and the mask they give.

:func:`window_scores` turns a window's frames into per-pixel evidence (how often each
pixel stays at the window's median colour, how often its edge is there, ...);
:func:`window_mask` turns that evidence into overlay regions: candidates closed, rims
trimmed where they changed like the scene, holes filled, specks, scenery lines and
regions away from the screen margins dropped. The clip-level driver that cuts a clip
into windows and compares them with each other is :mod:`vidstyle.masks._hud`.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from ._ops import clean_mask

# A hole is filled when HOLE_FILL_FRACTION of its pixels stayed within half the colour tolerance
# in HOLE_STEADY of the frames. Measured on the Hacienda clip (1 s window): flat icon interiors
# 0.87-1.0 of the frames, the road seen through the gauge and the minimap's loop 0.36-0.48.
HOLE_STEADY = 0.75
HOLE_FILL_FRACTION = 0.6
TEXT_HEIGHT = 0.05  # a text line's glyphs: timer 4 %, credit lines 3 % of the frame's height
TEXT_GAP = 0.02  # widest gap between glyphs closed, of the frame's height
SMALL_ELEMENT = 0.005  # bounding box, of the frame: icons 0.2-0.4 %, the music note 0.5 %
# A rim pixel that changed no more than the mean of its DAMPED_BOX x DAMPED_BOX neighbourhood
# counts as damped (the overlay's side of a translucent overlay's edge): 7 px holds a thin
# outline and the scene on both sides of it. The scene beyond a rim is read 2..RIM_RING px
# out, past the 1-2 px the edge test and the closing take in (docs/BENCHMARKS.md, HUD section).
DAMPED_BOX = 7
RIM_RING = 3
# A scenery line (docs/BENCHMARKS.md, HUD section, third pass): Snow Mountain's kerb while
# driving straight measured 127-223 px long at 640 px, 18-41x its thickness, 9 degrees from level.
LINE_LENGTH = 0.1
LINE_ELONGATION = 12.0
LINE_SPREAD = 2.0
LINE_AXIS_DEGREES = 3.0
HOLE_SMALL = 0.001  # of the frame: a gauge's segment is 0.05-0.08 %, a minimap's small loop 0.28 %


def worst_channel(change: np.ndarray) -> np.ndarray:
    """(H, W) largest of the three channels of (H, W, 3) ``change`` (OpenCV: 4x numpy's max)."""
    return cv2.max(cv2.max(change[..., 0], change[..., 1]), change[..., 2])


def _luma_gradient(rgb: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luma, in levels per pixel."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 4.0
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 4.0
    return cv2.magnitude(gx, gy)


def _median(frames: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median of (H, W, 3) uint8 frames, exactly as ``np.median(np.stack(frames),
    axis=0).astype(np.uint8)`` gives it (an even count: the two middles' mean, rounded down).

    The frames are sorted pixel by pixel with a sorting network of OpenCV min/max
    (odd-even transposition: n rounds sort n values). 10 frames of 640x480: 4 ms,
    against 112 ms for np.median and 100 ms for np.partition, whose per-pixel
    selection along the stacked axis dominated detection (1.9 s of 5.3 s on Hacienda)."""
    ordered = list(frames)
    for round_ in range(len(ordered)):
        for j in range(round_ % 2, len(ordered) - 1, 2):
            low, high = ordered[j], ordered[j + 1]
            ordered[j], ordered[j + 1] = cv2.min(low, high), cv2.max(low, high)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return ((ordered[middle - 1].astype(np.uint16) + ordered[middle]) >> 1).astype(np.uint8)


def window_scores(frames: list[np.ndarray], tolerance: float, edge: float) -> tuple[Any, ...]:
    """(agreement, edge persistence, median's gradient, agreement at half the tolerance,
    mean luma change from the median, median, scene motion) of one window. Per-frame work
    is done with OpenCV (numpy reductions over the colour axis cost 4x as much)."""
    median = _median(frames)
    height, width = median.shape[:2]
    agree = np.zeros((height, width), np.uint16)
    steady = np.zeros((height, width), np.uint16)
    edges = np.zeros((height, width), np.uint16)
    deviation = np.zeros((height, width), np.float32)
    median_luma = cv2.cvtColor(median, cv2.COLOR_RGB2GRAY)
    motion, previous = 0.0, None
    for rgb in frames:
        worst = worst_channel(cv2.absdiff(rgb, median))
        agree += worst <= tolerance
        steady += worst <= tolerance / 2
        edges += _luma_gradient(rgb) >= edge
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        deviation += cv2.absdiff(gray, median_luma)
        if previous is not None:
            motion += cv2.mean(cv2.absdiff(gray, previous))[0] / (len(frames) - 1)
        previous = gray
    count = np.float32(len(frames))
    return (agree / count, edges / count, _luma_gradient(median), steady / count, deviation / count, median,
            motion)


def window_mask(agreement: np.ndarray, persistence: np.ndarray, gradient: np.ndarray, steady: np.ndarray,
                 deviation: np.ndarray, median: np.ndarray, *, min_agreement: float, min_persistence: float,
                 edge_threshold: float, color_tolerance: float, margin: float) -> np.ndarray:
    """One window's HUD: sharp median edges that kept their colour or persisted, closed,
    trimmed, steady holes filled, specks and regions away from the screen margins dropped."""
    height, width = agreement.shape
    sharp = gradient >= edge_threshold
    near_sharp = cv2.dilate(sharp.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    raw = near_sharp & ((agreement >= min_agreement) | (persistence >= min_persistence))
    area = max(12, int(0.0002 * height * width))
    mask = clean_mask(raw, open_radius=0, close_radius=2, fill_holes=False, min_area=area)
    # The scene pixel next to an overlay's edge also has an edge in every frame (the 3x3
    # gradient straddles both): trim the rim where the colour did not stay put, unless it
    # changed no more than its neighbourhood (a translucent overlay damps the scene's
    # change; its thin outlines are all rim), then where it looks like the scene beyond.
    steady = steady >= HOLE_STEADY
    rim = mask & ~(cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    damped = deviation <= cv2.blur(deviation, (DAMPED_BOX, DAMPED_BOX))
    mask &= ~(rim & ~steady & ~damped)
    mask = _peel_scene_rim(mask, median, 2 * color_tolerance)
    mask = _fill_steady_holes(mask, steady, int(HOLE_SMALL * height * width))
    mask |= _text_lines(mask, height)
    mask |= _flat_interiors(mask, steady, int(SMALL_ELEMENT * height * width))
    return _drop_scenery_lines(_at_margins(mask, margin))


def _drop_scenery_lines(mask: np.ndarray) -> np.ndarray:
    """Drop regions that are one long, thin, straight, oblique band.

    A straight edge shows stillness only across itself: scenery sliding along it (a road's
    edge or kerb while driving straight) keeps the same colours at the same pixels, so no
    temporal test can tell it from an overlay (aperture problem). From a chase camera such
    lines run towards the vanishing point, so they are oblique; an overlay's long straight
    parts (bars, panels, text lines) are drawn level or upright, and its oblique strokes are
    short or curved (gauge arcs, minimap tracks). A region is a band when its principal
    axes give length >= LINE_LENGTH of the frame's width, length / mean thickness
    >= LINE_ELONGATION and a spread across the axis <= LINE_SPREAD x that thickness
    (straight, not an arc), at more than LINE_AXIS_DEGREES from level and upright."""
    height, width = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    drop = np.zeros(count, dtype=bool)
    for label in np.flatnonzero(longest >= LINE_LENGTH * width):
        if label == 0:
            continue
        ys, xs = np.nonzero(labels == label)
        spreads, axes = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(np.float64)))
        length = np.sqrt(12 * spreads[1])  # a uniform band's extent along its axis
        thickness = len(xs) / max(length, 1.0)
        across = np.sqrt(12 * max(spreads[0], 0.0))
        angle = np.degrees(np.arctan2(abs(axes[1, 1]), abs(axes[0, 1])))
        drop[label] = (length >= LINE_LENGTH * width and length >= LINE_ELONGATION * thickness
                       and across <= LINE_SPREAD * thickness and LINE_AXIS_DEGREES < angle < 90 - LINE_AXIS_DEGREES)
    return mask & ~drop[labels]


def _peel_scene_rim(mask: np.ndarray, median: np.ndarray, tolerance: float) -> np.ndarray:
    """Drop rim pixels whose median colour matches the scene just outside the region.

    The edge test and the closing take in the scene pixel on the far side of an overlay's
    edge. Such a pixel looks like the scene beyond it; an overlay's own pixels (its
    outline, its tint) do not. A rim pixel is dropped when every channel is within
    ``tolerance`` of the mean of the pixels 2..RIM_RING px outside the region around it
    and nearer that than to the mean of the region's interior around it."""
    kernel = np.ones((3, 3), np.uint8)
    box = (2 * RIM_RING + 1,) * 2
    colour = median.astype(np.float32)

    def local_mean(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = cv2.boxFilter(where.astype(np.float32), -1, box, normalize=False)
        total = cv2.boxFilter(colour * where[..., None], -1, box, normalize=False)
        return total / np.maximum(weight, 1)[..., None], weight > 0

    grown = mask.astype(np.uint8)
    inner = cv2.erode(grown, kernel) > 0
    ring = (cv2.dilate(grown, np.ones(box, np.uint8)) > 0) & ~(cv2.dilate(grown, kernel) > 0)
    outside, has_outside = local_mean(ring)
    inside, has_inside = local_mean(inner)
    to_outside = worst_channel(cv2.absdiff(colour, outside))
    like_scene = (to_outside <= tolerance) & (to_outside < worst_channel(cv2.absdiff(colour, inside)))
    return mask & ~(~inner & has_outside & has_inside & like_scene)


def _flat_interiors(mask: np.ndarray, steady: np.ndarray, largest: int) -> np.ndarray:
    """Steady pixels inside the bounding box of each small region: flat-coloured parts of
    icons whose outline does not close (a music note), which have no edge of their own."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = np.zeros_like(mask)
    for x, y, w, h, _ in stats[1:][stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT] <= largest]:
        out[y:y + h, x:x + w] |= steady[y:y + h, x:x + w]
    return out


def _text_lines(mask: np.ndarray, height: int) -> np.ndarray:
    """Boxes of text lines: regions no taller than TEXT_HEIGHT of the frame, closed along
    the line (the gaps between glyphs); a result at least twice as wide as tall is a line
    of text and is marked as its bounding box (glyph tops and gaps included)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    low = np.zeros(count, dtype=bool)
    low[1:] = stats[1:, cv2.CC_STAT_HEIGHT] <= TEXT_HEIGHT * height
    glyphs = low[labels].astype(np.uint8)
    gap = max(3, int(round(TEXT_GAP * height)))
    joined = cv2.morphologyEx(glyphs, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
    joined = cv2.morphologyEx(joined, cv2.MORPH_CLOSE, np.ones((3, 1), np.uint8))
    out = _fill_holes(joined)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    for x, y, w, h, _ in stats[1:]:
        if w >= 2 * h and h <= TEXT_HEIGHT * height:
            out[y:y + h, x:x + w] = True
    return out


def _at_margins(mask: np.ndarray, margin: float) -> np.ndarray:
    """Drop regions with no pixel within ``margin`` of the frame's width/height from an edge."""
    height, width = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    mx, my = margin * width, margin * height
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[:, cv2.CC_STAT_WIDTH], y0 + stats[:, cv2.CC_STAT_HEIGHT]
    keep = (x0 < mx) | (y0 < my) | (x1 > width - mx) | (y1 > height - my)
    keep[0] = False
    return keep[labels]


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: ``mask`` with its holes filled, as ``ndimage.binary_fill_holes`` gives it
    (what is not reached from outside the frame through 4-connected background is filled),
    by an OpenCV flood fill: 0.7 ms against 7.1 ms for ndimage at 640x480."""
    padded = np.pad(mask.astype(np.uint8), 1)  # the flood starts outside the frame
    cv2.floodFill(padded, None, (0, 0), 2, flags=4)
    return padded[1:-1, 1:-1] != 2


def _fill_steady_holes(mask: np.ndarray, steady: np.ndarray, small: int) -> np.ndarray:
    """Fill enclosed regions up to ``small`` pixels (translucent gauge segments) or that
    kept their colour (flat icon interiors), not larger ones the moving scene shows
    through (a gauge's centre, a minimap's loops)."""
    holes = _fill_holes(mask) & ~mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    if count <= 1:
        return mask
    fraction = np.asarray(ndimage.mean(steady, labels, np.arange(count)))
    fill = (fraction >= HOLE_FILL_FRACTION) | (stats[:, cv2.CC_STAT_AREA] <= small)
    fill[0] = False
    return mask | fill[labels]
