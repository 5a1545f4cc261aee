"""Frame-to-previous-frame motion, estimated in order while a video streams.

Both run-time temporal stages use it: the renderer's ``--stabilize`` blend and a
model's learned temporal fusion (:class:`vidstyle.models.TemporalFusion`), which
is trained on motion from this same estimator so training and rendering agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ._dis import DisFlow, FlowPreset, to_gray
from ._occlusion import validity_mask


@dataclass
class Motion:
    """How frame t maps onto frame t-1: ``flow`` (H, W, 2) float32 with
    frame_t(x) ~ frame_{t-1}(x + flow(x)), ``valid`` (H, W) float32 in {0, 1}."""

    flow: np.ndarray
    valid: np.ndarray


class MotionEstimator:
    """Sequential source-frame motion; call once per frame, in order.

    DIS runs on greyscale at most ``max_width`` pixels wide; the flow is scaled
    to ``size`` (W, H) when given, else to the frame's own size. Returns None
    for the first frame (nothing to relate it to) and after a size change.
    """

    def __init__(self, preset: FlowPreset | str = FlowPreset.ULTRAFAST, max_width: int = 640,
                 size: tuple[int, int] | None = None) -> None:
        self.preset = FlowPreset.parse(preset)
        self.max_width = max_width
        self.size = size
        self._flow = DisFlow(self.preset)
        self._previous: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> Motion | None:
        width, height = self.size or (rgb.shape[1], rgb.shape[0])
        gray = to_gray(rgb)
        work_width = min(width, self.max_width)
        if gray.shape[1] != work_width:
            work = (work_width, max(2, round(height * work_width / width)))
            shrink = work[0] * work[1] < gray.shape[0] * gray.shape[1]
            gray = cv2.resize(gray, work, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        previous, self._previous = self._previous, gray
        if previous is None or previous.shape != gray.shape:
            return None
        to_previous = self._flow(gray, previous)
        from_previous = self._flow(previous, gray)
        valid = validity_mask(to_previous, from_previous).astype(np.float32)
        if gray.shape[1] != width:
            scale_x, scale_y = width / gray.shape[1], height / gray.shape[0]
            to_previous = cv2.resize(to_previous, (width, height), interpolation=cv2.INTER_LINEAR)
            to_previous[..., 0] *= scale_x
            to_previous[..., 1] *= scale_y
            valid = cv2.resize(valid, (width, height), interpolation=cv2.INTER_NEAREST)
        return Motion(flow=to_previous, valid=valid)
