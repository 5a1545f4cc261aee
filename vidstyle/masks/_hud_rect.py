"""Rectangles a user adds to or removes from a detected HUD (``--hud-include``, ``--hud-exclude``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np

from ..errors import UsageError

if TYPE_CHECKING:
    from ._hud import HudTimeline


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in pixels: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: "str | Rect") -> "Rect":
        """``"x,y,w,h"`` (non-negative integers, w and h > 0) -> Rect; UsageError otherwise."""
        if isinstance(text, Rect):
            return text
        match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*", str(text))
        if not match:
            raise UsageError(f"bad rectangle {text!r}: expected x,y,w,h in pixels, e.g. 10,20,120,40")
        rect = cls(*(int(v) for v in match.groups()))
        if rect.w == 0 or rect.h == 0:
            raise UsageError(f"bad rectangle {text!r}: width and height must be at least 1")
        return rect

    def check_inside(self, size: tuple[int, int], what: str = "rectangle") -> None:
        """UsageError unless the rectangle lies within a (width, height) frame."""
        width, height = size
        if self.x + self.w > width or self.y + self.h > height:
            raise UsageError(f"{what} {self} reaches outside the {width}x{height} frame")

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"

    def paint(self, mask: np.ndarray, value: bool) -> None:
        """Set the rectangle's pixels of an (H, W) or (S, H, W) mask to ``value`` in place."""
        mask[..., self.y:self.y + self.h, self.x:self.x + self.w] = value


def apply_rects(timeline: "HudTimeline", *, include: Iterable[Rect | str] = (),
                exclude: Iterable[Rect | str] = ()) -> "HudTimeline":
    """``timeline`` with ``include`` rectangles marked HUD in every frame, then ``exclude``
    rectangles cleared. Rectangles are in the masks' pixels and must lie inside them."""
    include, exclude = [Rect.parse(r) for r in include], [Rect.parse(r) for r in exclude]
    if not include and not exclude:
        return timeline
    size = (timeline.masks.shape[2], timeline.masks.shape[1])
    masks = timeline.masks.copy()
    for rects, value, what in ((include, True, "--hud-include"), (exclude, False, "--hud-exclude")):
        for rect in rects:
            rect.check_inside(size, what)
            rect.paint(masks, value)
    return dataclasses.replace(timeline, masks=masks)
