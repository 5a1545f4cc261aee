"""One frame of the temporal bilateral filter: follow every pixel's flow trajectory.

The arithmetic reproduces the plain numpy formulation bit for bit (same float32
products and sums in the same order); it only does less of it: trajectories that
ended are no longer followed, one 2-channel position map feeds every
``cv2.remap`` (two separate maps cost 3x), masks are uint8, and the colour
distance comes from a squares table (exact: the squared differences of 8-bit
values are integers well inside float32).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..flow import validity_mask

_SQUARES = np.arange(256, dtype=np.float32) ** 2
_SUM_CHANNELS = np.ones((1, 3), np.float64)  # cv2.transform matrix: c0 + c1 + c2
_ROW = 1024


@dataclass(frozen=True)
class Link:
    """Flows and step validity between window frames t and t+1."""

    forward: np.ndarray      # t -> t+1, on frame t
    backward: np.ndarray     # t+1 -> t, on frame t+1
    forward_ok: np.ndarray   # (H, W) uint8 1/0 on frame t
    backward_ok: np.ndarray  # on frame t+1


def make_link(forward: np.ndarray, backward: np.ndarray) -> Link:
    """A link with Lai et al.'s occlusion test (targets leaving the frame excluded)."""
    return Link(forward, backward,
                validity_mask(forward, backward, exclude_outside=True).view(np.uint8),
                validity_mask(backward, forward, exclude_outside=True).view(np.uint8))


@functools.lru_cache(maxsize=8)
def _identity(height: int, width: int) -> np.ndarray:
    grid = np.empty((height, width, 2), np.float32)
    grid[..., 0] = np.arange(width, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(height, dtype=np.float32)[:, None]
    grid.flags.writeable = False
    return grid


def filter_frame(images: Sequence[np.ndarray], links: Sequence[Link], centre: int, *, radius: int,
                 sigma_t: float, sigma_c: float) -> np.ndarray:
    """The filtered (H, W, 3) uint8 image of ``images[centre]``.

    ``links[i]`` joins ``images[i]`` and ``images[i + 1]``. Each pixel's trajectory
    is followed up to ``radius`` steps each way and stops at the first step that
    fails its link's validity mask or leaves the frame; colours met are averaged
    with weights exp(-k^2 / (2 sigma_t^2) - |c_k - c_0|^2 / (2 sigma_c^2)).
    """
    image0 = images[centre]
    height, width = image0.shape[:2]
    total = image0.astype(np.float32)
    weight_sum = np.ones((height, width), np.float32)
    inv_t = 1.0 / (2.0 * sigma_t ** 2)
    minus_inv_c = np.float32(-1.0 / (2.0 * sigma_c ** 2))
    bounds = ((0.0, 0.0), (float(width - 1), float(height - 1)))
    for direction in (1, -1):
        tracks = _Tracks(image0, total, weight_sum)
        for k in range(1, radius + 1):
            target = centre + direction * k
            if not 0 <= target < len(images):
                break
            link = links[target - 1] if direction == 1 else links[target]
            flow, step_ok = (link.forward, link.forward_ok) if direction == 1 else (link.backward,
                                                                                     link.backward_ok)
            if not tracks.keep(tracks.sample(step_ok, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)):
                break
            tracks.position += tracks.sample(flow, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
            if not tracks.keep(cv2.inRange(tracks.position, *bounds) & 1):
                break  # (no weight left to add: the original went on adding zeros)
            colour = tracks.sample(images[target], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
            # weight = alive * exp(-k^2 inv_t - distance inv_c), in float32 as numpy would.
            weight = cv2.transform(cv2.LUT(cv2.absdiff(colour, tracks.colour0), _SQUARES), _SUM_CHANNELS)
            weight *= minus_inv_c
            weight += np.float32(-(k * k) * inv_t)
            np.exp(weight, out=weight)
            if tracks.alive is not None:
                weight *= tracks.alive
            contribution = colour.astype(np.float32)
            cv2.multiply(contribution, cv2.merge((weight, weight, weight)), dst=contribution)
            tracks.total += contribution
            tracks.weight_sum += weight
        tracks.flush()
    return np.clip(np.rint(total / weight_sum[..., None]), 0, 255).astype(np.uint8)


class _Tracks:
    """The live trajectories of one direction, as (n, 1) columns. A third of the
    pixels are still followed after a few frames of fast footage, so dead ones are
    dropped (and their sums written back) whenever a quarter of the rest has died;
    until then they stay, with weight 0 (``alive``). Dropping or keeping a dead
    pixel gives the same sums: it never gains weight again.
    """

    def __init__(self, image0: np.ndarray, total: np.ndarray, weight_sum: np.ndarray) -> None:
        height, width = image0.shape[:2]
        count = height * width
        self._total_out = total.reshape(count, 1, 3)
        self._weight_out = weight_sum.reshape(count, 1)
        self.index: np.ndarray | None = None  # pixel of each row; None: all, in order (views)
        # The positions as cv2.remap takes them (at most 32767 rows): first the image
        # grid, after a drop rows of _ROW; `position` is its first n entries.
        self._grid = _identity(height, width).copy()
        self.position = self._grid.reshape(count, 1, 2)
        self.colour0 = image0.reshape(count, 1, 3)
        self.total = self._total_out
        self.weight_sum = self._weight_out
        self.alive: np.ndarray | None = None  # (n, 1) uint8 1/0; None: all alive

    def sample(self, image: np.ndarray, interpolation: int, border: int) -> np.ndarray:
        """``image`` at the trajectories' positions: (n, 1) or (n, 1, C)."""
        values = cv2.remap(image, self._grid, None, interpolation, borderMode=border)
        rows, cols = self._grid.shape[:2]
        return values.reshape(rows * cols, 1, *values.shape[2:])[:len(self.position)]

    def keep(self, ok: np.ndarray) -> int:
        """End the trajectories where ``ok`` (n, 1) uint8 is 0; returns how many live."""
        alive = ok if self.alive is None else cv2.bitwise_and(self.alive, ok)
        live = cv2.countNonZero(alive)
        if live < 0.75 * len(alive):
            self._drop(alive.ravel() == 0)
        else:
            self.alive = None if live == len(alive) else alive
        return live

    def _drop(self, dead: np.ndarray) -> None:
        index = np.arange(len(dead)) if self.index is None else self.index
        if self.index is not None:  # rows are copies: write the finished sums back
            self._total_out[index[dead]] = self.total[dead]
            self._weight_out[index[dead]] = self.weight_sum[dead]
        live = ~dead
        self.index = index[live]
        count = len(self.index)
        grid = np.zeros((max(1, -(-count // _ROW)), _ROW, 2), np.float32)
        position = grid.reshape(-1, 1, 2)[:count]
        position[:] = self.position[live]
        self._grid, self.position = grid, position
        self.colour0 = self.colour0[live]
        self.total, self.weight_sum = self.total[live], self.weight_sum[live]
        self.alive = None

    def flush(self) -> None:
        """Write the sums of the trajectories still followed back to the images."""
        if self.index is not None:
            self._total_out[self.index] = self.total
            self._weight_out[self.index] = self.weight_sum
