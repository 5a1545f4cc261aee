"""Reference stylizers: deterministic painterly filters standing in for an artist.

They paint keyframes for demos and benchmarks and give a per-frame ground
truth (the filter applied to every frame) to score a trained model against::

    from vidstyle.styles import ReferenceStyle, stylize
    painted = stylize(rgb, ReferenceStyle.TOON)        # (H, W, 3) uint8 in, same out
    painted = stylize(rgb, "watercolor")
"""

from __future__ import annotations

import enum
from typing import Callable

import numpy as np

from ..errors import UsageError
from ._filters import PICO8_PALETTE, pixel_art, toon, watercolor
from ._paint import paint_frames, paint_video


class ReferenceStyle(enum.Enum):
    """The built-in reference stylizers."""

    TOON = "toon"
    PIXEL_ART = "pixel-art"
    WATERCOLOR = "watercolor"

    @classmethod
    def parse(cls, text: "str | ReferenceStyle") -> "ReferenceStyle":
        if isinstance(text, ReferenceStyle):
            return text
        key = text.strip().lower().replace("_", "-")
        aliases = {"pixel": cls.PIXEL_ART, "pixelart": cls.PIXEL_ART, "watercolour": cls.WATERCOLOR,
                   "cartoon": cls.TOON}
        if key in aliases:
            return aliases[key]
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(style.value for style in cls)
            raise UsageError(f"unknown style {text!r} (choose from {names})") from None

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
