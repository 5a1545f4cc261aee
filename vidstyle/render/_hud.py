"""``--keep-hud``: put the source's HUD pixels (timers, minimaps) back over the stylized frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError

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


def detect_hud_mask(source: Path, size: tuple[int, int]) -> np.ndarray:
    """The HUD of ``source`` found by :func:`vidstyle.masks.detect_hud` (static
    overlays over moving scenery), as a float mask at ``size``."""
    from ..masks import detect_hud
    from ..progress import info, warn

    info(f"detecting the HUD of {source.name} (--keep-hud auto) ...")
    mask = np.asarray(detect_hud(source, size=tuple(size)), dtype=np.float32)
    if mask.shape[::-1] != tuple(size):
        mask = cv2.resize(mask, tuple(size), interpolation=cv2.INTER_AREA)
    if not mask.any():
        warn(f"{source}: no HUD found; --keep-hud auto keeps nothing (give a mask image instead)")
    else:
        info(f"HUD covers {mask.mean():.1%} of the frame")
    return mask


def resolve_hud_mask(spec: str | Path | None, source: Path, size: tuple[int, int]) -> np.ndarray | None:
    """``--keep-hud`` value -> mask at ``size`` (None when not asked for)."""
    if spec is None:
        return None
    if str(spec).lower() == AUTO:
        return detect_hud_mask(source, size)
    return load_hud_mask(spec, size)


def composite_hud(stylized: torch.Tensor, source: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Source pixels where ``mask`` is 1, stylized ones where it is 0.

    Args:
        stylized: (B, 3, H, W) float.
        source: (B, 3, H, W) float, same scale.
        mask: (1, 1, H, W) or (B, 1, H, W) weights in [0, 1].
    """
    if stylized.shape != source.shape:
        raise ValueError(f"stylized {tuple(stylized.shape)} and source {tuple(source.shape)} differ")
    if mask.ndim != 4 or mask.shape[1] != 1 or mask.shape[-2:] != stylized.shape[-2:]:
        raise ValueError(f"mask must be (B, 1, H, W) matching the frames, got {tuple(mask.shape)}")
    return torch.lerp(stylized, source, mask.to(stylized.dtype))
