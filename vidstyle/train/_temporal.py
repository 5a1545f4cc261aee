"""Temporal consistency losses on unpainted frames.

* :func:`temporal_loss`: occlusion-masked warping loss between the generator's
  outputs for two frames, flow computed on the *input* frames (Ruder et al.,
  Lai et al.; REFERENCE section 4).
* :func:`compound_regularization`: flow-free; the output of a randomly, smoothly
  warped and noised input should be the warped output (Wang et al. 2020).
* :class:`FlowPairs`: the frame pairs and their flows and validity masks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..flow import DisFlow, FlowCache, FlowPreset, SourceId, flow_to_tensor, validity_mask, warp
from ..progress import progress, warn
from ._data import run_labels

if TYPE_CHECKING:
    from ._data import Clip
    from ._settings import TrainSettings

TRAINING_FLOW_PRESET = FlowPreset.MEDIUM
LONG_RANGE_GAP = 4  # the longer-range pairs: t and t + 4
_PAIR_MEMORY_BYTES = 512 * 2 ** 20


def temporal_loss(out_a: torch.Tensor, out_b: torch.Tensor, flow: torch.Tensor,
                  mask: torch.Tensor | None = None) -> torch.Tensor:
    """Masked L1 between ``out_a`` and ``out_b`` warped onto it.

    Args:
        out_a: (B, C, H, W) output for frame a.
        out_b: (B, C, H, W) output for frame b.
        flow: (B, 2, H, W) flow from a to b on the input frames (a(x) ~ b(x + flow)).
        mask: (B, 1, H, W) validity in {0, 1} (1 = trust the flow); all ones if None.

    Returns:
        Scalar: sum(mask * |out_a - warp(out_b)|) / (C * sum(mask)); 0 for an
        exactly warped pair.
    """
    if out_a.shape != out_b.shape:
        raise ValueError(f"outputs differ in shape: {tuple(out_a.shape)} vs {tuple(out_b.shape)}")
    return masked_l1(out_a, warp(out_b, flow), mask)


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |a - b| over the pixels where the (B, 1, H, W) ``mask`` is 1."""
    if mask is None:
        return (a - b).abs().mean()
    if mask.shape != (a.shape[0], 1, *a.shape[-2:]):
        raise ValueError(f"mask must be (B, 1, H, W), got {tuple(mask.shape)}")
    return ((a - b).abs() * mask).sum() / (a.shape[1] * mask.sum()).clamp_min(1.0)


