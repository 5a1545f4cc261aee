"""``--keep-hud``: put the source's HUD pixels (timers, minimaps) back over the stylized frame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np
import torch

from .._shapes import check_shape
from ..errors import InputError

if TYPE_CHECKING:
    from ..masks import HudTimeline, Rect

AUTO = "auto"


def load_hud_mask(path: str | Path, size: tuple[int, int]) -> np.ndarray:
    """Read a HUD mask image (white = HUD, kept from the source; grey = partly)
    as an (H, W) float32 array in [0, 1], resized to ``size`` (width, height)."""
    from ..masks import read_mask

    mask = read_mask(path)
    if mask.shape[::-1] != tuple(size):
        mask = cv2.resize(mask, tuple(size), interpolation=cv2.INTER_AREA)
    if not mask.any():
        raise InputError("HUD mask is all black: nothing would be kept", path)
    return mask.astype(np.float32) / 255.0


def detect_hud_mask(source: Path, size: tuple[int, int], *, include: Sequence["Rect | str"] = (),
                    exclude: Sequence["Rect | str"] = ()) -> "HudTimeline":
    """The HUD of ``source`` frame by frame, found by :func:`vidstyle.masks.detect_hud_timeline`
    (overlays that keep sharp, unchanged edges over moving scenery), at ``size``."""
    from ..masks import detect_hud_timeline
    from ..progress import info, warn

    info(f"detecting the HUD of {source.name} (keep_hud='auto') ...", params=("keep_hud",))
    timeline = detect_hud_timeline(source, size=tuple(size), include=include, exclude=exclude)
    union = timeline.union()
    if not union.any():
        warn(f"{source}: no HUD found; keep_hud='auto' keeps nothing (give a mask image instead)",
             params=("keep_hud",))
    else:
        info(f"HUD covers up to {union.mean():.1%} of the frame")
    return timeline


def resolve_hud_mask(spec: str | Path | None, source: Path, size: tuple[int, int], *,
                     include: Sequence["Rect | str"] = (),
                     exclude: Sequence["Rect | str"] = ()) -> "np.ndarray | HudTimeline | None":
    """``--keep-hud`` value -> a float mask at ``size``, or per-frame masks for ``auto``
    (None when not asked for). ``include``/``exclude`` rectangles adjust either."""
    if spec is None:
        if include or exclude:
            from ..errors import UsageError

            raise UsageError("hud_include and hud_exclude adjust keep_hud: add keep_hud=auto or a mask",
                             params=("hud_include", "hud_exclude", "keep_hud"))
        return None
    if str(spec).lower() == AUTO:
        return detect_hud_mask(source, size, include=include, exclude=exclude)
    from ..masks import Rect

    mask = load_hud_mask(spec, size)
    for text, value in [(r, 1.0) for r in include] + [(r, 0.0) for r in exclude]:
        rect = Rect.parse(text)
        rect.check_inside(size, "hud_include" if value else "hud_exclude")
        mask[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w] = value
    return mask


class HudMasks:
    """The ``--keep-hud`` masks a renderer composites with: one fixed mask, or a
    :class:`~vidstyle.masks.HudTimeline`'s per-frame masks (each window's uploaded once)."""

    def __init__(self, hud: "np.ndarray | HudTimeline", device: torch.device) -> None:
        self.device = device
        self.timeline = None if isinstance(hud, np.ndarray) else hud
        self.fixed = None
        if self.timeline is None:
            self.fixed = torch.from_numpy(np.ascontiguousarray(hud, dtype=np.float32))[None, None].to(device)
        self._window = -1
        self._tensor: torch.Tensor | None = None

    def for_frames(self, indices: Sequence[int]) -> torch.Tensor:
        """(1 or B, 1, H, W) float mask for the frames ``indices`` (in order)."""
        if self.timeline is None:
            return self.fixed  # type: ignore[return-value]
        return torch.cat([self._mask(index) for index in indices], dim=0)

    def _mask(self, index: int) -> torch.Tensor:
        window = self.timeline.window_of_index(index)  # type: ignore[union-attr]
        if window != self._window or self._tensor is None:  # frames come in order: windows change rarely
            mask = self.timeline.window_mask(window).astype(np.float32)  # type: ignore[union-attr]
            self._tensor = torch.from_numpy(mask)[None, None].to(self.device)
            self._window = window
        return self._tensor


def composite_hud(stylized: torch.Tensor, source: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Source pixels where ``mask`` is 1, stylized ones where it is 0.

    Args:
        stylized: (B, 3, H, W) float.
        source: (B, 3, H, W) float, same scale.
        mask: (1, 1, H, W) or (B, 1, H, W) weights in [0, 1].
    """
    sizes = check_shape(stylized, "B, C, H, W", "stylized")
    check_shape(source, "B, C, H, W", "source", **sizes)
    check_shape(mask, "N, 1, H, W", "mask", H=sizes["H"], W=sizes["W"])
    return torch.lerp(stylized, source, mask.to(stylized.dtype))
