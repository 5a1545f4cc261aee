"""Validity (occlusion) masks from forward and backward flow, after Lai et al. 2018."""

from __future__ import annotations

import cv2
import numpy as np

from .._shapes import check_shape
from ._warp import sampling_grid, warp_numpy


def _gradient_energy(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """u_x^2 + u_y^2 + v_x^2 + v_y^2 with one-sided (forward) differences, 0 past the last row/column."""
    energy = np.zeros(u.shape, np.float32)
    for plane in (u, v):
        dx = plane[:, 1:] - plane[:, :-1]
        dy = plane[1:, :] - plane[:-1, :]
        energy[:, :-1] += dx * dx
        energy[:-1, :] += dy * dy
    return energy


def validity_mask(forward: np.ndarray, backward: np.ndarray, *, exclude_outside: bool = False) -> np.ndarray:
    """Pixels of frame t whose motion to t+1 is trustworthy: (H, W) bool, True = valid.

    Lai et al.'s test exactly: with B~(x) = backward(x + forward(x)), x is
    occluded if |F + B~|^2 > 0.01 (|F|^2 + |B~|^2) + 0.5, or at a motion
    boundary where |grad F|^2 > 0.01 |F|^2 + 0.002. ``exclude_outside`` also
    rejects pixels whose forward target leaves the frame (Ruder et al.'s variant).

    Args:
        forward: (H, W, 2) flow from frame t to t+1.
        backward: (H, W, 2) flow from frame t+1 to t.
    """
    check_shape(backward, "H, W, 2", "backward flow", **check_shape(forward, "H, W, 2", "forward flow"))
    forward = np.ascontiguousarray(forward, dtype=np.float32)
    back_warped = warp_numpy(np.ascontiguousarray(backward, dtype=np.float32), forward)
    u, v = cv2.split(forward)  # contiguous planes: much faster than reducing over a last axis of 2
    bu, bv = cv2.split(back_warped)
    forward_sq = u * u + v * v
    sum_u, sum_v = u + bu, v + bv
    occluded = sum_u * sum_u + sum_v * sum_v > 0.01 * (forward_sq + bu * bu + bv * bv) + 0.5
    occluded |= _gradient_energy(u, v) > 0.01 * forward_sq + 0.002
    if exclude_outside:
        height, width = forward.shape[:2]
        map_x, map_y = sampling_grid(forward)
        occluded |= (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    return ~occluded
