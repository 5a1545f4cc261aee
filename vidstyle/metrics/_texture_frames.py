"""Texture of each output frame against a reference frame or the painted keyframes, inside flicker's pass."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._texture import gradient_energy, level_distances, texture_signature
from ._texture_scores import TextureAgainst, TextureScores

if TYPE_CHECKING:
    from ..shots import Coverage

# A frame count that is unknown or only estimated does not limit the keyframe indices.
_UNBOUNDED = 2 ** 31


@dataclass(frozen=True)
class PaintedKeyframes:
    """Painted keyframes at the measuring size, with their gradient energy and texture signature
    computed once (each is compared with many frames)."""

    folder: Path
    indices: tuple[int, ...]
    energies: dict[int, float]
    signatures: dict[int, list]
    by_appearance: "Coverage | None" = None  # when set, frames take the keyframe nearest in appearance

    @classmethod
    def load(cls, folder: str | Path, size: tuple[int, int], frame_count: int | None,
             clip: str | Path | None) -> "PaintedKeyframes":
        """Read a folder as ``vidstyle train --keyframes`` does (PNGs named by frame index, or a
        Texler ``_train`` folder), resized to ``size``; errors name the folder and the problem."""
        from ..train import Clip, load_keyframes

        width, height = size
        frames = np.zeros((0, height, width, 3), np.uint8)  # load_keyframes needs only the size and indices
        indices = range(frame_count if frame_count else _UNBOUNDED)
        shape = Clip(Path(clip) if clip is not None else Path("the clip"), frames, indices,  # type: ignore[arg-type]
                     (width, height))
        painted = load_keyframes(folder, shape)
        return cls(Path(folder), tuple(sorted(painted)),
                   {k: gradient_energy(image) for k, image in painted.items()},
                   {k: texture_signature(image, f"keyframe {k}") for k, image in painted.items()})

    def matched(self, source: str | Path) -> "PaintedKeyframes":
        """The same keyframes, each frame matched with the one nearest in appearance of ``source``
        (the input video): the measure of ``vidstyle shots --coverage``, one fast pass."""
        from ..shots import find_coverage

        return replace(self, by_appearance=find_coverage(source, self.indices))

    def nearest(self, index: int) -> int:
        """The keyframe nearest in appearance to frame ``index`` when :meth:`matched`, else the one
        nearest in time (the earlier on a tie)."""
        if self.by_appearance is not None:
            return self.by_appearance.nearest_keyframe(index)
        return min(self.indices, key=lambda k: (abs(k - index), k))


@dataclass
class FrameTexture:
    """Scores one output frame; thread-safe (read-only state). ``every``: texture distance on
    frames whose position in the clip is a multiple of it (detail ratio on all)."""

    every: int
    reference: bool
    keyframes: PaintedKeyframes | None

    @property
    def active(self) -> bool:
        return self.reference or self.keyframes is not None

    def __call__(self, index: int, position: int, frame: np.ndarray,
                 reference: np.ndarray | None) -> dict[str, tuple[float, ...]]:
        """{"reference" | "keyframes": (detail ratio, texture distance, its strokes' levels, its
        colours' level (NaN on frames not measured), keyframe or -1)}."""
        if not self.active:
            return {}
        measure = position % self.every == 0
        energy = gradient_energy(frame)
        signature = texture_signature(frame, "output") if measure else None

        def distances(other: list) -> tuple[float, float, float]:
            if signature is None:
                return (float("nan"),) * 3
            levels = level_distances(signature, other)
            return float(np.mean(levels)), float(np.mean(levels[:-1])), float(levels[-1])

        scores: dict[str, tuple[float, ...]] = {}
        if self.reference and reference is not None:
            ref_energy = gradient_energy(reference)
            scores["reference"] = (energy / ref_energy if ref_energy > 0 else float("nan"),
                                   *distances(texture_signature(reference, "reference")), -1)
        if self.keyframes is not None:
            key = self.keyframes.nearest(index)
            key_energy = self.keyframes.energies[key]
            scores["keyframes"] = (energy / key_energy if key_energy > 0 else float("nan"),
                                   *distances(self.keyframes.signatures[key]), key)
        return scores


def assemble_texture(per_frame: list[dict[str, tuple[float, ...]]], frames: np.ndarray,
                     times: np.ndarray, scorer: FrameTexture, reference_path: str | None,
                     size: tuple[int, int]) -> dict[str, TextureScores]:
    """The per-frame scores of :class:`FrameTexture`, in frame order, as :class:`TextureScores`."""
    out: dict[str, TextureScores] = {}
    for role in ("reference", "keyframes"):
        rows = [scores[role] for scores in per_frame if role in scores]
        if len(rows) != len(per_frame) or not rows:
            continue
        values = np.array(rows, dtype=np.float64)
        keyframes = scorer.keyframes if role == "keyframes" else None
        out[role] = TextureScores(
            TextureAgainst(role), reference_path if keyframes is None else str(keyframes.folder), size,
            scorer.every, frames, times, values[:, 0], values[:, 1],
            None if keyframes is None else values[:, 4].astype(np.int64),
            () if keyframes is None else keyframes.indices,
            by_appearance=keyframes is not None and keyframes.by_appearance is not None,
            stroke_distance=values[:, 2], colour_distance=values[:, 3])
    return out
