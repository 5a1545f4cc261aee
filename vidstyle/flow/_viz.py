"""Flow as colour (the Middlebury colour wheel of Baker et al. 2011): hue is direction, saturation speed."""

from __future__ import annotations

import numpy as np

from .._shapes import check_shape
from ._flo import UNKNOWN_FLOW_THRESHOLD

# Hue segments of the Middlebury wheel: red-yellow, yellow-green, green-cyan,
# cyan-blue, blue-magenta, magenta-red.
_SEGMENTS = (15, 6, 4, 11, 13, 6)


def _colour_wheel() -> np.ndarray:
    """(55, 3) float32 RGB in [0, 255], the standard Middlebury wheel."""
    ry, yg, gc, cb, bm, mr = _SEGMENTS
    ramps = []
    for length, (channel_up, channel_down, fixed) in zip(
            _SEGMENTS, ((1, None, 0), (None, 0, 1), (2, None, 1), (None, 1, 2), (0, None, 2), (None, 2, 0))):
        rows = np.zeros((length, 3), np.float32)
        rows[:, fixed] = 255
        ramp = np.floor(255 * np.arange(length) / length)
        if channel_up is not None:
            rows[:, channel_up] = ramp
        else:
            rows[:, channel_down] = 255 - ramp
        ramps.append(rows)
    return np.concatenate(ramps)


_WHEEL = _colour_wheel()


def flow_to_color(flow: np.ndarray, max_motion: float | None = None) -> np.ndarray:
    """Colour-code an (H, W, 2) flow as an (H, W, 3) uint8 RGB image.

    Args:
        flow: (H, W, 2) flow in pixels; NaN or "unknown" (> 1e9) shows black.
        max_motion: the speed (px) drawn at full saturation; faster motion is
            clipped. None scales by this flow's largest speed, which changes
            from frame to frame; give a fixed value for videos.
    """
    check_shape(flow, "H, W, 2", "flow")
    u = flow[..., 0].astype(np.float32)
    v = flow[..., 1].astype(np.float32)
    unknown = (~np.isfinite(u) | ~np.isfinite(v) | (np.abs(u) > UNKNOWN_FLOW_THRESHOLD)
               | (np.abs(v) > UNKNOWN_FLOW_THRESHOLD))
    u = np.where(unknown, 0, u)
    v = np.where(unknown, 0, v)
    radius = np.sqrt(u * u + v * v)
    scale = float(radius.max()) if max_motion is None else float(max_motion)
    scale = max(scale, 1e-6)
    radius = radius / scale
    u, v = u / scale, v / scale
    count = len(_WHEEL)
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]
    position = (angle + 1) / 2 * (count - 1)
    lower = np.floor(position).astype(np.int32)
    upper = (lower + 1) % count
    weight = (position - lower)[..., None]
    colour = ((1 - weight) * _WHEEL[lower] + weight * _WHEEL[upper]) / 255
    inside = (radius <= 1)[..., None]
    saturated = 1 - np.minimum(radius, 1)[..., None] * (1 - colour)
    colour = np.where(inside, saturated, colour * 0.75)  # beyond max_motion: darker, as in Middlebury
    colour[unknown] = 0
    return np.clip(np.rint(colour * 255), 0, 255).astype(np.uint8)
