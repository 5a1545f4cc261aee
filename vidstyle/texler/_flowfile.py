"""Texler/EbSynth's ``.A2V2f`` flow files (``.flo`` lives in :mod:`vidstyle.flow`).

``.A2V2f`` (jzq.h ``a2write``): int32 width, int32 height, int32 element size (8),
then width x height (x, y) float32 pairs, row by row, little-endian.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError


def write_a2v2f(path: str | Path, flow: np.ndarray) -> None:
    """Write an (H, W, 2) flow as ``.A2V2f``."""
    flow = np.ascontiguousarray(flow, dtype="<f4")
    height, width = flow.shape[:2]
    with open(path, "wb") as f:
        np.array([width, height, 8], dtype="<i4").tofile(f)
        flow.tofile(f)


def read_a2v2f(path: str | Path) -> np.ndarray:
    """Read an ``.A2V2f`` flow as (H, W, 2) float32."""
    data = Path(path).read_bytes()
    if len(data) < 12:
        raise InputError("not an A2V2f flow file (too short)", path)
    width, height, element = np.frombuffer(data[:12], dtype="<i4")
    if element != 8 or width < 1 or height < 1 or len(data) != 12 + int(width) * int(height) * 8:
        raise InputError("not an A2V2f flow file (bad header or size)", path)
    return np.frombuffer(data[12:], dtype="<f4").reshape(int(height), int(width), 2).astype(np.float32)
