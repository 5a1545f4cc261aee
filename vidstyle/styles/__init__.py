"""Reference stylizers: deterministic painterly filters standing in for an artist.

They paint keyframes for demos and benchmarks and give a per-frame ground
truth (the filter applied to every frame) to score a trained model against::

    from vidstyle.styles import ReferenceStyle, stylize
    painted = stylize(rgb, ReferenceStyle.TOON)        # (H, W, 3) uint8 in, same out
    painted = stylize(rgb, "watercolor")
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .._choice import Choice
from ._filters import PICO8_PALETTE, pixel_art, toon, watercolor
from ._paint import paint_frames, paint_video


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
    """Paint one (H, W, 3) uint8 RGB frame with a reference style (deterministic)."""
    return ReferenceStyle.parse(style).filter(rgb)


__all__ = ["PICO8_PALETTE", "ReferenceStyle", "STYLES", "paint_frames", "paint_video", "pixel_art", "stylize",
           "toon", "watercolor"]
