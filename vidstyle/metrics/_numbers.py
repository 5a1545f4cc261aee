"""Means and JSON values of metric series that hold NaN where a value is unknown."""

from __future__ import annotations

import math

import numpy as np


def finite_mean(values: np.ndarray | None) -> float | None:
    """The mean of the finite entries of (N,) ``values``; None when there are none (or no series)."""
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def json_number(value: float | None) -> float | None:
    """``value`` as JSON holds it: NaN, infinity and None are null."""
    return None if value is None or not math.isfinite(value) else float(value)


def json_series(values: np.ndarray | None) -> list[float | None] | None:
    """(N,) ``values`` as a JSON list (:func:`json_number` each); None stays None."""
    return None if values is None else [json_number(float(v)) for v in values]
