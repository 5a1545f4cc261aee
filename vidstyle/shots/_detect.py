"""Cuts and fades from a :class:`~vidstyle.shots._scan.Scan`, and the shots between them.

A **hard cut** is a frame much more different from the previous one than its
neighbours are from theirs: its difference (after scaling the previous frame to its
brightness, so a fade's darkening is no difference) is at least ``ratio`` times the
median difference of the ``window`` frames on each side, above an absolute floor, and
its colour histogram changed too (a fast pan changes pixels, not the palette). A frame
after a flat one is never a cut: that is where a fade ends.
A **fade** goes through a flat frame (black, white, a loading screen's plain
colour: luma deviation under ``flat_std``); the next shot starts at the first
frame that is not flat again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ._scan import Scan


class Transition(enum.Enum):
    """How a shot begins."""

    START = "start"  # the recording's first frame
    CUT = "cut"
    FADE = "fade"


@dataclass(frozen=True)
class CutOptions:
    """Detection thresholds (the defaults found every cut of the benchmark recording,
    docs/BENCHMARKS.md "Shots"). ``min_shot`` frames: a boundary closer than this to
    the previous one is dropped (flash effects, a cut into a fade)."""

    ratio: float = 4.0
    min_diff: float = 20.0
    min_hist: float = 0.15
    window: int = 6
    flat_std: float = 6.0
    min_shot: int = 5


@dataclass(frozen=True)
class Shot:
    """Frames [``start``, ``end``) of one shot, their times (seconds from the first
    frame; ``end_time`` is the time of frame ``end``, or the recording's end), and how it begins."""

    index: int
    start: int
    end: int
    start_time: float
    end_time: float
    transition: Transition

    @property
    def frames(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "start_frame": self.start, "end_frame": self.end,
                "start_time": round(self.start_time, 6), "end_time": round(self.end_time, 6),
                "frames": self.frames, "transition": self.transition.value}


def detect_cuts(scan: Scan, options: CutOptions | None = None) -> list[tuple[int, Transition]]:
    """Frame indices where a new shot begins (never 0), with their transition, in order."""
    options = options or CutOptions()
    found: list[tuple[int, Transition]] = []
    n, w = scan.frames, options.window
    diff = scan.diff
    flat = scan.std < options.flat_std
    for t in range(1, n):
        if diff[t] < options.min_diff or scan.hist[t] < options.min_hist or flat[t - 1]:
            continue  # a change out of a flat frame is a fade's end, found below
        around = np.concatenate((diff[max(1, t - w):t], diff[t + 1:t + 1 + w]))
        if len(around) == 0 or diff[t] >= options.ratio * max(float(np.median(around)), 1.0):
            found.append((t, Transition.CUT))
    for t in range(1, n):
        if flat[t - 1] and not flat[t]:
            found.append((t, Transition.FADE))
    found.sort(key=lambda found_at: found_at[0])
    kept: list[tuple[int, Transition]] = []
    for frame, kind in found:
        if kept and frame - kept[-1][0] < options.min_shot:
            if kind is Transition.FADE:  # a cut into a fade: the fade's end starts the shot
                kept[-1] = (frame, kind)
            continue
        if frame < options.min_shot and not kept:
            continue
        kept.append((frame, kind))
    return kept


def shots_from_cuts(scan: Scan, cuts: list[tuple[int, Transition]]) -> list[Shot]:
    """The shots between ``cuts``, covering every frame once."""
    starts = [(0, Transition.START)] + [c for c in cuts if 0 < c[0] < scan.frames]
    shots = []
    duration = float(scan.times[-1]) + (1.0 / scan.fps if scan.fps else 0.0)
    for i, (start, kind) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else scan.frames
        end_time = float(scan.times[end]) if end < scan.frames else duration
        shots.append(Shot(index=i, start=start, end=end, start_time=float(scan.times[start]),
                          end_time=end_time, transition=kind))
    return shots
