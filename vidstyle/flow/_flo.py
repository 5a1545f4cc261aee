"""The Middlebury ``.flo`` flow format (Baker et al.), read and written exactly.

Layout, little-endian: the float32 tag 202021.25 (the bytes ``PIEH``), int32
width, int32 height, then width x height (u, v) float32 pairs, row by row.
Values above 1e9 mean "unknown flow" by convention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._shapes import check_shape
from ..errors import InputError
from ..io import atomic_output

FLO_TAG = b"PIEH"  # 202021.25 as a little-endian float32
UNKNOWN_FLOW_THRESHOLD = 1e9
_MAX_SIDE = 1 << 16


def read_flo(path: str | Path) -> np.ndarray:
    """Read a ``.flo`` file as an (H, W, 2) float32 array (x then y).

    Raises:
        InputError: the file is missing, not a ``.flo`` file, or truncated.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such flow file", path) from None
    except OSError as err:
        raise InputError(f"cannot read flow file ({err.strerror})", path) from None
    if len(data) < 12 or data[:4] != FLO_TAG:
        raise InputError("not a Middlebury .flo file (missing the PIEH tag)", path)
    width, height = (int(v) for v in np.frombuffer(data, dtype="<i4", count=2, offset=4))
    if not (0 < width < _MAX_SIDE and 0 < height < _MAX_SIDE):
        raise InputError(f"bad .flo header: size {width}x{height}", path)
    expected = 12 + width * height * 8
    if len(data) != expected:
        raise InputError(f".flo file is {len(data)} bytes, a {width}x{height} flow needs {expected}", path)
    flow = np.frombuffer(data, dtype="<f4", offset=12).reshape(height, width, 2)
    return flow.astype(np.float32)  # a writable, native-endian copy


def write_flo(path: str | Path, flow: np.ndarray) -> Path:
    """Write an (H, W, 2) flow to ``path`` in ``.flo`` format, atomically; returns the path."""
    flow = np.asarray(flow)
    sizes = check_shape(flow, "H, W, 2", "flow")
    height, width = sizes["H"], sizes["W"]
    if min(height, width) < 1:
        raise ValueError(f"flow must not be empty, got {flow.shape}")
    path = Path(path)
    with atomic_output(path, overwrite=True) as temp:
        with open(temp, "wb") as handle:
            handle.write(FLO_TAG)
            handle.write(np.array([width, height], dtype="<i4").tobytes())
            handle.write(np.ascontiguousarray(flow, dtype="<f4").tobytes())
    return path
