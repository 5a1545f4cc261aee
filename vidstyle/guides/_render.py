"""Drawing guide frames: coloured Gaussian blobs, alpha-composited in a fixed order."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Iterable, Iterator

import cv2
import numpy as np

from .._cpu import in_order
from ..flow import default_workers
from ._points import PointSet, point_colours

# A blob is cut where its alpha falls below 1/510: no 8-bit output can show it
# (Texler's tool cuts at 3 sigma; this is 2.5 sigma, 30% less work).
_ALPHA_FLOOR = 1.0 / 510.0


def blob_reach(sigma: float) -> int:
    """Half-width (px) of the square a blob of ``sigma`` is drawn in."""
    return int(math.ceil(sigma * math.sqrt(math.log(1.0 / _ALPHA_FLOOR))))


def render_scale(sigma: float) -> int:
    """Blobs this wide are drawn on a grid ``render_scale`` times coarser and upsampled
    (cubic); a grid step of at most sigma / 4 keeps the error below one 8-bit level."""
    return max(1, int(sigma // 4))


def render_guide(width: int, height: int, point_sets: list[PointSet], *, sigma: float,
                 seed: int) -> np.ndarray:
    """Draw one guide frame: (H, W, 3) uint8.

    Starting from black, every point is alpha-blended over what is below it with
    alpha = exp(-|x - p|^2 / sigma^2) and its fixed colour. ``point_sets`` are
    drawn first to last (painter's order: the last lies on top); within a set,
    points go in passes of blobs that did not overlap when the points were placed,
    each pass one vectorised gather-blend-scatter over the blobs' squares.
    """
    scale = render_scale(sigma)
    low_w, low_h = -(-width // scale), -(-height // scale)
    low_sigma = sigma / scale
    reach = int(math.ceil(blob_reach(sigma) / scale))
    side = 2 * reach + 1
    pad = 2 * reach + 1  # a blob centred up to `reach` outside the frame still fits the canvas
    out = np.zeros((low_h + 2 * pad, low_w + 2 * pad, 3), np.float32)
    # Every blob's square as a view into the canvas, indexed by its top-left pixel:
    # gathering and scattering whole rows of side x 3 floats is much cheaper than
    # indexing pixel by pixel.
    rows, cols = out.strides[:2]
    squares = np.lib.stride_tricks.as_strided(
        out, shape=(out.shape[0] - side + 1, out.shape[1] - side + 1, side, side * 3),
        strides=(rows, cols, rows, out.strides[2]))
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    inv = np.float32(1.0 / (low_sigma * low_sigma))
    for points in point_sets:
        if not len(points.positions):
            continue
        colours = point_colours(seed, points.key, points.ids)
        # Pixel-centre-preserving map to the coarse grid (as cv2.resize upsamples).
        low = (points.positions + 0.5) / scale - 0.5
        low[:, 0] = np.clip(low[:, 0], -reach, low_w + reach - 1)
        low[:, 1] = np.clip(low[:, 1], -reach, low_h + reach - 1)
        base = np.floor(low)
        frac = (low - base).astype(np.float32)
        gx = np.exp(-((offsets[None, :] - frac[:, 0:1]) ** 2) * inv)  # (n, side)
        gy = np.exp(-((offsets[None, :] - frac[:, 1:2]) ** 2) * inv)
        # Square rows are side x 3 interleaved floats; repeating the x profile and the
        # colour per channel keeps every operand below contiguous (numpy is several
        # times slower broadcasting over a last axis of 3).
        gx3 = np.repeat(gx, 3, axis=1)
        colour_rows = np.tile(colours, side)
        top = base[:, 1].astype(np.intp) + pad - reach
        left = base[:, 0].astype(np.intp) + pad - reach
        order = np.lexsort((points.ids, points.layers))
        layers = points.layers[order]
        for group in np.split(order, np.flatnonzero(np.diff(layers)) + 1):
            # Blobs of one pass do not overlap: gather, blend and scatter them at once.
            below = squares[top[group], left[group]]  # (n, side, side * 3), a copy
            change = colour_rows[group][:, None, :] - below
            change *= gy[group][:, :, None] * gx3[group][:, None, :]  # alpha
            below += change
            squares[top[group], left[group]] = below
    image = out[pad:pad + low_h, pad:pad + low_w]
    if scale > 1:
        image = cv2.resize(image, (low_w * scale, low_h * scale), interpolation=cv2.INTER_CUBIC)
        image = image[:height, :width]
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def render_stream(frames: Iterable[tuple[int, list[PointSet]]], width: int, height: int, *, sigma: float,
                  seed: int, workers: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`render_guide` over a stream of (index, point sets), in order.

    Frames are drawn by ``workers`` threads (default one per core; numpy releases
    the GIL in the blending) a few frames ahead, while the caller's thread goes on
    advecting points.
    """
    workers = default_workers() if workers is None else workers

    def job(index: int, layers: list[PointSet]) -> tuple[int, np.ndarray]:
        return index, render_guide(width, height, layers, sigma=sigma, seed=seed)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidstyle-guides") as pool:
        yield from in_order(pool, (partial(job, index, layers) for index, layers in frames), ahead=workers)
