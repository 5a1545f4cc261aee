"""Training the learned temporal stage (:class:`vidstyle.models.TemporalFusion`).

Runs after the generator, which it leaves frozen. Short runs of consecutive
frames are stylized once; the stage is then unrolled over random crops of them,
each output feeding the next frame as the renderer will, and trained on

    sum_t  |out_t - styled_t|^2  +  lambda * valid_t * |out_t - warp(out_{t-1})|^2

Squared errors make the balance a blend, not a switch: with nothing else to go
on, the best weight is lambda / (1 + lambda) everywhere; the network learns
where to depart from it (the scene really changed, the stylization only
flickered). The stage's input motion comes from the renderer's estimator
(:class:`vidstyle.flow.MotionEstimator`); the loss uses the trainer's own
trusted flow (:class:`ClipFlows`, forward-backward checked).
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..flow import FlowPreset, MotionEstimator, flow_to_tensor, warp
from ..models import FusionConfig, Stylizer, TemporalFusion, flush_negligible_weights
from ..progress import progress
from ._data import run_labels
from ._settings import TrainSettings
from ._temporal import ClipFlows


@dataclass
class FusionRun:
    """A run of consecutive clip positions and its motion, as (T-1, C, H, W)
    tensors for frames 1..T-1 (frame t to t-1): the run-time ``motion`` and
    ``motion_valid`` the stage sees, and the trusted ``loss_flow`` and
    ``loss_valid`` its warping loss uses. Computed before the budget starts,
    like the other training flows. Flows are float16 and masks uint8 0/1: at
    1080p the runs would otherwise take gigabytes."""

    positions: list[int]
    motion: torch.Tensor
    motion_valid: torch.Tensor
    loss_flow: torch.Tensor
    loss_valid: torch.Tensor


@dataclass
class FusionSequence:
    """A :class:`FusionRun` with its (T, 3, H, W) source ``frames`` (uint8) and
    the frozen generator's ``styled`` outputs (float16 in [0, 1])."""

    run: FusionRun
    frames: torch.Tensor
    styled: torch.Tensor


def sequence_starts(frame_count: int, count: int, length: int, *,
                    runs: list[tuple[int, int]] | None = None) -> list[int]:
    """Up to ``count`` first positions of ``length``-frame runs, spread evenly over
    the clip, each within one of ``runs`` (a sampled clip's, see :class:`Clip`)."""
    label = run_labels(frame_count, runs)
    candidates = [p for p in range(frame_count - length + 1) if label[p] == label[p + length - 1]]
    if not candidates:
        return []
    picks = np.linspace(0, len(candidates) - 1, num=min(count, len(candidates)))
    return sorted({candidates[int(round(p))] for p in picks})


def prepare_runs(flows: ClipFlows, settings: TrainSettings) -> list[FusionRun]:
    """The runs the stage trains on, with their motion (``flows.frames`` are the clip's RGB frames)."""
    length = settings.fusion_unroll + 1
    preset = FlowPreset.parse(settings.fusion_flow)
    runs = []
    starts = sequence_starts(len(flows.frames), settings.fusion_sequences, length, runs=flows.runs)
    with progress(len(starts), "temporal stage flow", unit="run") as bar:
        for start in starts:
            positions = list(range(start, start + length))
            estimator = MotionEstimator(preset)
            motions = [estimator(flows.frames[p]) for p in positions][1:]
            trusted = [flows.with_validity(p, p - 1) for p in positions[1:]]
            runs.append(FusionRun(
                positions=positions,
                motion=torch.stack([flow_to_tensor(m.flow) for m in motions]).half(),
                motion_valid=torch.stack([torch.from_numpy(m.valid > 0)[None] for m in motions]).to(torch.uint8),
                loss_flow=torch.stack([flow_to_tensor(f) for f, _ in trusted]).half(),
                loss_valid=torch.stack([torch.from_numpy(v > 0)[None] for _, v in trusted]).to(torch.uint8)))
            bar.update(1)
    return runs


@torch.no_grad()
def stylize_runs(model: Stylizer, inputs: torch.Tensor, runs: list[FusionRun], device: torch.device,
                 autocast: AbstractContextManager[Any] | None = None,
                 stop: Callable[[], bool] | None = None) -> list[FusionSequence]:
    """Run the frozen generator on every frame of ``runs`` (under the training's
    ``autocast``, as the renderer runs it in bf16 where it can); ``inputs`` is (N, C, H, W) uint8.

    ``stop`` is asked after each run; once it says so the other runs are left out.
    Every other run goes first, so the runs done still span the clip."""
    was_training = model.training
    model.eval()
    done: dict[int, FusionSequence] = {}
    for number in [*range(0, len(runs), 2), *range(1, len(runs), 2)]:
        run = runs[number]
        batch = inputs[run.positions].to(device).float().div_(255)
        with autocast or contextlib.nullcontext():
            styled = torch.cat([model(batch[i:i + 1]).float().clamp_(0, 1) for i in range(len(run.positions))])
        done[number] = FusionSequence(run=run, frames=inputs[run.positions, :3].contiguous(),
                                      styled=styled.half().cpu())
        if stop is not None and stop():
            break
    model.train(was_training)
    return [done[number] for number in sorted(done)]


