"""One timeline repair for readers and writers: timestamps that repeat or go backwards.

Concatenated transport streams restart their timestamps; some recorders stamp two
frames alike. Every frame is kept: a restarted segment is shifted forward to continue
one frame step after the previous frame, a duplicate is nudged one tick later, and all
later frames move by the same amount (so their spacing, and audio sync within a
segment, is unchanged).
"""

from __future__ import annotations


class TimelineRepair:
    """Make ``pts`` strictly increasing, counting the frames it had to move.

    Args:
        step: one frame's duration in time-base ticks (at least 1).
    """

    def __init__(self, step: int) -> None:
        self.step = max(1, int(step))
        self.offset = 0
        self.last: int | None = None
        self.repaired = 0

    def __call__(self, pts: int) -> int:
        """The repaired timestamp for the next frame's ``pts``."""
        pts += self.offset
        if self.last is not None and pts <= self.last:
            shift = self.last + (1 if pts == self.last else self.step) - pts
            self.offset += shift
            pts += shift
            self.repaired += 1
        self.last = pts
        return pts

    def message(self, path: object) -> str | None:
        """The one-line warning to give at the end, or None when nothing was repaired."""
        if not self.repaired:
            return None
        return (f"{path}: timestamps repeated or went backwards at {self.repaired} frame(s) (joined segments or "
                "a faulty recorder); every frame was kept, moved later from there on")
