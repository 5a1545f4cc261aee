"""Carrying a hand-drawn mask of one frame through a clip by optical flow."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import InputError
from ..flow import DEFAULT_FLOW_PRESET, DisFlow, FlowPreset, SpillStack, warp_numpy
from ..io import clip_indices, read_frames
from ..progress import progress
from ._ops import as_bool

_SHARPEN = 1.3  # per-step contrast around 0.5, against the blur that bilinear warping adds
_FILL_RADIUS = 7  # window (px) for the colour-guided fill of occluded pixels
_FLOW_RADIUS = 10  # window (px) over which a label's flow is averaged
_SPECK_AREA = 16  # px: smaller islands of either label are noise
_EDGE_BAND = 3  # px either side of the mask edge where labels may be corrected by motion
_RELABEL_MARGIN = 10.0  # colour error (0-255) by which the other layer's motion must fit better


def propagate_step(mask: np.ndarray, flow_to_target: np.ndarray, source_rgb: np.ndarray,
                   target_rgb: np.ndarray) -> np.ndarray:
    """Move a soft mask from one frame to the next by forward splatting with a z-test.

    Each source pixel is splatted (bilinearly) to where its label's flow takes it,
    so a label moves with its own pixels and flow blurred across an object's edge
    cannot drag the object along. Where both labels land (one layer moves over the
    other) the label whose pixels kept their colour on the way wins: that layer is
    the visible one. Pixels nothing landed on are newly visible, so they take the
    label of the layer that lost those contests (the one behind); without any
    contest to learn from, the label whose nearby mean colour is closer.

    Args:
        mask: (H, W) float32 in [0, 1] on the source frame.
        flow_to_target: (H, W, 2) flow from the source frame to the target frame.
        source_rgb, target_rgb: (H, W, 3) uint8 frames.

    Returns:
        (H, W) float32 soft mask on the target frame.
    """
    fg_flow, bg_flow = _flow_per_label(flow_to_target, mask)
    source = source_rgb.astype(np.int16)

    def colour_error(flow: np.ndarray) -> np.ndarray:
        moved = warp_numpy(target_rgb, flow).astype(np.int16)
        return np.abs(moved - source).max(axis=2).astype(np.float32)

    fg_error_src, bg_error_src = colour_error(fg_flow), colour_error(bg_flow)
    mask = _relabel_edge(mask, fg_error_src, bg_error_src)
    fg_weight, fg_error = _splat(mask, fg_error_src, fg_flow)
    bg_weight, bg_error = _splat(1.0 - mask, bg_error_src, bg_flow)
    total = fg_weight + bg_weight
    result = fg_weight / np.maximum(total, 1e-6)
    contest = (fg_weight >= 0.25) & (bg_weight >= 0.25)
    fg_wins = contest & (fg_error < bg_error)
    bg_wins = contest & (bg_error < fg_error)
    result[fg_wins], result[bg_wins] = 1.0, 0.0
    gap = total < 0.25
    if gap.any():
        if fg_wins.sum() + bg_wins.sum() >= 8:
            result[gap] = 0.0 if fg_wins.sum() >= bg_wins.sum() else 1.0  # the loser is behind
        else:
            result = _colour_fill(result, ~gap, target_rgb)
    return _sharpen(result)


def _relabel_edge(mask: np.ndarray, fg_error: np.ndarray, bg_error: np.ndarray) -> np.ndarray:
    """Near the mask's edge, give a pixel the other label when it clearly moves like
    the other layer (its colour is kept along that layer's flow, not its own).
    This stops small labelling errors from growing into a trail."""
    fg = (mask >= 0.5).astype(np.uint8)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _EDGE_BAND + 1, 2 * _EDGE_BAND + 1))
    band = cv2.dilate(fg, element) > cv2.erode(fg, element)
    to_bg = band & (fg > 0) & (fg_error > bg_error + _RELABEL_MARGIN) & (fg_error > 2 * _RELABEL_MARGIN)
    to_fg = band & (fg == 0) & (bg_error > fg_error + _RELABEL_MARGIN) & (bg_error > 2 * _RELABEL_MARGIN)
    if not (to_bg.any() or to_fg.any()):
        return mask
    out = mask.copy()
    out[to_bg], out[to_fg] = 0.0, 1.0
    return out


def _sharpen(mask: np.ndarray) -> np.ndarray:
    """Hold the soft edge a few pixels wide (warping blurs it) and drop specks and
    pinholes, which would otherwise be carried along and grow."""
    mask = np.clip(0.5 + (mask - 0.5) * _SHARPEN, 0.0, 1.0).astype(np.float32)
    for value, region in ((0.0, mask >= 0.5), (1.0, mask < 0.5)):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8), connectivity=8)
        small = np.zeros(count, dtype=bool)
        small[1:] = stats[1:, cv2.CC_STAT_AREA] < _SPECK_AREA
        if small.any():
            mask[small[labels]] = value
    return mask


def _flow_per_label(flow: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(foreground flow, background flow): ``flow`` averaged around each pixel over
    nearby pixels of one label (firmly inside it, away from the soft edge).

    Flow estimators blur motion across object edges; an edge pixel of a moving
    object gets too little motion and would fall behind a little every frame.
    """
    size = (2 * _FLOW_RADIUS + 1, 2 * _FLOW_RADIUS + 1)
    fg = (mask >= 0.5).astype(np.uint8)
    edge = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    flows = []
    for label in (cv2.erode(fg, edge), cv2.erode(1 - fg, edge)):
        weight = cv2.boxFilter(label.astype(np.float32), -1, size, normalize=False,
                               borderType=cv2.BORDER_REFLECT)
        summed = cv2.boxFilter(flow * label[..., None].astype(np.float32), -1, size, normalize=False,
                               borderType=cv2.BORDER_REFLECT)
        # Far from any pixel of this label, fall back to the raw flow.
        mean = np.where(weight[..., None] > 0.5, summed / np.maximum(weight, 1e-6)[..., None], flow)
        flows.append(mean.astype(np.float32))
    return flows[0], flows[1]


def _splat(weights: np.ndarray, values: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear forward splatting by ``flow``: per target pixel, the sum of
    ``weights`` landing there and the weighted mean of ``values``."""
    height, width = weights.shape
    ys, xs = np.nonzero(weights > 1e-3)
    tx = xs + flow[ys, xs, 0]
    ty = ys + flow[ys, xs, 1]
    x0, y0 = np.floor(tx).astype(np.int64), np.floor(ty).astype(np.int64)
    fx, fy = tx - x0, ty - y0
    w0, v0 = weights[ys, xs], values[ys, xs]
    total = np.zeros(height * width, np.float64)
    summed = np.zeros(height * width, np.float64)
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy),
                      (1, 1, fx * fy)):
        cx, cy = x0 + dx, y0 + dy
        inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
        flat = cy[inside] * width + cx[inside]
        ww = (w * w0)[inside]
        total += np.bincount(flat, weights=ww, minlength=height * width)
        summed += np.bincount(flat, weights=ww * v0[inside], minlength=height * width)
    mean = summed / np.maximum(total, 1e-9)
    return total.reshape(height, width).astype(np.float32), mean.reshape(height, width).astype(np.float32)


def _colour_fill(mask: np.ndarray, valid: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Label invalid pixels by the nearer of the local foreground/background mean colours."""
    size = (2 * _FILL_RADIUS + 1, 2 * _FILL_RADIUS + 1)
    colour = rgb.astype(np.float32)
    weight = valid.astype(np.float32)
    fg = mask * weight
    bg = (1.0 - mask) * weight

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT)

    fg_sum, bg_sum = box(fg), box(bg)
    fg_mean = box(colour * fg[..., None]) / np.maximum(fg_sum, 1e-6)[..., None]
    bg_mean = box(colour * bg[..., None]) / np.maximum(bg_sum, 1e-6)[..., None]
    fg_distance = ((colour - fg_mean) ** 2).sum(axis=2)
    bg_distance = ((colour - bg_mean) ** 2).sum(axis=2)
    has_fg, has_bg = fg_sum > 0.5, bg_sum > 0.5
    label = np.where(has_fg & has_bg, (fg_distance < bg_distance).astype(np.float32),
                     np.where(has_fg, 1.0, np.where(has_bg, 0.0, mask)))
    return np.where(valid, mask, label).astype(np.float32)


def propagate_mask(source: str | Path, mask: np.ndarray, key_index: int, *,
                   size: tuple[int, int] | None = None,
                   preset: FlowPreset | str = DEFAULT_FLOW_PRESET) -> Iterator[tuple[int, np.ndarray]]:
    """Carry the mask drawn on frame ``key_index`` forward and backward through the clip.

    Yields (frame index, (H, W) bool mask) for every frame: first the key and the
    frames after it in order, then the frames before it from the key back to frame
    0 (a backward pass over flows spilled to a temporary folder, so memory stays
    bounded on long clips).

    Raises:
        InputError: ``key_index`` is not a frame of the clip, the mask size differs
            from the frames, or the mask is empty.
    """
    indices = clip_indices(source)
    count = len(indices)
    if key_index not in set(indices):
        raise InputError(f"key frame {key_index} is not in the clip (frames {indices[0]}-{indices[-1]})",
                         source)
    key = as_bool(mask)
    if not key.any():
        raise InputError(f"the mask for frame {key_index} is empty (no white pixels)", source)
    soft_key = cv2.GaussianBlur(key.astype(np.float32), (0, 0), 0.7)
    dis = DisFlow(preset)
    with SpillStack() as spill, progress(count, "propagate") as bar:
        before: list[int] = []
        current = soft_key
        previous = None
        for frame in read_frames(source, size=size):
            if frame.rgb.shape[:2] != key.shape:
                raise InputError(f"mask is {key.shape[1]}x{key.shape[0]} but the frames are "
                                 f"{frame.rgb.shape[1]}x{frame.rgb.shape[0]}", source)
            if frame.index == key_index:
                yield frame.index, key
                bar.update(1)
            elif frame.index < key_index:
                before.append(frame.index)
            if previous is not None and frame.index <= key_index:
                # Needed later, walking back from the key: only the backward flow.
                spill.push(flow=dis(frame.rgb, previous.rgb), rgb=previous.rgb, next_rgb=frame.rgb)
            elif previous is not None:
                current = propagate_step(current, dis(previous.rgb, frame.rgb), previous.rgb, frame.rgb)
                yield frame.index, current >= 0.5
                bar.update(1)
            previous = frame
        current = soft_key
        for item, index in zip(spill.pop_all(), reversed(before)):
            current = propagate_step(current, item["flow"], item["next_rgb"], item["rgb"])
            yield index, current >= 0.5
            bar.update(1)
