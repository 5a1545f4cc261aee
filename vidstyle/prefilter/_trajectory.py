"""One frame of the temporal bilateral filter: follow every pixel's flow trajectory.

The arithmetic reproduces the plain numpy formulation bit for bit (same float32
products and sums in the same order); it only avoids its temporaries: one
(H, W, 2) position map feeds every ``cv2.remap`` (two separate maps cost 3x),
masks are uint8, and the colour distance comes from a squares table (exact: the
squared differences of 8-bit values are integers well inside float32).
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
        position = _identity(height, width).copy()
        alive = np.ones((height, width), np.uint8)
        for k in range(1, radius + 1):
            target = centre + direction * k
            if not 0 <= target < len(images):
                break
            link = links[target - 1] if direction == 1 else links[target]
            flow, step_ok = (link.forward, link.forward_ok) if direction == 1 else (link.backward,
                                                                                     link.backward_ok)
            ok_here = cv2.remap(step_ok, position, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
            cv2.bitwise_and(alive, ok_here, dst=alive)
            if not cv2.countNonZero(alive):
                break
            position += cv2.remap(flow, position, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            cv2.bitwise_and(alive, cv2.inRange(position, *bounds), dst=alive)  # 255 & 1 = 1
            colour = cv2.remap(images[target], position, None, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
            # weight = alive * exp(-k^2 inv_t - distance inv_c), in float32 as numpy would.
            weight = cv2.transform(cv2.LUT(cv2.absdiff(colour, image0), _SQUARES), _SUM_CHANNELS)
            weight *= minus_inv_c
            weight += np.float32(-(k * k) * inv_t)
            np.exp(weight, out=weight)
            weight *= alive
            contribution = colour.astype(np.float32)
            cv2.multiply(contribution, cv2.merge((weight, weight, weight)), dst=contribution)
            total += contribution
            weight_sum += weight
    return np.clip(np.rint(total / weight_sum[..., None]), 0, 255).astype(np.uint8)

