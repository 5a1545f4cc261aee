"""The few-shot trainer: ``train()`` sets up a :class:`TrainingRun` and runs the budget.

One step is in ``_step``, the run's state in ``_run``, previews in ``_preview``, the
temporal stage in ``_fusion``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch

from .._defaults import EDGE_INPUT
from .._device import resolve_device
from ..errors import InputError, Interrupted, UsageError
from ..flow import FlowCache, SourceId
from ..io import check_output
from ..models import (ModelConfig, PatchDiscriminator, Stylizer, VGGFeatureLoss, find_vgg_weights,
                      flush_negligible_weights, get_architecture, read_checkpoint)
from ..progress import info, progress, warn
from ._fusion import prepare_runs, train_fusion
from ._colour import calibrate_colours
from ._data import Clip, PatchSampler, load_guides, load_keyframes, load_masks, texler_layout
from ._longclip import load_training_clip
from ._options import TrainOptions
from ._preview import preview_positions, write_contact_sheet, write_previews
from ._propagate import propagated_targets
from ._run import TrainingRun
from ._settings import (DEFAULT_MINUTES, TrainResult, TrainSettings, make_settings, thread_scope,
                        training_numerics)
from ._temporal import ClipFlows, training_pairs
from ._texture import PatchSlicedWasserstein

CHECKPOINT_EVERY_SECONDS = 120.0


def _edge_option(o: TrainOptions) -> str:
    """The option that asked for the edge input, to name in an error."""
    return "line_art" if o.line_art and not o.edges else "edges"


def _build_options(arch: str, o: TrainOptions) -> dict[str, Any]:
    """A new model's build options: ``o.arch_options`` with the edge input (a ``fast`` option) folded in
    (what ``arch_options`` gives explicitly, e.g. ``edge_ridges``, stands)."""
    options = dict(o.arch_options or {})
    if o.edge_input:
        if arch != "fast":
            raise UsageError(f"{_edge_option(o)} (the edge input) is an option of the fast design, not {arch}",
                             params=(_edge_option(o), "arch"))
        options = {**EDGE_INPUT, **options}
    return options


def train(input: str | Path, keyframes: str | Path | Mapping[int, np.ndarray], output: str | Path | None = None,
          options: TrainOptions | None = None, **overrides: Any) -> TrainResult:
    """Learn the style of painted keyframes; mirrors ``vidstyle train``.

    Args:
        input: video or frame folder.
        keyframes: folder of painted PNGs named by frame index (or a Texler
            ``_train`` folder), or a mapping {frame index: (H, W, 3) uint8 RGB}.
        output: checkpoint path (written atomically; None keeps it in memory).
        options: :class:`TrainOptions` (budget, loss weights, design, device, ...);
            keyword arguments set its fields too, e.g. ``train(clip, keys,
            "model.pt", minutes=2, arch="texler")``.

    Returns:
        :class:`TrainResult` with the trained :class:`Stylizer` (eval mode) and
        the per-step loss history.
    """
    o = dataclasses.replace(options or TrainOptions(), **overrides)
    if o.steps is not None and o.steps < 1:
        raise UsageError(f"steps must be at least 1 (got {o.steps})", params=("steps",))
    if o.minutes is not None and not o.minutes > 0:
        raise UsageError(f"minutes must be positive (got {o.minutes})", params=("minutes",))
    if output is not None and not o.resume:
        check_output(output, [input] + ([keyframes] if isinstance(keyframes, (str, Path)) else []), o.overwrite)
    if o.resume and (output is None or not Path(output).is_file()):
        raise UsageError(f"resume: no checkpoint to resume at {output}", params=("resume",))
    get_architecture(o.arch)
    torch_device = resolve_device(o.device)
    settings = make_settings(o.arch, **o.setting_overrides())
    arch, size, start, end, masks = o.arch, o.size, o.start, o.end, o.masks
    saved = read_checkpoint(output) if o.resume else None
    if saved is not None:  # the run continues with its own settings, design and size
        saved_config = ModelConfig.from_json(saved["config"]) if isinstance(saved, dict) and "config" in saved else None
        if saved_config is None or "training_state" not in saved or "settings" not in saved_config.info:
            raise InputError("resume: this model file holds no training state", output, params=("resume",))
        settings = TrainSettings(**saved_config.info["settings"])
        arch, size = settings.arch, size or saved_config.train_size
        saved_start, saved_end = saved_config.info.get("range", (None, None))  # the same frames as before
        if o.edge_input and not saved_config.arch_options.get("edges"):
            raise UsageError(f"{_edge_option(o)}: the model being resumed was built without the edge input, and "
                             "a resumed run keeps its build (train a new model for it)",
                             params=(_edge_option(o), "resume"))
        start = saved_start if start is None else start
        end = saved_end if end is None else end
    # A resumed run keeps the build options it started with; a new one's are checked before any work.
    arch_options = dict(saved_config.arch_options) if saved is not None else _build_options(arch, o)
    numerics, autocast, channels_last = training_numerics(
        torch_device, o.precision, cpu_channels_last=get_architecture(arch).cpu_channels_last)
    if o.minutes is not None and o.cpu_minutes is not None:
        raise UsageError("give minutes or cpu_minutes, not both")
    clock = time.process_time if o.cpu_minutes is not None else time.perf_counter
    minutes = o.cpu_minutes if o.cpu_minutes is not None else o.minutes
    steps = o.steps
    budget_seconds = minutes * 60 if minutes is not None else (None if steps else DEFAULT_MINUTES * 60)

    texler_masks = False
    if isinstance(keyframes, (str, Path)) and Path(keyframes).is_dir():
        layout = texler_layout(Path(keyframes))
        if layout and masks is None and "masks" in layout:
            masks, texler_masks = layout["masks"], True
    clip = load_training_clip(input, size, keyframes, start=start, end=end)  # a long one is sampled
    painted = load_keyframes(keyframes, clip)
    key_masks = load_masks(masks, painted, clip, texler_numbered=texler_masks)
    guide_frames = _guides(o.guides, o.auto_guides, clip, sorted(painted), None if texler_masks else masks)
    # A (N, C, H, W) view of the frames, not a copy: the clip can be long.
    inputs = torch.from_numpy(clip.frames).permute(0, 3, 1, 2)
    if guide_frames is not None:
        inputs = torch.cat((inputs, torch.from_numpy(guide_frames).permute(0, 3, 1, 2)), dim=1)

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    config = ModelConfig(arch=arch, guide_channels=inputs.shape[1] - 3, train_size=clip.size,
                         arch_options=arch_options)
    # How the guides were made, so the renderer can make the same ones on the fly.
    auto_guide_recipe = {"keys": sorted(painted), "seed_masks": None if masks is None else str(masks)} \
        if o.auto_guides and o.guides is None else None
    model = Stylizer(config).to(torch_device)
    discriminator = PatchDiscriminator().to(torch_device) if settings.gan_weight > 0 else None
    vgg = _vgg_loss(o.vgg_weights, settings, torch_device)
    texture = PatchSlicedWasserstein(seed=settings.seed + 2) if settings.texture_weight > 0 else None
    flow_cache = o.flow_cache
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
         + (f"; {settings.detail_sampling:.0%} of the patches drawn by the painting's gradient energy"
            if settings.detail_sampling > 0 else "")
         + (f"; {settings.mirror:.0%} of the patches mirrored left-right" if settings.mirror > 0 else "")
         + (f"; keyframes propagated by flow to {len(propagated)} frames" if propagated else "")
         + (f"; then a learned temporal stage (warping loss x{settings.temporal_weight * settings.fusion_weight:g})"
            if fusion_on else "")
         + ("" if vgg or settings.vgg_weight <= 0 else
            " (perceptual VGG loss off: no vgg_weights and no VGG19 file in the torch hub cache)"),
         params=("vgg_weights",))

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
    run = TrainingRun(settings=settings, config=config, model=model, discriminator=discriminator, vgg=vgg,
                      texture=texture, inputs=inputs, targets=targets, key_pos=key_pos, pixel_masks=pixel_masks,
                      sampler=PatchSampler(sample_masks, settings.patch_size, rng, weights,
                                           emphasis=settings.detail_sampling,
                                           paintings={k: t.permute(1, 2, 0).numpy() for k, t in targets.items()}
                                           if settings.detail_sampling > 0 else None),
                      pairs=pairs, rng=rng,
                      device=torch_device, autocast=autocast, losses=losses,
                      facts={"range": [start, end], "keyframes": sorted(painted), "auto_guides": auto_guide_recipe,
                             # a resumed run's weights carry its earlier map until it is calibrated again
                             "colour_map": saved_config.info.get("colour_map") if saved is not None else None})
    if saved is not None:
        run.restore(saved)

    shown = preview_positions(clip, painted, o.preview_frames)
    previews: list[Path] = []
    run.model.train()
    if channels_last:
        run.use_channels_last()
    start_step, session_start = run.steps, clock()
    last_save = time.perf_counter()
    stopped_by = "steps"
    total = steps if steps is not None else None

    def keep_on_interrupt(what: str) -> contextlib.AbstractContextManager[None]:
        return _keep_on_interrupt((lambda: run.save(output)) if output is not None else None,
                                  lambda: run.steps > start_step,
                                  lambda: f"saved {what} at step {run.steps} to {output} (continue with resume=True)")

    with keep_on_interrupt("the model"), thread_scope(torch_device, o.threads), \
            progress(total, "train", unit="step") as bar:
        bar.update(run.steps if total else 0)
        while True:
            session = clock() - session_start
            if steps is not None and run.steps >= steps:
                stopped_by = "steps"
                break
            if generator_seconds is not None and session >= generator_seconds:
                stopped_by = "time"
                break
            fraction = max(run.steps / steps if steps else 0.0,
                           session / generator_seconds if generator_seconds else 0.0)
            record = run.step(fraction)
            run.log(record, clock() - session_start - session)
            if o.callback is not None:
                o.callback(record)
            bar.update(1)
            left = "" if generator_seconds is None else f" left={max(0, generator_seconds - session):.0f}s"
            bar.set_postfix_str(" ".join(f"{k}={record[k]:.4f}" for k in losses if k in record) + left,
                                refresh=False)
            if output is not None and o.preview_every and run.steps % o.preview_every == 0:
                previews += write_previews(run.model, inputs, shown, clip, output, run.steps, torch_device)
            if output is not None and time.perf_counter() - last_save > CHECKPOINT_EVERY_SECONDS:
                run.save(output)
                last_save = time.perf_counter()
    if run.steps == start_step:
        warn("no training step was run (the budget was already used up)")
    model = run.model
    model.eval()
    flush_negligible_weights(model)
    if settings.colour_calibration > 0 and run.steps > start_step:
        colour = calibrate_colours(model, inputs, {k: targets[k] for k in painted}, key_pos, key_masks,
                                   strength=settings.colour_calibration, device=torch_device)
        run.facts["colour_map"] = colour
        info("colours calibrated on the keyframes: " + _describe_colour_map(colour))
    rate = (run.steps - start_step) / max(1e-9, clock() - session_start)
    if fusion_on:
        with keep_on_interrupt("the generator (the temporal stage was not finished)"), \
                thread_scope(torch_device, o.threads):
            left = None if budget_seconds is None else budget_seconds - (clock() - session_start)
            # A step budget gives the stage the same share, in steps, as a time budget does.
            share = None if steps is None else \
                max(1, math.ceil(steps * settings.fusion_share / (1 - settings.fusion_share)))
            fusion, run.temporal_stage = train_fusion(model, inputs, fusion_runs, settings, seconds=left,
                                                      steps=share, clock=clock, device=torch_device, rng=rng,
                                                      autocast=autocast)
        model.attach_fusion(fusion)
        if fusion is None:
            warn("no budget was left for the temporal stage: the model is per-frame (give more time)")
        else:
            info(f"temporal stage: {run.temporal_stage['steps']} steps in {run.temporal_stage['seconds']:.0f} s, "
                 f"mean blend weight {run.temporal_stage['blend_weight']:.2f}")
    sheet = None
    if output is not None:
        run.save(output)
        sheet = write_contact_sheet(model, inputs, shown, clip, painted, output, torch_device)
    history = run.history
    info(f"trained {run.steps} steps ({rate:.1f} steps/s), final loss "
         f"{history[-1]['total'] if history else math.nan:.4f}" + (f"; wrote {output}" if output else ""))
    return TrainResult(model=model.to(memory_format=torch.contiguous_format), output=Path(output) if output else None,
                       steps=run.steps, seconds=run.seconds, stopped_by=stopped_by, losses=losses,
                       keyframes=sorted(painted), history=history, previews=previews, contact_sheet=sheet,
                       settings=settings, temporal_stage=run.temporal_stage)


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
        raise Interrupted(describe(), params=("resume",)) from None


def _vgg_loss(weights: str | Path | None, settings: TrainSettings, device: torch.device) -> VGGFeatureLoss | None:
    if settings.vgg_weight <= 0:
        return None
    path = Path(weights) if weights is not None else find_vgg_weights()
    return VGGFeatureLoss(path).to(device) if path is not None else None


def _guides(guides: str | Path | None, auto_guides: bool, clip: Clip, keys: list[int],
            masks: str | Path | None) -> np.ndarray | None:
    if guides is not None and auto_guides:
        raise UsageError("give guides or auto_guides, not both", params=("guides", "auto_guides"))
    if guides is not None:
        return load_guides(guides, clip)
    if not auto_guides:
        return None
    from ..guides import generate_guides

    wanted = set(clip.indices)  # of a sampled clip, only its frames are kept
    by_index = {index: guide for index, guide in generate_guides(clip.path, keys, seed_masks=masks, size=clip.size)
                if index in wanted}
    return np.stack([by_index[index] for index in clip.indices])


def _describe_colour_map(colour: dict[str, Any]) -> str:
    """``gains 0.96, 1.01, 1.04, mean colour -0.1, -0.3, -0.6 levels (RGB)``, or why it was skipped."""
    if "matrix" not in colour:
        return f"skipped ({colour['skipped']})"
    gains = ", ".join(f"{g:.2f}" for g in np.linalg.eigvalsh(np.array(colour["matrix"])))
    change = ", ".join(f"{255 * v:+.1f}" for v in colour["mean_change"])
    return f"gains {gains}, mean colour {change} levels (RGB)"


def _describe(name: str, settings: TrainSettings) -> str:
    weights = {"l1": 1.0, "gan": settings.gan_weight, "vgg": settings.vgg_weight,
               "texture": settings.texture_weight,
               "temporal": settings.temporal_weight * settings.pair_weight, "compound": settings.compound_weight}
    return f"{name} x{weights[name]:g}"
