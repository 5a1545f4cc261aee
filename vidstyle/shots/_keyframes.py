"""Keyframe suggestions: the fewest frames whose appearance covers the recording.

Greedy set cover over the per-frame descriptors of :mod:`._scan`: a frame covers
every frame whose descriptor lies within ``radius`` (RMS difference, 0-1) of its
own; the frame covering the most frames not yet covered is picked first, until
everything is covered or ``max_keyframes`` are picked. Greedy cover is within a
factor ln(n) of the smallest cover, and its first N picks are a good N for ``--max``.
Frames are considered 4 times a second (the scan's samples); flat frames
(black, a plain loading screen) and the half second either side of them (a fade's
darkened frames, which would each look new) are neither candidates nor need covering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._defaults import KEYFRAME_RADIUS
from ._detect import Shot
from ._scan import Scan

DEFAULT_RADIUS = KEYFRAME_RADIUS
_MAX_SAMPLES = 8000
_BLOCK = 2048  # candidate rows per distance block: 2048 x n float32 stays small for hours of footage


@dataclass(frozen=True)
class Keyframe:
    """A suggested frame: its index, time, shot, and how many sampled frames it covers
    that no earlier pick covered."""

    frame: int
    time: float
    shot: int
    covers: int

    def to_dict(self) -> dict[str, object]:
        return {"frame": self.frame, "time": round(self.time, 6), "shot": self.shot, "covers": self.covers}


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS descriptor distance, (len(a), D) x (len(b), D) -> (len(a), len(b))."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0) / a.shape[1])


def coverage_distance(scan: Scan, keyframes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the scan's sampled frames, the descriptor distance to the nearest of
    ``keyframes`` (frame indices; exact when the scan described them, ``scan(also=...)``,
    else the sampled frame nearest to each) and which keyframe that is:
    (frames, distances, nearest keyframes). Where the distance is large the model will have to guess."""
    keys = np.stack([_descriptor_near(scan, k) for k in keyframes])
    out = np.empty(len(scan.sampled), np.float32)
    nearest = np.empty(len(scan.sampled), np.int64)
    for first in range(0, len(out), _BLOCK):
        block = distances(scan.descriptors[first:first + _BLOCK], keys)
        out[first:first + _BLOCK] = block.min(1)
        nearest[first:first + _BLOCK] = np.asarray(keyframes, np.int64)[block.argmin(1)]
    return scan.sampled, out, nearest


def _descriptor_near(scan: Scan, frame: int) -> np.ndarray:
    """The descriptor of the sampled frame nearest to ``frame``."""
    return scan.descriptors[int(np.abs(scan.sampled - frame).argmin())]


def in_fades(scan: Scan, flat_std: float) -> np.ndarray:
    """(frames,) bool: flat (black, a plain loading screen), or within half a second of a flat
    frame (a fade's darkened frames): nothing there needs a keyframe."""
    flat = (scan.std < flat_std).astype(np.float32)
    margin = max(1, round((scan.fps or 20.0) / 2))
    return np.convolve(flat, np.ones(2 * margin + 1, np.float32), mode="same") > 0


def suggest_keyframes(scan: Scan, shots: list[Shot], *, max_keyframes: int | None = None,
                      radius: float = DEFAULT_RADIUS, flat_std: float = 6.0) -> list[Keyframe]:
    """The greedy cover (see the module docstring), in frame order."""
    if max_keyframes is not None and max_keyframes < 1:
        raise ValueError(f"max_keyframes must be at least 1 (got {max_keyframes})")
    # The scan's samples (4 a second), at most _MAX_SAMPLES of them: the cover matrix is samples^2 bytes.
    rows = np.arange(0, len(scan.sampled), -(-len(scan.sampled) // _MAX_SAMPLES))
    rows = rows[~in_fades(scan, flat_std)[scan.sampled[rows]]]
    if len(rows) == 0:  # all flat: one frame still gets painted
        rows = np.array([0])
    sample = scan.sampled[rows]
    shot_of = np.zeros(scan.frames, np.int64)
    for shot in shots:
        shot_of[shot.start:shot.end] = shot.index
    desc = scan.descriptors[rows]
    covers = np.zeros((len(sample), len(sample)), dtype=bool)
    for first in range(0, len(sample), _BLOCK):
        covers[first:first + _BLOCK] = distances(desc[first:first + _BLOCK], desc) <= radius
    uncovered = np.ones(len(sample), dtype=bool)
    picks: list[Keyframe] = []
    while uncovered.any() and (max_keyframes is None or len(picks) < max_keyframes):
        gain = covers[:, uncovered].sum(1)
        best = int(np.argmax(gain))
        frame = int(sample[best])
        picks.append(Keyframe(frame=frame, time=float(scan.times[frame]), shot=int(shot_of[frame]),
                              covers=int(gain[best])))
        uncovered &= ~covers[best]
    return sorted(picks, key=lambda k: k.frame)
