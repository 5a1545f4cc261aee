"""Validity (occlusion) masks from forward and backward flow, after Lai et al. 2018."""

from __future__ import annotations

import numpy as np

from ._warp import sampling_grid, warp_numpy


def _gradient_energy(flow: np.ndarray) -> np.ndarray:
    """u_x^2 + u_y^2 + v_x^2 + v_y^2 with one-sided (forward) differences."""
    dx = np.zeros_like(flow)
    dy = np.zeros_like(flow)
    dx[:, :-1] = flow[:, 1:] - flow[:, :-1]
    dy[:-1, :] = flow[1:, :] - flow[:-1, :]
    return (dx ** 2).sum(axis=-1) + (dy ** 2).sum(axis=-1)


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
    if forward.shape != backward.shape or forward.ndim != 3 or forward.shape[2] != 2:
        raise ValueError(f"flows must both be (H, W, 2), got {forward.shape} and {backward.shape}")
    forward = forward.astype(np.float32, copy=False)
    back_warped = warp_numpy(backward.astype(np.float32, copy=False), forward)
    fb_sum = ((forward + back_warped) ** 2).sum(axis=-1)
    magnitudes = (forward ** 2).sum(axis=-1) + (back_warped ** 2).sum(axis=-1)
    occluded = fb_sum > 0.01 * magnitudes + 0.5
    occluded |= _gradient_energy(forward) > 0.01 * (forward ** 2).sum(axis=-1) + 0.002
    if exclude_outside:
        height, width = forward.shape[:2]
        map_x, map_y = sampling_grid(forward)
        occluded |= (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    return ~occluded
