"""``TrainingRun``: one training session's state, restored from, stepped and saved to a checkpoint."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models import (ModelConfig, PatchDiscriminator, Stylizer, VGGFeatureLoss, flush_negligible_weights,
                      save_checkpoint)
from ..progress import info
from ._data import PatchSampler
from ._settings import TrainSettings
from ._step import set_lr, train_step
from ._temporal import TrainingPair
from ._texture import PatchSlicedWasserstein

FLUSH_EVERY = 50  # steps between flushes of negligible weights (denormal arithmetic is slow on CPU)
NORMALISATION = "RGB then guide channels, float in [0, 1]; output RGB in [0, 1]"


class TrainingRun:
    """The generator (and discriminator) with their optimisers, the random streams,
    the patch sampler and the loss history of one training session.

    ``inputs`` is (N, 3 + guides, H, W) uint8, ``targets`` {frame index: (3, H, W)
    uint8} (keyframes and propagated keyframes), ``key_pos`` {frame index: position
    in ``inputs``}, ``pixel_masks`` {frame index: (1, H, W) bool} for the
    propagated targets. :meth:`restore` continues a checkpoint, :meth:`step` runs
    one optimisation step, :meth:`save` writes a resumable checkpoint.
    """

    def __init__(self, *, settings: TrainSettings, config: ModelConfig, model: Stylizer,
                 discriminator: PatchDiscriminator | None, vgg: VGGFeatureLoss | None,
                 texture: PatchSlicedWasserstein | None, inputs: torch.Tensor, targets: dict[int, torch.Tensor],
                 key_pos: dict[int, int], pixel_masks: dict[int, torch.Tensor], sampler: PatchSampler,
                 pairs: list[TrainingPair], rng: np.random.Generator, device: torch.device, autocast: Any,
                 losses: list[str], facts: dict[str, Any]) -> None:
        self.settings, self.config, self.model = settings, config, model
        self.discriminator, self.vgg, self.texture = discriminator, vgg, texture
        self.inputs, self.targets, self.key_pos, self.pixel_masks = inputs, targets, key_pos, pixel_masks
        self.sampler, self.pairs, self.rng, self.device, self.autocast = sampler, pairs, rng, device, autocast
        self.losses = losses
        self.facts = facts  # what the checkpoint records besides the state: range, keyframes, auto_guides
        # fused: one kernel for all parameters (a step of batch 8 took 1.5 ms less on the CPU)
        self.opt_g = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=(0.9, 0.999), weight_decay=1e-5,
                                      fused=device.type in ("cpu", "cuda"))
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=(0.9, 0.999),
                                      weight_decay=1e-5) if discriminator else None
        self.temporal_rng = torch.Generator().manual_seed(settings.seed + 1)
        self.steps, self.seconds = 0, 0.0
        self.history: list[dict[str, float]] = []
        self.temporal_stage: dict[str, float] = {}
        self.memory_format = torch.contiguous_format

    def use_channels_last(self) -> None:
        """Train the generator in channels_last, its patch batches too: with the batches left
        contiguous, a ``fast`` step of batch 8 on one CPU thread spent 5 ms converting its
        decoder's concatenation between the two layouts."""
        self.model = self.model.to(memory_format=torch.channels_last)
        self.memory_format = torch.channels_last

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a checkpoint's training state (weights, optimisers, RNG, sampler, history)."""
        state = saved["training_state"]
        self.model.net.load_state_dict(saved["state_dict"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])  # type: ignore[union-attr]
        self.steps, self.seconds = int(state["step"]), float(state["seconds"])
        # NaN marks a loss that step did not compute (e.g. the temporal term every k-th step).
        self.history = [{k: v for k, v in zip(state["history_keys"], row) if not math.isnan(v)}
                        for row in state["history"]]
        torch.set_rng_state(state["torch_rng"])
        self.temporal_rng.set_state(state["temporal_rng"])
        if self.texture is not None and state.get("texture_rng") is not None:
            self.texture.generator.set_state(state["texture_rng"])
        self.rng.bit_generator.state = state["numpy_rng"]
        self.sampler.load_state(state["sampler"])
        info(f"resuming at step {self.steps} ({self.seconds:.0f} s trained)")

    def step(self, fraction: float) -> dict[str, float]:
        """One optimisation step at ``fraction`` of the budget; returns its loss record
        (not yet timed: see :meth:`log`)."""
        settings = self.settings
        set_lr(self.opt_g, settings, fraction)
        # The temporal term costs more than the patch batch; applying it every
        # k-th step with k times the weight keeps its expected gradient.
        # It also starts late: early on, pulling outputs together over time
        # fights the fit to the keyframes.
        temporal_on = fraction >= settings.temporal_start and self.steps % settings.temporal_every == 0
        record = train_step(self.model, self.discriminator, self.vgg, self.opt_g, self.opt_d, settings, self.inputs,
                            self.targets, self.key_pos, self.pixel_masks, self.sampler,
                            self.pairs if temporal_on else [], self.temporal_rng, self.rng, self.device,
                            self.autocast, self.texture, memory_format=self.memory_format)
        self.steps += 1
        return record

    def log(self, record: dict[str, float], seconds: float) -> None:
        """Count ``seconds`` of training for the step just run and keep its record."""
        self.seconds += seconds
        record.update(step=self.steps, seconds=self.seconds)
        self.history.append(record)
        if self.steps % FLUSH_EVERY == 0:
            for network in (self.model, self.discriminator):
                if network is not None:
                    flush_negligible_weights(network)

    def training_state(self) -> dict[str, Any]:
        keys = sorted({k for row in self.history for k in row})
        return {"step": self.steps, "seconds": self.seconds, "opt_g": self.opt_g.state_dict(),
                "discriminator": self.discriminator.state_dict() if self.discriminator else {},
                "opt_d": self.opt_d.state_dict() if self.opt_d else {}, "history_keys": keys,
                "history": [[float(row.get(k, math.nan)) for k in keys] for row in self.history],
                "torch_rng": torch.get_rng_state(), "temporal_rng": self.temporal_rng.get_state(),
                "texture_rng": self.texture.generator.get_state() if self.texture else None,
                "numpy_rng": self.rng.bit_generator.state, "sampler": self.sampler.state()}

    def save(self, output: str | Path) -> None:
        """Write the model and its training state to ``output`` (atomically; resumable)."""
        self.config.info = {"settings": self.settings.to_dict(), "steps": self.steps,
                            "seconds": round(self.seconds, 1), "range": self.facts["range"],
                            "keyframes": self.facts["keyframes"], "losses": self.losses,
                            "normalisation": NORMALISATION,
                            "final_loss": self.history[-1] if self.history else {},
                            "auto_guides": self.facts["auto_guides"], "temporal_stage": self.temporal_stage,
                            "colour_map": self.facts.get("colour_map")}
        save_checkpoint(output, self.model, training_state=self.training_state(), overwrite=True)