class TemporalLoss(nn.Module):
    """Module form of :func:`temporal_loss`."""

    def forward(self, out_a: torch.Tensor, out_b: torch.Tensor, flow: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        return temporal_loss(out_a, out_b, flow, mask)


def random_smooth_flow(batch: int, height: int, width: int, *, amplitude: float = 2.0, grid: int = 4,
                       generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, 2, H, W) smooth random displacement: a coarse ``grid`` x ``grid`` of
    uniform offsets in [-amplitude, amplitude] px, bicubically upsampled."""
    coarse = (torch.rand(batch, 2, grid, grid, generator=generator) * 2 - 1) * amplitude
    return F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True).to(device)


def compound_regularization(generator: nn.Module, inputs: torch.Tensor, *, amplitude: float = 2.0,
                            noise: float = 0.02, rng: torch.Generator | None = None) -> torch.Tensor:
    """Flow-free consistency: L1 between G(W(x) + n) and W(G(x)) for a random
    smooth warp W and Gaussian noise n. inputs: (B, C, H, W) in [0, 1]."""
    batch, _, height, width = inputs.shape
    flow = random_smooth_flow(batch, height, width, amplitude=amplitude, generator=rng, device=inputs.device)
    jitter = torch.randn(inputs.shape, generator=rng).to(inputs.device) * noise
    moved = (warp(inputs, flow) + jitter).clamp(0, 1)
    outputs = generator(torch.cat((inputs, moved)))
    out_x, out_moved = outputs.chunk(2)
    # Ignore a border band where the warp samples clamped pixels.
    margin = int(np.ceil(amplitude)) + 1
    diff = (out_moved - warp(out_x, flow)).abs()[..., margin:height - margin, margin:width - margin]
    return diff.mean()


@dataclass
class TrainingPair:
    """Frames ``a`` and ``b`` (clip positions), the flow a -> b (H, W, 2) and
    its validity mask (H, W) bool from the forward-backward check."""

    a: int
    b: int
    flow: np.ndarray
    valid: np.ndarray


def choose_pairs(frame_count: int, max_pairs: int, *,
                 runs: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Consecutive pairs spread evenly over the clip, plus a quarter at ``LONG_RANGE_GAP``;
    both frames of a pair within one of ``runs`` (a sampled clip's, see :class:`Clip`)."""
    run = run_labels(frame_count, runs)
    consecutive = [(t, t + 1) for t in range(frame_count - 1) if run[t] == run[t + 1]]
    longer = [(t, t + LONG_RANGE_GAP) for t in range(frame_count - LONG_RANGE_GAP) if run[t] == run[t + LONG_RANGE_GAP]]
    n_long = min(len(longer), max_pairs // 4)
    n_short = min(len(consecutive), max_pairs - n_long)

    def spread(pairs: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
        if count <= 0:
            return []
        picks = np.linspace(0, len(pairs) - 1, count).round().astype(int)
        return [pairs[i] for i in sorted(set(picks.tolist()))]

    return spread(consecutive, n_short) + spread(longer, n_long)


class ClipFlows:
    """DIS MEDIUM flow between any two frames of a clip (positions), read from
    and written to ``cache`` when given (keyed by ``source`` and the frame
    ``indices``) so training, guides and metrics share them. ``runs``: the
    runs of consecutive source frames of a sampled clip (None: one run)."""

    def __init__(self, frames: np.ndarray, *, indices: list[int] | None = None, cache: FlowCache | None = None,
                 source: SourceId | None = None, runs: list[tuple[int, int]] | None = None) -> None:
        self.frames = frames
        self.runs = runs
        self.indices = indices if indices is not None else list(range(len(frames)))
        self.cache = cache if source is not None else None
        self.source = source
        self._dis = DisFlow(TRAINING_FLOW_PRESET)

    def __call__(self, a: int, b: int) -> np.ndarray:
        """(H, W, 2) flow from frame a to frame b: a(x) ~ b(x + flow(x))."""
        if self.cache is None or self.source is None:
            return self._dis(self.frames[a], self.frames[b])
        size = (self.frames.shape[2], self.frames.shape[1])
        flow = self.cache.get(self.source, self.indices[a], self.indices[b], preset=TRAINING_FLOW_PRESET, size=size)
        if flow is None:
            flow = self.cache.put(self.source, self.indices[a], self.indices[b],
                                  self._dis(self.frames[a], self.frames[b]), preset=TRAINING_FLOW_PRESET)
        return flow

    def with_validity(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The flow a -> b and its (H, W) bool validity: forward-backward
        consistent and landing inside frame b."""
        forward, backward = self(a, b), self(b, a)
        return forward, validity_mask(forward, backward, exclude_outside=True)


def pair_flows(flows: ClipFlows, pairs: list[tuple[int, int]]) -> list[TrainingPair]:
    """Flows and validity masks for the training pairs (clip positions)."""
    out = []
    with progress(len(pairs), "flow", unit="pair") as bar:
        for a, b in pairs:
            out.append(TrainingPair(a, b, *flows.with_validity(a, b)))
            bar.update(1)
    return out


def max_pairs_for(height: int, width: int, wanted: int) -> int:
    """Cap the number of stored pairs so flows and masks stay within ~512 MiB."""
    per_pair = height * width * (2 * 4 + 1)
    return max(1, min(wanted, _PAIR_MEMORY_BYTES // per_pair))


def crop_pair_batch(pairs: list[TrainingPair], inputs: torch.Tensor, picks: list[tuple[int, int, int]],
                    crop: int, margin: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Build a temporal batch: crops of frame a, larger crops of frame b (with
    ``margin`` px around, so moving content stays inside), the flow shifted
    into b-crop coordinates and the validity mask (also 0 where the flow
    leaves the b crop).

    ``inputs`` is the (N, C, H, W) uint8 tensor of all frames (+ guides);
    ``picks`` lists (pair number, top, left) of each a crop. Returns
    (crops_a, crops_b, flow, mask) with the flow padded to the b-crop size.
    """
    crops_a, crops_b, flows, masks = [], [], [], []
    big = crop + 2 * margin
    for number, top, left in picks:
        pair = pairs[number]
        crops_a.append(inputs[pair.a, :, top:top + crop, left:left + crop])
        crops_b.append(inputs[pair.b, :, top - margin:top - margin + big, left - margin:left - margin + big])
        flow = flow_to_tensor(pair.flow[top:top + crop, left:left + crop])
        valid = torch.from_numpy(pair.valid[top:top + crop, left:left + crop]).float()
        # Targets in b-crop coordinates must stay inside the b crop.
        ys, xs = torch.meshgrid(torch.arange(crop, dtype=torch.float32), torch.arange(crop, dtype=torch.float32),
                                indexing="ij")
        tx, ty = xs + flow[0] + margin, ys + flow[1] + margin
        valid = valid * ((tx >= 0) & (tx <= big - 1) & (ty >= 0) & (ty <= big - 1)).float()
        flows.append(flow)
        masks.append(valid[None])
    to = dict(device=device)
    return (torch.stack(crops_a).to(**to).float().div_(255), torch.stack(crops_b).to(**to).float().div_(255),
            torch.stack(flows).to(**to), torch.stack(masks).to(**to))


def warp_into_crop(out_b: torch.Tensor, flow: torch.Tensor, margin: int) -> torch.Tensor:
    """Warp a (B, C, crop + 2 margin, ...) b-crop output onto the a crop by a
    (B, 2, crop, crop) flow given in a-crop coordinates."""
    crop = flow.shape[-1]
    # Sample the big crop with an absolute grid; reuse warp() by embedding the flow.
    big = out_b.shape[-1]
    full = flow.new_zeros(flow.shape[0], 2, big, big)
    full[..., margin:margin + crop, margin:margin + crop] = flow
    return warp(out_b, full)[..., margin:margin + crop, margin:margin + crop]


def training_pairs(clip: "Clip", settings: "TrainSettings", flows: ClipFlows) -> list[TrainingPair]:
    """The frame pairs of the pair warping loss, with flows; none when the loss is off or cannot apply."""
    if settings.temporal_weight * settings.pair_weight <= 0 or len(clip.indices) < 2:
        if settings.temporal_weight > 0 and len(clip.indices) < 2:
            warn("the input has a single frame: temporal loss off")
        return []
    width, height = clip.size
    if min(width, height) < 2 * settings.temporal_margin + 16:
        warn(f"frames of {width}x{height} are too small for the temporal loss: off")
        return []
    wanted = max_pairs_for(height, width, settings.temporal_pairs)
    return pair_flows(flows, choose_pairs(len(clip.indices), wanted, runs=clip.runs))
