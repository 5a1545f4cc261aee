"""Per-frame stylizers ("painters") standing in for an artist.

They paint keyframes for ``vidstyle train`` and give a per-frame baseline (the
painter applied to every frame) to score a trained model against: deterministic
reference filters (core install), neural styles and style images (the optional
``neural`` extra) and any per-frame model file (vidstyle, fast_neural_style, ONNX)::

    from vidstyle.styles import ReferenceStyle, load_painter, stylize
    painted = stylize(rgb, ReferenceStyle.TOON)        # (H, W, 3) uint8 in, same out
    painted = stylize(rgb, "neural:7")                 # needs pip install "vidstyle[neural]"
    painter = load_painter(painter_spec(model="mosaic.pth"))
    painted = painter(rgb)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .._choice import Choice
from ._filters import PICO8_PALETTE, pixel_art, toon, toon_ink, watercolor
from ._model import INPUT_RANGES, OnnxPainter, TorchModelPainter, load_model_painter
from ._neural import NEURAL_INSTALL, NEURAL_STYLES, NeuralStyle, StyleImage, neural_available
from ._paint import paint_frames, paint_video
from ._painter import (Painter, cached_painter, check_painter_spec, load_painter, painter_label,
                       painter_spec, spec_files)


class ReferenceStyle(Choice):
    """The built-in reference stylizers."""

    TOON = "toon"
    PIXEL_ART = "pixel-art"
    WATERCOLOR = "watercolor"

    @classmethod
    def label(cls) -> str:
        return "style"

    @classmethod
    def aliases(cls) -> dict[str, "ReferenceStyle"]:
        return {"pixel": cls.PIXEL_ART, "pixelart": cls.PIXEL_ART, "watercolour": cls.WATERCOLOR,
                "cartoon": cls.TOON}

    @property
    def filter(self) -> Callable[[np.ndarray], np.ndarray]:
        return STYLES[self.value]


STYLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    ReferenceStyle.TOON.value: toon,
    ReferenceStyle.PIXEL_ART.value: pixel_art,
    ReferenceStyle.WATERCOLOR.value: watercolor,
}


def stylize(rgb: np.ndarray, style: "str | ReferenceStyle" = ReferenceStyle.TOON) -> np.ndarray:
    """Paint one (H, W, 3) uint8 RGB frame with a reference style or any painter spec
    (``neural:7``, ``style-image:PATH``, ``model:PATH``; see :func:`painter_spec`),
    whose painter is loaded once and kept for the next call."""
    if isinstance(style, ReferenceStyle):
        return style.filter(rgb)
    return cached_painter(style)(rgb)


__all__ = ["INPUT_RANGES", "NEURAL_INSTALL", "NEURAL_STYLES", "NeuralStyle", "OnnxPainter", "PICO8_PALETTE",
           "Painter", "ReferenceStyle", "STYLES", "StyleImage", "TorchModelPainter", "cached_painter",
           "check_painter_spec", "load_model_painter", "load_painter", "neural_available", "paint_frames",
           "paint_video", "painter_label", "painter_spec", "pixel_art", "spec_files", "stylize", "toon", "toon_ink",
           "watercolor"]
