"""Round axis tick values, one rule for the flicker plot (metrics) and the report's charts (pipeline)."""

from __future__ import annotations

import math


def nice_ticks(low: float, high: float, count: int = 5, *, cover: bool = False) -> list[float]:
    """About ``count`` ticks at a round step (1, 2, 2.5 or 5 times a power of ten), from the first
    multiple of the step at or above ``low`` up to ``high``; with ``cover``, up to the first at or
    above ``high``, so that the last tick bounds the data. An empty range gets one tick (two with
    ``cover``: ``low`` and ``low + 1``)."""
    if not high > low:
        return [low, low + 1.0] if cover else [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    spans = (high - first) / step
    last = math.ceil(spans - 1e-9) if cover else int(spans + 1e-9)
    return [first + i * step for i in range(last + 1)]
