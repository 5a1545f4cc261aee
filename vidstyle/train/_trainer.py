"""The few-shot trainer: ``train()`` sets up and runs the budget.

One step is in ``_step``, previews in ``_preview``, the temporal stage in ``_fusion``.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch

from .._device import resolve_device
from ..errors import InputError, Interrupted, UsageError
from ..flow import FlowCache, SourceId
from ..io import check_output
from ..models import (DEFAULT_ARCH, ModelConfig, PatchDiscriminator, Stylizer, VGGFeatureLoss,
                      find_vgg_weights, flush_negligible_weights, get_architecture, read_checkpoint,
                      save_checkpoint)
from ..progress import info, progress, warn
from ._fusion import prepare_runs, train_fusion
from ._data import Clip, PatchSampler, load_guides, load_keyframes, load_masks, texler_layout
from ._longclip import load_training_clip
from ._preview import preview_positions, write_contact_sheet, write_previews
from ._propagate import propagated_targets
from ._settings import (DEFAULT_MINUTES, TrainResult, TrainSettings, make_settings, thread_scope,
                        training_numerics)
from ._step import set_lr, train_step
from ._temporal import ClipFlows, training_pairs
from ._texture import PatchSlicedWasserstein

CHECKPOINT_EVERY_SECONDS = 120.0
FLUSH_EVERY = 50  # steps between flushes of negligible weights (denormal arithmetic is slow on CPU)
NORMALISATION = "RGB then guide channels, float in [0, 1]; output RGB in [0, 1]"


def train(input: str | Path, keyframes: str | Path | Mapping[int, np.ndarray], output: str | Path | None = None,
          *, masks: str | Path | None = None, guides: str | Path | None = None, auto_guides: bool = False,
          size: tuple[int, int] | None = None, start: float | None = None, end: float | None = None,
          minutes: float | None = None, steps: int | None = None, cpu_minutes: float | None = None,
          temporal_weight: float | None = None, compound_weight: float | None = None,
          propagation_weight: float | None = None, pair_weight: float | None = None,
          fusion_weight: float | None = None,
          gan_weight: float | None = None, texture_weight: float | None = None, arch: str = DEFAULT_ARCH,
          device: str = "auto",
          precision: str = "auto", seed: int = 0,
          resume: bool = False, preview_every: int = 0, preview_frames: list[int] | None = None,
          vgg_weights: str | Path | None = None, overwrite: bool = False, lr: float | None = None,
          patch_size: int | None = None, batch_size: int | None = None, lr_decay_start: float | None = None,
          threads: int | None = None,
          flow_cache: FlowCache | str | Path | None = None,
          callback: Callable[[dict[str, float]], None] | None = None) -> TrainResult:
    """Learn the style of painted keyframes; mirrors ``vidstyle train``.

    Args:
        input: video or frame folder.
        keyframes: folder of painted PNGs named by frame index (or a Texler
            ``_train`` folder), or a mapping {frame index: (H, W, 3) uint8 RGB}.
        output: checkpoint path (written atomically; None keeps it in memory).
        masks, guides: PNG folders named by frame index; ``auto_guides``
            generates guides with :mod:`vidstyle.guides`.
        size: training frame size (W, H); default the input's size.
        start, end: train on the frames in [start, end) seconds only (keyframe
            names stay source frame indices).
        minutes, steps: budget; training stops at whichever comes first
            (``steps`` counts from the start, also across ``resume``; with
            neither, ``DEFAULT_MINUTES``). ``cpu_minutes`` budgets process CPU
            time instead of wall time (for benchmarks on shared machines).
        temporal_weight: scales every temporal term (0 = off, a per-frame model):
            the keyframes propagated by flow to their neighbours (x
            ``propagation_weight``, patches per keyframe patch), the
            occlusion-masked warping loss between outputs of frame pairs (x
            ``pair_weight``) and the learned temporal stage trained after the
            generator (x ``fusion_weight``, the lambda of its warping loss;
            it takes ``fusion_share`` of the budget).
        compound_weight: weight of the flow-free compound regulariser (0 = off).
        texture_weight: weight of the patch-distribution loss that keeps the
            painted texture (:func:`patch_sliced_wasserstein`; 0 = L1 alone).
        arch: generator design, ``fast`` (default) or ``texler``.
        precision: ``auto`` (bf16 autocast where the GPU or CPU computes bf16
            natively, else fp32), ``fp32`` or ``bf16``; the weights stay fp32.
        resume: continue from ``output`` (step count, optimisers, RNG).
        preview_every: write preview PNGs every K steps (0 = only the final
            contact sheet, which needs ``output``).
        threads: CPU threads (default: the idle cores, see ``cpu_threads``).
        flow_cache: a :class:`vidstyle.flow.FlowCache` (or its folder) to read
            and store the temporal pairs' flows.
        callback: called with each step's loss record.

    Returns:
        :class:`TrainResult` with the trained :class:`Stylizer` (eval mode) and
        the per-step loss history.
    """
    if steps is not None and steps < 1:
        raise UsageError(f"--steps must be at least 1 (got {steps})")
    if minutes is not None and not minutes > 0:
        raise UsageError(f"--minutes must be positive (got {minutes})")
    if output is not None and not resume:
        check_output(output, [input] + ([keyframes] if isinstance(keyframes, (str, Path)) else []), overwrite)
    if resume and (output is None or not Path(output).is_file()):
        raise UsageError(f"--resume: no checkpoint to resume at {output}")
    get_architecture(arch)
    torch_device = resolve_device(device)
    numerics, autocast, channels_last = training_numerics(torch_device, precision)
    settings = make_settings(arch, temporal_weight=temporal_weight, compound_weight=compound_weight,
                             propagation_weight=propagation_weight, pair_weight=pair_weight,
                             fusion_weight=fusion_weight,
                             gan_weight=gan_weight, texture_weight=texture_weight, lr=lr, patch_size=patch_size,
                             batch_size=batch_size, seed=seed,
                             lr_decay_start=lr_decay_start)
    saved = read_checkpoint(output) if resume else None
    if saved is not None:  # the run continues with its own settings, design and size
        saved_config = ModelConfig.from_json(saved["config"]) if isinstance(saved, dict) and "config" in saved else None
        if saved_config is None or "training_state" not in saved or "settings" not in saved_config.info:
            raise InputError("--resume: this model file holds no training state", output)
        settings = TrainSettings(**saved_config.info["settings"])
        arch, size = settings.arch, size or saved_config.train_size
        saved_start, saved_end = saved_config.info.get("range", (None, None))  # the same frames as before
        start = saved_start if start is None else start
        end = saved_end if end is None else end
    if minutes is not None and cpu_minutes is not None:
        raise UsageError("give minutes or cpu_minutes, not both")
    clock = time.process_time if cpu_minutes is not None else time.perf_counter
    minutes = cpu_minutes if cpu_minutes is not None else minutes
    budget_seconds = minutes * 60 if minutes is not None else (None if steps else DEFAULT_MINUTES * 60)

    texler_masks = False
    if isinstance(keyframes, (str, Path)) and Path(keyframes).is_dir():
        layout = texler_layout(Path(keyframes))
        if layout and masks is None and "masks" in layout:
            masks, texler_masks = layout["masks"], True
    clip = load_training_clip(input, size, keyframes, start=start, end=end)  # a long one is sampled
    painted = load_keyframes(keyframes, clip)
    key_masks = load_masks(masks, painted, clip, texler_numbered=texler_masks)
    guide_frames = _guides(guides, auto_guides, clip, sorted(painted), None if texler_masks else masks)
    # A (N, C, H, W) view of the frames, not a copy: the clip can be long.
    inputs = torch.from_numpy(clip.frames).permute(0, 3, 1, 2)
    if guide_frames is not None:
        inputs = torch.cat((inputs, torch.from_numpy(guide_frames).permute(0, 3, 1, 2)), dim=1)

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    config = ModelConfig(arch=arch, guide_channels=inputs.shape[1] - 3, train_size=clip.size)
    # How the guides were made, so the renderer can make the same ones on the fly.
    auto_guide_recipe = {"keys": sorted(painted), "seed_masks": None if masks is None else str(masks)} \
        if auto_guides and guides is None else None
    model = Stylizer(config).to(torch_device)
    discriminator = PatchDiscriminator().to(torch_device) if settings.gan_weight > 0 else None
    vgg = _vgg_loss(vgg_weights, settings, torch_device)
    texture = PatchSlicedWasserstein(seed=settings.seed + 2) if settings.texture_weight > 0 else None
    if flow_cache is not None and not isinstance(flow_cache, FlowCache):
        flow_cache = FlowCache(flow_cache)
    source = SourceId.of_file(clip.path) if flow_cache is not None else None
    flows = ClipFlows(clip.frames, indices=clip.indices, cache=flow_cache, source=source, runs=clip.runs)
    pairs = training_pairs(clip, settings, flows)
    propagated = propagated_targets(clip, painted, key_masks, settings, flows)
    fusion_runs = prepare_runs(flows, settings) if settings.temporal_weight * settings.fusion_weight > 0 else []
    fusion_on = bool(fusion_runs)
    # The generator gets the budget less the temporal stage's share.
    generator_seconds = budget_seconds * (1 - settings.fusion_share) if fusion_on and budget_seconds else budget_seconds
    losses = ["l1"] + (["gan"] if discriminator else []) + (["vgg"] if vgg else []) + \
        (["texture"] if texture else []) + \
        (["temporal"] if pairs else []) + (["compound"] if settings.compound_weight > 0 else [])
    info(f"training {arch} on {len(painted)} keyframe(s) {sorted(painted)} at {clip.size[0]}x{clip.size[1]}, "
         f"{torch_device} {numerics.value}; losses: " + ", ".join(_describe(name, settings) for name in losses)
         + (f"; keyframes propagated by flow to {len(propagated)} frames" if propagated else "")
         + (f"; then a learned temporal stage (warping loss x{settings.temporal_weight * settings.fusion_weight:g})"
            if fusion_on else "")
         + ("" if vgg or settings.vgg_weight <= 0 else
            " (perceptual VGG loss off: no --vgg-weights and no VGG19 file in the torch hub cache)"))

    opt_g = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=(0.9, 0.999), weight_decay=1e-5)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=(0.9, 0.999),
                             weight_decay=1e-5) if discriminator else None
    temporal_rng = torch.Generator().manual_seed(settings.seed + 1)
    key_pos = {index: clip.position(index) for index in painted}
    targets = {index: torch.from_numpy(image).permute(2, 0, 1).contiguous() for index, image in painted.items()}
    sample_masks, weights = dict(key_masks), dict.fromkeys(key_masks, 1.0)
    pixel_masks: dict[int, torch.Tensor] = {}  # per-pixel loss masks of the propagated targets
    for item in propagated:
        index = clip.indices[item.position]
        key_pos[index], sample_masks[index] = item.position, item.valid
        targets[index] = torch.from_numpy(item.target).permute(2, 0, 1).contiguous()
        pixel_masks[index] = torch.from_numpy(item.valid)[None]
        weights[index] = settings.temporal_weight * settings.propagation_weight
    sampler = PatchSampler(sample_masks, settings.patch_size, rng, weights)
    step, elapsed, history = 0, 0.0, []
    if saved is not None:
        state = saved["training_state"]
        model.net.load_state_dict(saved["state_dict"])
        opt_g.load_state_dict(state["opt_g"])
        if discriminator is not None:
            discriminator.load_state_dict(state["discriminator"])
            opt_d.load_state_dict(state["opt_d"])
        step, elapsed = int(state["step"]), float(state["seconds"])
        # NaN marks a loss that step did not compute (e.g. the temporal term every k-th step).
        history = [{k: v for k, v in zip(state["history_keys"], row) if not math.isnan(v)}
                   for row in state["history"]]
        torch.set_rng_state(state["torch_rng"])
        temporal_rng.set_state(state["temporal_rng"])
        if texture is not None and state.get("texture_rng") is not None:
            texture.generator.set_state(state["texture_rng"])
        rng.bit_generator.state = state["numpy_rng"]
        sampler.load_state(state["sampler"])
        info(f"resuming at step {step} ({elapsed:.0f} s trained)")

    def training_state() -> dict[str, Any]:
        keys = sorted({k for row in history for k in row})
        return {"step": step, "seconds": elapsed, "opt_g": opt_g.state_dict(),
                "discriminator": discriminator.state_dict() if discriminator else {},
                "opt_d": opt_d.state_dict() if opt_d else {}, "history_keys": keys,
                "history": [[float(row.get(k, math.nan)) for k in keys] for row in history],
                "torch_rng": torch.get_rng_state(), "temporal_rng": temporal_rng.get_state(),
                "texture_rng": texture.generator.get_state() if texture else None,
                "numpy_rng": rng.bit_generator.state, "sampler": sampler.state()}

    fusion_summary: dict[str, float] = {}

    def save() -> None:
        config.info = {"settings": settings.to_dict(), "steps": step, "seconds": round(elapsed, 1),
                       "range": [start, end], "keyframes": sorted(painted), "losses": losses,
                       "normalisation": NORMALISATION,
                       "final_loss": history[-1] if history else {}, "auto_guides": auto_guide_recipe,
                       "temporal_stage": fusion_summary}
        save_checkpoint(output, model, training_state=training_state(), overwrite=True)

    shown = preview_positions(clip, painted, preview_frames)
    previews: list[Path] = []
    model.train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    start_step, session_start = step, clock()
    last_save = time.perf_counter()
    stopped_by = "steps"
    total = steps if steps is not None else None

    def keep_on_interrupt(what: str) -> contextlib.AbstractContextManager[None]:
        return _keep_on_interrupt(save if output is not None else None, lambda: step > start_step,
                                  lambda: f"saved {what} at step {step} to {output} (continue with --resume)")

    with keep_on_interrupt("the model"), thread_scope(torch_device, threads), \
            progress(total, "train", unit="step") as bar:
        bar.update(step if total else 0)
        while True:
            session = clock() - session_start
            if steps is not None and step >= steps:
                stopped_by = "steps"
                break
            if generator_seconds is not None and session >= generator_seconds:
                stopped_by = "time"
                break
            fraction = max(step / steps if steps else 0.0, session / generator_seconds if generator_seconds else 0.0)
            set_lr(opt_g, settings, fraction)
            # The temporal term costs more than the patch batch; applying it every
            # k-th step with k times the weight keeps its expected gradient.
            # It also starts late: early on, pulling outputs together over time
            # fights the fit to the keyframes.
            temporal_on = fraction >= settings.temporal_start and step % settings.temporal_every == 0
            temporal_now = pairs if temporal_on else []
            record = train_step(model, discriminator, vgg, opt_g, opt_d, settings, inputs, targets, key_pos,
                                 pixel_masks, sampler, temporal_now, temporal_rng, rng, torch_device, autocast,
                                 texture)
            step += 1
            elapsed += clock() - session_start - session
            record.update(step=step, seconds=elapsed)
            history.append(record)
            if callback is not None:
                callback(record)
            bar.update(1)
            left = "" if generator_seconds is None else f" left={max(0, generator_seconds - session):.0f}s"
            bar.set_postfix_str(" ".join(f"{k}={record[k]:.4f}" for k in losses if k in record) + left,
                                refresh=False)
            if step % FLUSH_EVERY == 0:
                for network in (model, discriminator):
                    if network is not None:
                        flush_negligible_weights(network)
            if output is not None and preview_every and step % preview_every == 0:
                previews += write_previews(model, inputs, shown, clip, output, step, torch_device)
            if output is not None and time.perf_counter() - last_save > CHECKPOINT_EVERY_SECONDS:
                save()
                last_save = time.perf_counter()
    if step == start_step:
        warn("no training step was run (the budget was already used up)")
    model.eval()
    flush_negligible_weights(model)
    rate = (step - start_step) / max(1e-9, clock() - session_start)
    if fusion_on:
        with keep_on_interrupt("the generator (the temporal stage was not finished)"), \
                thread_scope(torch_device, threads):
            left = None if budget_seconds is None else budget_seconds - (clock() - session_start)
            # A step budget gives the stage the same share, in steps, as a time budget does.
            share = None if steps is None else max(1, math.ceil(steps * settings.fusion_share / (1 - settings.fusion_share)))
            fusion, fusion_summary = train_fusion(model, inputs, fusion_runs, settings, seconds=left, steps=share,
                                                  clock=clock, device=torch_device, rng=rng,
                                                  autocast=autocast)
        model.attach_fusion(fusion)
        if fusion is None:
            warn("no budget was left for the temporal stage: the model is per-frame (give more time)")
        else:
            info(f"temporal stage: {fusion_summary['steps']} steps in {fusion_summary['seconds']:.0f} s, "
                 f"mean blend weight {fusion_summary['blend_weight']:.2f}")
    sheet = None
    if output is not None:
        save()
        sheet = write_contact_sheet(model, inputs, shown, clip, painted, output, torch_device)
    info(f"trained {step} steps ({rate:.1f} steps/s), final loss {history[-1]['total'] if history else math.nan:.4f}"
         + (f"; wrote {output}" if output else ""))
    return TrainResult(model=model.to(memory_format=torch.contiguous_format), output=Path(output) if output else None,
                       steps=step, seconds=elapsed, stopped_by=stopped_by, losses=losses,
                       keyframes=sorted(painted), history=history, previews=previews, contact_sheet=sheet,
                       settings=settings, temporal_stage=fusion_summary)


@contextlib.contextmanager
def _keep_on_interrupt(save: Callable[[], None] | None, worth_saving: Callable[[], bool],
                       describe: Callable[[], str]) -> Iterator[None]:
    """On Ctrl-C, save the training so far (an atomic, resumable checkpoint) and
    say so, instead of losing minutes of work; nothing is saved before the first step."""
    try:
        yield
    except KeyboardInterrupt:
        if save is None or not worth_saving():
            raise
        save()
        raise Interrupted(describe()) from None


def _vgg_loss(weights: str | Path | None, settings: TrainSettings, device: torch.device) -> VGGFeatureLoss | None:
    if settings.vgg_weight <= 0:
        return None
    path = Path(weights) if weights is not None else find_vgg_weights()
    return VGGFeatureLoss(path).to(device) if path is not None else None


def _guides(guides: str | Path | None, auto_guides: bool, clip: Clip, keys: list[int],
            masks: str | Path | None) -> np.ndarray | None:
    if guides is not None and auto_guides:
        raise UsageError("give --guides or --auto-guides, not both")
    if guides is not None:
        return load_guides(guides, clip)
    if not auto_guides:
        return None
    from ..guides import generate_guides

    wanted = set(clip.indices)  # of a sampled clip, only its frames are kept
    by_index = {index: guide for index, guide in generate_guides(clip.path, keys, seed_masks=masks, size=clip.size)
                if index in wanted}
    return np.stack([by_index[index] for index in clip.indices])


def _describe(name: str, settings: TrainSettings) -> str:
    weights = {"l1": 1.0, "gan": settings.gan_weight, "vgg": settings.vgg_weight,
               "texture": settings.texture_weight,
               "temporal": settings.temporal_weight * settings.pair_weight, "compound": settings.compound_weight}
    return f"{name} x{weights[name]:g}"
