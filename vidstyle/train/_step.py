"""One optimisation step of the generator (and discriminator), and the learning-rate schedule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..models import PatchDiscriminator, Stylizer, VGGFeatureLoss, lsgan_loss
from ._data import PatchSampler
from ._settings import TrainSettings
from ._texture import PatchSlicedWasserstein
from ._temporal import TrainingPair, compound_regularization, crop_pair_batch, masked_l1, warp_into_crop


def mirror_patches(flip: np.ndarray, *batches: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
    """Each (B, C, H, W) batch (None passes through) with the patches where (B,) bool ``flip`` is
    True mirrored left-right: a source patch, its painting and its mask stay together."""
    where = torch.from_numpy(np.asarray(flip, dtype=bool))[:, None, None, None]
    return tuple(None if batch is None else torch.where(where, batch.flip(-1), batch) for batch in batches)


def train_step(model: Stylizer, discriminator: PatchDiscriminator | None, vgg: VGGFeatureLoss | None,
                opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None, settings: TrainSettings,
                inputs: torch.Tensor, targets: dict[int, torch.Tensor], key_pos: dict[int, int],
                pixel_masks: dict[int, torch.Tensor], sampler: PatchSampler, pairs: list[TrainingPair], temporal_rng: torch.Generator,
                rng: np.random.Generator, device: torch.device, autocast: Any,
                texture: PatchSlicedWasserstein | None = None, *,
                memory_format: torch.memory_format = torch.contiguous_format) -> dict[str, float]:
    size = settings.patch_size
    picks = sampler.sample(settings.batch_size)
    x = torch.stack([inputs[key_pos[k], :, t:t + size, l:l + size] for k, t, l in picks])
    y = torch.stack([targets[k][:, t:t + size, l:l + size] for k, t, l in picks])
    # Propagated targets count only where their flow was trusted; keyframes everywhere.
    mask = None
    if any(k in pixel_masks for k, _, _ in picks):
        full = torch.ones(1, size, size, dtype=torch.bool)
        mask = torch.stack([pixel_masks[k][:, t:t + size, l:l + size] if k in pixel_masks else full
                            for k, t, l in picks])
    if settings.mirror > 0:
        x, y, mask = mirror_patches(rng.random(len(picks)) < settings.mirror, x, y, mask)
    x = x.to(device).float().div_(255).contiguous(memory_format=memory_format)
    y = y.to(device).float().div_(255).contiguous(memory_format=memory_format)
    mask = None if mask is None else mask.to(device).float()
    record: dict[str, float] = {}
    with autocast:
        out = model(x)
        loss_l1 = masked_l1(out, y, mask)
        total = loss_l1
        record["l1"] = loss_l1.item()
        if texture is not None:
            # Only where the whole target is trusted (keyframes; not the masked propagated targets).
            whole = [i for i, (k, _, _) in enumerate(picks) if k not in pixel_masks]
            if whole:
                loss_tex = texture(out[whole].float(), y[whole])
                total = total + settings.texture_weight * loss_tex
                record["texture"] = loss_tex.item()
        if discriminator is not None:
            loss_gan = lsgan_loss(discriminator(out), real=True)
            total = total + settings.gan_weight * loss_gan
            record["gan"] = loss_gan.item()
        if vgg is not None:
            loss_vgg = vgg(out, y)
            total = total + settings.vgg_weight * loss_vgg
            record["vgg"] = loss_vgg.item()
        if pairs:
            loss_t = temporal_term(model, inputs, pairs, settings, rng, device)
            total = total + settings.temporal_weight * settings.pair_weight * settings.temporal_every * loss_t
            record["temporal"] = loss_t.item()
        if settings.compound_weight > 0:
            positions = rng.integers(0, inputs.shape[0], size=2)
            crop = min(settings.temporal_crop, inputs.shape[-1], inputs.shape[-2])
            top = rng.integers(0, inputs.shape[-2] - crop + 1, size=2)
            left = rng.integers(0, inputs.shape[-1] - crop + 1, size=2)
            batch = torch.stack([inputs[p, :, t:t + crop, l:l + crop] for p, t, l in zip(positions, top, left)])
            loss_c = compound_regularization(model, batch.to(device).float().div_(255), rng=temporal_rng)
            total = total + settings.compound_weight * loss_c
            record["compound"] = loss_c.item()
    opt_g.zero_grad(set_to_none=True)
    total.backward()
    record["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                               settings.grad_clip or math.inf))
    opt_g.step()
    record["total"] = total.item()
    if discriminator is not None and opt_d is not None:
        with autocast:
            loss_d = 0.5 * (lsgan_loss(discriminator(y), real=True) + lsgan_loss(discriminator(out.detach()), real=False))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        record["discriminator"] = loss_d.item()
    return record


def temporal_term(model: Stylizer, inputs: torch.Tensor, pairs: list[TrainingPair], settings: TrainSettings,
                   rng: np.random.Generator, device: torch.device) -> torch.Tensor:
    height, width = inputs.shape[-2:]
    margin = settings.temporal_margin
    crop = min(settings.temporal_crop, height - 2 * margin, width - 2 * margin)
    picks = [(int(rng.integers(len(pairs))), int(rng.integers(margin, height - margin - crop + 1)),
              int(rng.integers(margin, width - margin - crop + 1))) for _ in range(settings.temporal_batch)]
    crops_a, crops_b, flow, mask = crop_pair_batch(pairs, inputs, picks, crop, margin, device)
    out_a = model(crops_a)
    out_b = model(crops_b)
    return masked_l1(out_a, warp_into_crop(out_b, flow, margin), mask)


def set_lr(optimizer: torch.optim.Optimizer, settings: TrainSettings, fraction: float) -> None:
    """Constant rate, then a cosine decay to 10 % over the end of the budget."""
    start = settings.lr_decay_start
    scale = 1.0 if fraction <= start or start >= 1.0 else 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, (fraction - start) / (1 - start))))
    for group in optimizer.param_groups:
        group["lr"] = settings.lr * scale
