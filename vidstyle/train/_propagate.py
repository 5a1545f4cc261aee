"""Keyframe propagation, the second flow-based temporal term.

Each painted keyframe is carried to nearby unpainted frames by the flow on the
input frames; where the flow is trusted (forward-backward consistent, inside
the frame) and the keyframe's mask is white, the warped painting is a target
for the generator's output on that frame. The generator is thereby shown the
same content, moved and re-encoded, and asked to paint it the same way: the
input changes that make a per-frame network flicker (noise, sub-pixel motion)
become changes it must ignore. The sampler draws these frames' patches next to
the keyframes' (:class:`~vidstyle.train.PatchSampler` weights), with the loss
masked per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..flow import warp_numpy
from ..progress import progress
from ._data import run_labels
from ._temporal import ClipFlows

if TYPE_CHECKING:
    from ._data import Clip
    from ._settings import TrainSettings

PROPAGATION_OFFSETS = (1, 2, 4, 8)  # frames before and after each keyframe
MIN_VALID_FRACTION = 0.25           # propagate no further than where most of the picture survives


@dataclass
class PropagatedKeyframe:
    """The painting of keyframe ``source`` carried to frame ``position`` (clip
    positions): ``target`` (H, W, 3) uint8 and ``valid`` (H, W) bool."""

    position: int
    source: int
    target: np.ndarray
    valid: np.ndarray


def propagation_positions(frame_count: int, keyframes: list[int],
                          offsets: tuple[int, ...] = PROPAGATION_OFFSETS, *,
                          runs: list[tuple[int, int]] | None = None) -> dict[int, int]:
    """{frame position: keyframe position} for the frames at ``offsets`` before
    and after each keyframe (clip positions) in the keyframe's run (``runs``: a
    sampled clip's, see :class:`Clip`); a frame reachable from two keyframes
    takes the nearer one; keyframes themselves are not targets."""
    chosen: dict[int, int] = {}
    run = run_labels(frame_count, runs)
    for distance in sorted({abs(d) for d in offsets if d}):
        for key in sorted(keyframes):
            for position in (key - distance, key + distance):
                if 0 <= position < frame_count and run[position] == run[key] and position not in keyframes \
                        and position not in chosen:
                    chosen[position] = key
    return dict(sorted(chosen.items()))


def propagate_keyframes(flows: ClipFlows, paintings: Mapping[int, np.ndarray], masks: Mapping[int, np.ndarray],
                        offsets: tuple[int, ...] = PROPAGATION_OFFSETS,
                        min_valid: float = MIN_VALID_FRACTION) -> list[PropagatedKeyframe]:
    """Warp each painting (keyed by clip position, (H, W, 3) uint8, with its
    (H, W) bool mask) onto its neighbouring frames.

    Frame j gets target(x) = painting(x + flow_{j->k}(x)). Frames where less
    than ``min_valid`` of the picture is valid are dropped (fast motion: the
    flow is not worth trusting there).
    """
    plan = propagation_positions(len(flows.frames), list(paintings), offsets, runs=flows.runs)
    out = []
    with progress(len(plan), "propagate", unit="frame") as bar:
        for position, key in plan.items():
            flow, valid = flows.with_validity(position, key)
            valid &= warp_numpy(masks[key].astype(np.float32), flow) > 0.5
            if valid.mean() >= min_valid:
                out.append(PropagatedKeyframe(position, key, warp_numpy(paintings[key], flow), valid))
            bar.update(1)
    return out


def propagated_targets(clip: "Clip", painted: Mapping[int, np.ndarray], masks: Mapping[int, np.ndarray],
                       settings: "TrainSettings", flows: ClipFlows) -> list[PropagatedKeyframe]:
    """The keyframes (by frame index) propagated for training; none when propagation is off."""
    if settings.temporal_weight <= 0 or settings.propagation_weight <= 0 or len(clip.indices) < 2:
        return []
    by_position = {clip.position(index): image for index, image in painted.items()}
    return propagate_keyframes(flows, by_position, {clip.position(i): m for i, m in masks.items()},
                               tuple(settings.propagation_offsets))