def fusion_step(fusion: TemporalFusion, sequence: FusionSequence, crop: tuple[int, int, int, int],
                margin: int, weight: float, device: torch.device) -> tuple[torch.Tensor, float]:
    """Unrolled loss over one crop (top, left, height, width) of ``sequence``;
    the loss counts ``margin`` pixels in from the crop's edges, where the warps
    had what they needed. Returns (loss, mean blend weight)."""
    top, left, height, width = crop

    def cut(t: torch.Tensor) -> torch.Tensor:
        return t[..., top:top + height, left:left + width].to(device).float()

    styled, frames, run = cut(sequence.styled), cut(sequence.frames).div_(255), sequence.run
    motion, motion_valid = cut(run.motion), cut(run.motion_valid)
    loss_flow, loss_valid = cut(run.loss_flow), cut(run.loss_valid)
    inner = (..., slice(margin, height - margin), slice(margin, width - margin))
    previous = styled[0:1]
    total = styled.new_zeros(())
    alphas = []
    for t in range(1, styled.shape[0]):
        flow, valid = motion[t - 1:t], motion_valid[t - 1:t]
        warped_output, warped_frame = fusion.warp_previous(previous, frames[t - 1:t], flow)
        alpha = fusion.blend_weight(styled[t:t + 1], warped_output, frames[t:t + 1], warped_frame, valid)
        out = fusion.combine(styled[t:t + 1], warped_output, alpha)
        fidelity = fusion.departure(out, styled[t:t + 1])[inner].square().mean()
        mask = loss_valid[t - 1:t][inner]
        change = (out - warp(previous, loss_flow[t - 1:t]))[inner].square()
        temporal = (change * mask).sum() / (3 * mask.sum()).clamp_min(1.0)
        total = total + fidelity + weight * temporal
        alphas.append(float(alpha.detach().mean()))
        previous = out
    return total / (styled.shape[0] - 1), float(np.mean(alphas))


def train_fusion(model: Stylizer, inputs: torch.Tensor, runs: list[FusionRun], settings: TrainSettings, *,
                 seconds: float | None, steps: int | None, clock: Callable[[], float], device: torch.device,
                 rng: np.random.Generator, autocast: AbstractContextManager[Any] | None = None
                 ) -> tuple[TemporalFusion | None, dict[str, float]]:
    """Train the temporal stage until ``seconds`` (including the generator's
    outputs it needs, which may use at most half of them: then fewer runs are
    used) or ``steps`` (at most ``settings.fusion_steps``) run out.
    Returns (stage, summary); the stage is None when there are no runs or the
    budget left no step."""
    started = clock()
    # At large frame sizes the generator's outputs could take the whole share: keep half of it for steps.
    stop = None if seconds is None else (lambda: clock() - started >= seconds / 2)
    sequences = stylize_runs(model, inputs, runs, device, autocast, stop)
    height, width = inputs.shape[-2:]
    margin = min(settings.fusion_margin, (min(height, width) - 8) // 2)
    if not sequences or margin < 0:
        return None, {}
    torch.manual_seed(settings.seed + 2)
    # detail_gain 1 is the stage as it was before detail restoration: a plain blend, warped bilinearly.
    fusion = TemporalFusion(FusionConfig(flow_preset=FlowPreset.parse(settings.fusion_flow).value,
                                         warp_mode="bicubic" if settings.detail_gain > 1 else "bilinear",
                                         detail_gain=settings.detail_gain)).to(device)
    optimizer = torch.optim.Adam(fusion.parameters(), lr=settings.fusion_lr)
    crop_h, crop_w = min(height, settings.fusion_crop + 2 * margin), min(width, settings.fusion_crop + 2 * margin)
    weight = settings.temporal_weight * settings.fusion_weight
    losses, alphas, step = [], [], 0
    limit = min(settings.fusion_steps, steps if steps is not None else settings.fusion_steps)
    # Under a time share the step cap is rarely what ends it: no total, no misleading ETA.
    with progress(limit if seconds is None else None, "temporal stage", unit="step") as bar:
        while step < limit and (seconds is None or clock() - started < seconds):
            sequence = sequences[step % len(sequences)]
            crop = (int(rng.integers(0, height - crop_h + 1)), int(rng.integers(0, width - crop_w + 1)), crop_h, crop_w)
            loss, alpha = fusion_step(fusion, sequence, crop, margin, weight, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            alphas.append(alpha)
            step += 1
            bar.update(1)
            bar.set_postfix_str(f"loss={losses[-1]:.5f} blend={alpha:.2f}", refresh=False)
    if step == 0:
        return None, {}
    flush_negligible_weights(fusion)
    fusion.eval()
    tail = max(1, step // 5)
    return fusion, {"steps": step, "seconds": round(clock() - started, 1), "runs": len(sequences),
                    "loss": float(np.mean(losses[-tail:])), "blend_weight": float(np.mean(alphas[-tail:]))}
