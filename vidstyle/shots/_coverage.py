"""Coverage after painting: the stretches of a recording far from every painted keyframe.

The measure is keyframe suggestion's (:mod:`._keyframes`): the RMS distance between
appearance descriptors, and a keyframe covers a frame within ``radius`` of it. A
stretch of consecutive sampled frames (4 a second) that no keyframe covers is where
the model has seen nothing like the picture and will guess; flat frames and fades
need no keyframe and are left out, as in the suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import InputError, UsageError
from ..io import probe
from ._detect import CutOptions
from ._keyframes import DEFAULT_RADIUS, coverage_distance, in_fades
from ._scan import Scan, scan


@dataclass(frozen=True)
class Stretch:
    """Frames [``start``, ``end``) far from every keyframe, their times (seconds), the
    largest distance in it and the keyframe nearest in appearance at that frame."""

    start: int
    end: int
    start_time: float
    end_time: float
    distance: float
    nearest: int

    @property
    def seconds(self) -> float:
        return self.end_time - self.start_time

    def to_dict(self) -> dict[str, object]:
        return {"start_frame": self.start, "end_frame": self.end, "start_time": round(self.start_time, 6),
                "end_time": round(self.end_time, 6), "seconds": round(self.seconds, 6),
                "distance": round(self.distance, 4), "nearest_keyframe": self.nearest}


@dataclass(frozen=True)
class Coverage:
    """How well ``keyframes`` cover ``path``: per sampled frame (``sampled``) the
    appearance ``distance`` to the nearest keyframe and which (``nearest``); the far
    ``stretches``; ``covered`` the share of the recording's time not in them."""

    path: Path
    keyframes: list[int]
    radius: float
    frames: int
    duration: float
    stretches: list[Stretch]
    sampled: np.ndarray = field(repr=False)
    distance: np.ndarray = field(repr=False)
    nearest: np.ndarray = field(repr=False)

    @property
    def covered(self) -> float:
        far = sum(s.seconds for s in self.stretches)
        return 1.0 - far / self.duration if self.duration > 0 else 1.0

    def nearest_keyframe(self, frame: int) -> int:
        """The keyframe nearest in appearance to ``frame`` (that of the sampled frame nearest to it)."""
        return int(self.nearest[int(np.abs(self.sampled - frame).argmin())])

    def to_dict(self) -> dict[str, object]:
        return {"source": str(self.path), "keyframes": self.keyframes, "radius": self.radius,
                "frames": self.frames, "covered": round(self.covered, 4),
                "stretches": [s.to_dict() for s in self.stretches]}


def find_coverage(path: str | Path, keyframes: Iterable[int], *, radius: float = DEFAULT_RADIUS,
                  flat_std: float = CutOptions.flat_std) -> Coverage:
    """One pass over ``path`` (the shots scan), describing the ``keyframes`` (frame indices) exactly."""
    keys = sorted({int(k) for k in keyframes})
    if not keys:
        raise UsageError("no keyframes to measure the coverage of")
    known = probe(path)
    _check_keys(path, keys, None if known.frame_count_is_estimate else known.frame_count)  # before the pass
    measured = scan(path, also=keys, desc="coverage")
    _check_keys(path, keys, measured.frames)
    return coverage_of(measured, keys, radius=radius, flat_std=flat_std)


def _check_keys(path: str | Path, keys: list[int], frames: int | None) -> None:
    outside = [k for k in keys if k < 0 or (frames is not None and k >= frames)]
    if outside:
        span = f" (0..{frames - 1})" if frames is not None else ""
        raise InputError(f"keyframe {outside[0]} is not a frame of the recording{span}", path)


def coverage_of(measured: Scan, keyframes: list[int], *, radius: float = DEFAULT_RADIUS,
                flat_std: float = CutOptions.flat_std) -> Coverage:
    """The :class:`Coverage` of ``keyframes`` from a scan."""
    if not 0 < radius <= 1:
        raise UsageError(f"radius must be in (0, 1] (got {radius})")
    sampled, distance, nearest = coverage_distance(measured, keyframes)
    far = (distance > radius) & ~in_fades(measured, flat_std)[sampled]
    times = measured.times
    end_time = float(times[-1] + (1 / measured.fps if measured.fps else 0.0))
    stretches: list[Stretch] = []
    row = 0
    while row < len(sampled):
        if not far[row]:
            row += 1
            continue
        last = row
        while last + 1 < len(sampled) and far[last + 1]:
            last += 1
        end = int(sampled[last + 1]) if last + 1 < len(sampled) else measured.frames
        worst = row + int(distance[row:last + 1].argmax())
        stretches.append(Stretch(start=int(sampled[row]), end=end, start_time=float(times[sampled[row]]),
                                 end_time=float(times[end]) if end < measured.frames else end_time,
                                 distance=float(distance[worst]), nearest=int(nearest[worst])))
        row = last + 1
    return Coverage(path=measured.path, keyframes=list(keyframes), radius=radius, frames=measured.frames,
                    duration=end_time - float(times[0]), stretches=stretches, sampled=sampled, distance=distance,
                    nearest=nearest)
