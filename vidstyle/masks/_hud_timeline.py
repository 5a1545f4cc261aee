"""Per-frame HUD masks of a clip, and the rectangles a user adds or removes
(``--hud-include``, ``--hud-exclude``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

import cv2
import numpy as np

from ..errors import UsageError


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

    def check_inside(self, size: tuple[int, int], param: str | None = None) -> None:
        """UsageError unless the rectangle lies within a (width, height) frame; the
        message names ``param``, the parameter the rectangle was given as."""
        width, height = size
        if self.x + self.w > width or self.y + self.h > height:
            raise UsageError(f"{param or 'rectangle'} {self} reaches outside the {width}x{height} frame",
                             params=(param,) if param else ())

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


@dataclass(frozen=True)
class HudTimeline:
    """The HUD masks of a clip, one per analysis window.

    Window ``i`` holds for the frames at decode positions ``starts[i]`` up to
    ``starts[i + 1]`` (the last to the end). Masks are kept bit-packed at the size
    they were found at (``shape``, (h, w)) and given out at ``size`` (width, height),
    with ``include`` rectangles set and ``exclude`` rectangles cleared (in that order).
    ``indices`` are the clip's frame indices in decode order (``000120.png`` is 120).
    """

    starts: tuple[int, ...]
    packed: np.ndarray  # (S, ceil(h * w / 8)) uint8
    shape: tuple[int, int]
    size: tuple[int, int]
    indices: tuple[int, ...]
    include: tuple[Rect, ...] = ()
    exclude: tuple[Rect, ...] = ()

    @classmethod
    def from_masks(cls, starts: Iterable[int], masks: Iterable[np.ndarray], *, size: tuple[int, int],
                   indices: Iterable[int]) -> "HudTimeline":
        """Pack (h, w) bool masks, one per window."""
        masks = list(masks)
        packed = np.stack([np.packbits(m.astype(bool), axis=None) for m in masks])
        return cls(tuple(starts), packed, masks[0].shape, tuple(size), tuple(indices))  # type: ignore[arg-type]

    @property
    def frames(self) -> int:
        return len(self.indices)

    def with_rects(self, *, include: Iterable[Rect | str] = (), exclude: Iterable[Rect | str] = ()) -> "HudTimeline":
        """This timeline with more rectangles always (``include``) or never (``exclude``) HUD.
        Rectangles are in pixels of ``size`` and must lie inside it (UsageError otherwise)."""
        more_in, more_out = tuple(Rect.parse(r) for r in include), tuple(Rect.parse(r) for r in exclude)
        for rect in more_in:
            rect.check_inside(self.size, "hud_include")
        for rect in more_out:
            rect.check_inside(self.size, "hud_exclude")
        return dataclasses.replace(self, include=self.include + more_in, exclude=self.exclude + more_out)

    def window(self, position: int) -> int:
        """The window serving the frame at decode ``position``."""
        if not 0 <= position < self.frames:
            raise IndexError(f"frame position {position} outside 0..{self.frames - 1}")
        return int(np.searchsorted(self.starts, position, side="right")) - 1

    def window_of_index(self, index: int) -> int:
        """The window serving frame ``index``, or the nearest frame's (for decoders that
        number frames from timestamps)."""
        return self.window(min(int(np.searchsorted(self.indices, index)), self.frames - 1))

    def window_mask(self, window: int) -> np.ndarray:
        """(H, W) bool mask of window ``window`` at ``size``, rectangles applied."""
        return self._finish(self._unpack(self.packed[window]))

    def at(self, position: int) -> np.ndarray:
        """(H, W) bool HUD mask of the frame at decode ``position`` (0-based)."""
        return self.window_mask(self.window(position))

    def for_index(self, index: int) -> np.ndarray:
        """(H, W) bool HUD mask of frame ``index`` (KeyError if the clip has no such frame)."""
        position = int(np.searchsorted(self.indices, index))
        if position >= self.frames or self.indices[position] != index:
            raise KeyError(f"frame {index} is not in the clip")
        return self.at(position)

    def union(self) -> np.ndarray:
        """(H, W) bool: pixels that are HUD in any window."""
        return self._finish(self._unpack(np.bitwise_or.reduce(self.packed, axis=0)))

    def __iter__(self) -> Iterator[np.ndarray]:
        for position in range(self.frames):
            yield self.at(position)

    def _unpack(self, row: np.ndarray) -> np.ndarray:
        height, width = self.shape
        return np.unpackbits(row, count=height * width).reshape(height, width).astype(bool)

    def _finish(self, mask: np.ndarray) -> np.ndarray:
        if mask.shape[::-1] != self.size:
            mask = cv2.resize(mask.astype(np.uint8), self.size, interpolation=cv2.INTER_NEAREST) > 0
        for rect in self.include:
            mask[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w] = True
        for rect in self.exclude:
            mask[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w] = False
        return mask
