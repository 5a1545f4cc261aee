"""Dense optical flow with OpenCV's DIS (no downloaded weights)."""

from __future__ import annotations

import cv2
import numpy as np

from .._choice import Choice


class FlowPreset(Choice):
    """DIS presets: ULTRAFAST for guides at speed, MEDIUM (default) for measurement."""

    ULTRAFAST = "ultrafast"
    FAST = "fast"
    MEDIUM = "medium"

    @classmethod
    def label(cls) -> str:
        return "flow preset"

    @property
    def cv_preset(self) -> int:
        return {FlowPreset.ULTRAFAST: cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
                FlowPreset.FAST: cv2.DISOPTICAL_FLOW_PRESET_FAST,
                FlowPreset.MEDIUM: cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[self]


# Measurement (flicker), masks and guides all default to the original tools' setting.
DEFAULT_FLOW_PRESET = FlowPreset.MEDIUM

# OpenCV's DIS refuses frames under 8 px a side (or under 12 px both ways) and crashes the
# process (SIGSEGV) on short wide ones, e.g. 12x40, 20x100, 30x512; no side under 32 px
# crashed in a scan of 900 sizes up to 7680 px, so smaller sides are padded to 32.
MIN_SIDE = 32


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 luma; greyscale input passes through."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


class DisFlow:
    """A reusable DIS estimator (creating one per pair wastes time).

    ``flow = DisFlow(FlowPreset.MEDIUM)(a, b)`` gives an (H, W, 2) float32 array
    F with a(x) ~ b(x + F(x)): the motion from frame ``a`` to frame ``b``.
    """

    def __init__(self, preset: FlowPreset | str = DEFAULT_FLOW_PRESET) -> None:
        self.preset = FlowPreset.parse(preset)
        self._dis = cv2.DISOpticalFlow_create(self.preset.cv_preset)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.shape[:2] != b.shape[:2]:
            raise ValueError(f"frames differ in size: {a.shape} vs {b.shape}")
        height, width = a.shape[:2]
        if height < MIN_SIDE or width < MIN_SIDE:  # pad by repeating the edge, then crop the flow
            pad = ((0, max(0, MIN_SIDE - height)), (0, max(0, MIN_SIDE - width)))
            a, b = (np.pad(to_gray(x), pad, mode="edge") for x in (a, b))
            return np.ascontiguousarray(self._dis.calc(a, b, None)[:height, :width])
        return self._dis.calc(to_gray(a), to_gray(b), None)


def compute_flow(a: np.ndarray, b: np.ndarray, preset: FlowPreset | str = DEFAULT_FLOW_PRESET) -> np.ndarray:
    """Flow from ``a`` to ``b`` (H, W, 2) float32; see :class:`DisFlow` to reuse an estimator."""
    return DisFlow(preset)(a, b)
