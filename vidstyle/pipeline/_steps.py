"""The one place where the pipeline calls vidstyle's other packages.

:class:`StepApi` lists every outside call the steps make (flow, masks, guides,
styles, training, rendering, flicker). :class:`VidstyleApi` implements it with the
real packages, imported lazily, so a missing or renamed API fails in one place
with one line, and tests can hand the step graph a small fake instead.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import VidstyleError
from ..io import Codec, parse_size
from ._schema import Recipe, RecipeError, RenderSection, TrainSection


@dataclass
class TrainingSummary:
    """What the pipeline keeps from a training run."""

    loss_history: dict[str, list[float]]   # loss name -> value per logged step
    steps: list[int]                       # the step number of each logged value
    facts: dict[str, Any] = field(default_factory=dict)  # design, steps, seconds, losses active, ...


@dataclass
class ClipFlicker:
    """Flicker of one clip (source, reference or output) under a shared flow."""

    e_warp: float | None                  # E_warp: mean of e_t, RGB in [0, 1], per-channel form
    per_pair: list[float | None]          # e_t for each pair (t, t+1); None where nothing is valid
    static_flicker: float | None = None   # mean |dY| (0-255) where the source is still


@dataclass
class FlickerNumbers:
    """One flicker measurement (Lai et al. 2018) with flow from the source clip."""

    times: list[float | None]             # seconds of frame t of each pair
    clips: dict[str, ClipFlicker]         # "source", "reference", "output"
    psnr: float | None                    # output vs reference, mean over frames
    ssim: float | None
    protocol: list[str]                   # one line per figure: how it was measured
    raw: dict[str, Any] = field(default_factory=dict)  # the metric's full JSON record
    # Detail ratio and texture distance of the output, "reference": per frame against the reference,
    # "keyframes": against the nearest painted keyframe (TextureScores.to_dict()); absent if not measured.
    texture: dict[str, Any] = field(default_factory=dict)


class StepApi(Protocol):
    """Everything the steps need from the rest of vidstyle."""

    def check(self, recipe: Recipe) -> None:
        """Raise a one-line VidstyleError if the recipe needs something unavailable."""

    def paint(self, rgb: np.ndarray, style: str) -> np.ndarray:
        """A frame painted by the painter ``style`` names (a vidstyle.styles spec: ``toon``,
        ``neural:7``, ``style-image:PATH``, ``model:PATH``), (H, W, 3) uint8 in and out."""

    def compute_flows(self, clip: Path, cache_dir: Path, preset: str) -> dict[str, Any]:
        """Fill the flow cache with the clip's forward and backward flows; return a summary."""

    def hud_mask(self, clip: Path) -> np.ndarray:
        """(H, W) bool, True on the HUD (static overlay)."""

    def keyframe_mask(self, frame: np.ndarray, painted: np.ndarray) -> np.ndarray:
        """(H, W) bool, True where the painter changed the frame."""

    def color_key_mask(self, rgb: np.ndarray, hsv_range: str) -> np.ndarray:
        """(H, W) bool, True where the colour is inside the HSV range."""

    def generate_guides(self, clip: Path, keys: list[int], output: Path, *, radius: float, sigma: float,
                        seed: int, seed_masks: Path | None) -> None:
        """Write one guide PNG per frame of ``clip`` into ``output``, named by index."""

    def train(self, clip: Path, keyframes: Path, model: Path, *, masks: Path | None, guides: Path | None,
              settings: TrainSection, device: str, resume: bool = False) -> TrainingSummary:
        """Train on ``keyframes`` of ``clip`` and write the checkpoint to ``model`` (``resume``:
        continue the training state already in ``model``)."""

    def render(self, clip: Path, model: Path, output: Path, *, settings: RenderSection, device: str,
               hud_mask: Path | None, guides: Path | None) -> None:
        """Stylize every frame of ``clip`` into the video ``output`` (audio kept)."""

    def flicker(self, video: Path, source: Path, *, reference: Path | None, preset: str,
                max_frames: int | None, flow_cache: Path, keyframes: Path | None = None) -> FlickerNumbers:
        """E_warp of ``video``, ``source`` and ``reference`` with flow from ``source``;
        PSNR/SSIM and texture of ``video`` against ``reference``, texture against ``keyframes``."""


def _module(name: str, feature: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise VidstyleError(f"this recipe needs {feature} ({name}), which this vidstyle installation "
                            f"does not have yet ({err})") from None


def _attr(module_name: str, attr: str, feature: str) -> Any:
    module = _module(module_name, feature)
    if not hasattr(module, attr):
        raise VidstyleError(f"this recipe needs {module_name}.{attr} ({feature}), which this vidstyle "
                            "installation does not have yet")
    return getattr(module, attr)


class VidstyleApi:
    """:class:`StepApi` over the real vidstyle packages."""

    def check(self, recipe: Recipe) -> None:
        needs: list[tuple[str, str, str]] = [("vidstyle.render", "render", "the renderer")]
        if recipe.reference_style is not None:
            needs.append(("vidstyle.styles", "stylize", "per-frame stylizers"))
        if recipe.trains:
            needs.append(("vidstyle.train", "train", "the trainer"))
            if recipe.masks.hud.value != "ignore":
                needs.append(("vidstyle.masks", "detect_hud", "HUD detection"))
            if recipe.masks.from_keyframe:
                needs.append(("vidstyle.masks", "mask_from_keyframe", "keyframe masks"))
            if recipe.masks.color_key is not None:
                needs.append(("vidstyle.masks", "color_key_mask", "colour-key masks"))
            if recipe.guides.enabled:
                needs.append(("vidstyle.guides", "write_guides", "noise guides"))
        if recipe.report.flicker:
            needs.append(("vidstyle.metrics", "flicker", "the flicker metric"))
            needs.append(("vidstyle.flow", "video_flows", "streaming flow"))
        for module, attr, feature in needs:
            _attr(module, attr, feature)
        where = recipe.source
        check_spec = _module("vidstyle.styles", "per-frame stylizers").check_painter_spec
        if recipe.report.reference_style is not None:
            _checked("report.reference_style", check_spec, recipe.report.reference_style, where)
        k = recipe.keyframes
        if k.painter is not None:
            key = next(f"keyframes.{name}" for name, value in (("style_image", k.style_image), ("model", k.model),
                                                                 ("paint", k.paint)) if value is not None)
            _checked(key, check_spec, k.painter, where)
        if recipe.trains and recipe.train.arch is not None:
            _checked("train.arch", _module("vidstyle.models", "models").get_architecture, recipe.train.arch, where)
        hsv = getattr(_module("vidstyle.masks", "masks"), "HsvRange", None) if recipe.masks.color_key else None
        if hsv is not None:
            _checked("masks.color_key", hsv.parse, recipe.masks.color_key, where)

    def paint(self, rgb: np.ndarray, style: str) -> np.ndarray:
        return _attr("vidstyle.styles", "stylize", "per-frame stylizers")(rgb, style)

    def compute_flows(self, clip: Path, cache_dir: Path, preset: str) -> dict[str, Any]:
        flow = _module("vidstyle.flow", "streaming flow")
        cache = flow.FlowCache(cache_dir)
        pairs = 0
        magnitude = 0.0
        for pair in flow.video_flows(clip, preset=flow.FlowPreset.parse(preset), cache=cache, backward=True):
            pairs += 1
            magnitude += float(np.linalg.norm(pair.forward, axis=-1).mean())
        return {"pairs": pairs, "mean_motion_px": magnitude / max(pairs, 1), "preset": preset,
                "cache_hits": cache.hits, "cache_misses": cache.misses}

    def hud_mask(self, clip: Path) -> np.ndarray:
        mask = _attr("vidstyle.masks", "detect_hud", "HUD detection")(clip)
        return _as_bool(getattr(mask, "mask", mask))

    def keyframe_mask(self, frame: np.ndarray, painted: np.ndarray) -> np.ndarray:
        return _as_bool(_attr("vidstyle.masks", "mask_from_keyframe", "keyframe masks")(frame, painted))

    def color_key_mask(self, rgb: np.ndarray, hsv_range: str) -> np.ndarray:
        return _as_bool(_attr("vidstyle.masks", "color_key_mask", "colour-key masks")(rgb, hsv_range))

    def generate_guides(self, clip: Path, keys: list[int], output: Path, *, radius: float, sigma: float,
                        seed: int, seed_masks: Path | None) -> None:
        guides = _module("vidstyle.guides", "noise guides")
        guides.write_guides(clip, output, keys, radius=radius, sigma=sigma, seed=seed, seed_masks=seed_masks)

    def train(self, clip: Path, keyframes: Path, model: Path, *, masks: Path | None, guides: Path | None,
              settings: TrainSection, device: str, resume: bool = False) -> TrainingSummary:
        train = _attr("vidstyle.train", "train", "the trainer")
        options = _attr("vidstyle.train", "TrainOptions", "the trainer")(
            masks=masks, guides=guides, steps=settings.steps, seed=settings.seed,
            minutes=None if settings.steps is not None else settings.minutes,  # steps win over minutes
            temporal_weight=settings.temporal_weight, texture_weight=settings.texture_weight,
            detail_gain=settings.detail_gain, detail_sampling=settings.detail_sampling, mirror=settings.mirror,
            fusion_flow=settings.fusion_flow, edges=settings.edges, line_art=settings.line_art,
            size=None if settings.size is None else parse_size(settings.size), device=device, overwrite=True,
            resume=resume)
        if settings.arch is not None:  # None: the default design
            options.arch = settings.arch
        result = train(clip, keyframes, model, options)
        steps, history = _loss_curves(result.history)
        facts = {"design": getattr(result.settings, "arch", settings.arch), "steps": result.steps,
                 "stopped by": result.stopped_by, "losses": ", ".join(result.losses),
                 "keyframes": ", ".join(map(str, result.keyframes))}
        if result.settings is not None:
            facts["temporal weight"] = result.settings.temporal_weight
        stage = getattr(result, "temporal_stage", None)
        facts["temporal stage"] = (f"learned, {stage['steps']} steps, mean blend weight {stage['blend_weight']:.2f}"
                                   if stage else "none")
        return TrainingSummary(history, steps, facts)

    def render(self, clip: Path, model: Path, output: Path, *, settings: RenderSection, device: str,
               hud_mask: Path | None, guides: Path | None) -> None:
        render = _attr("vidstyle.render", "render", "the renderer")
        render(clip, model, output, device=device, codec=Codec.parse(settings.codec), crf=settings.crf,
               preset=settings.preset, audio=settings.audio, stabilize=settings.stabilize,
               hold_stretch=settings.hold_stretch, batch=settings.batch, keep_hud=hud_mask, guides=guides, overwrite=True)

    def flicker(self, video: Path, source: Path, *, reference: Path | None, preset: str,
                max_frames: int | None, flow_cache: Path, keyframes: Path | None = None) -> FlickerNumbers:
        metrics = _module("vidstyle.metrics", "the flicker metric")
        flow = _module("vidstyle.flow", "streaming flow")
        report = metrics.flicker(video, source, reference, keyframes=keyframes, preset=preset,
                                 max_frames=max_frames, cache=flow.FlowCache(flow_cache))
        data = report.to_dict()
        clips = {}
        for role, scores in (("source", report.source), ("reference", report.reference),
                             ("output", report.stylized)):
            if scores is not None:
                clips[role] = ClipFlicker(_maybe(scores.mean_warp_error), _maybe_list(scores.warp_error),
                                          _maybe(scores.mean_static_flicker))
        protocol = report.protocol
        lines = [protocol["warp_error"], protocol["static_flicker"]]
        if reference is not None:
            lines += [protocol["psnr"], protocol["ssim"]]
        texture = {role: scores for role, scores in data["texture"].items() if scores is not None}
        for scores in texture.values():
            lines += list(scores["protocol"].values())
        return FlickerNumbers(times=_maybe_list(report.times) or [], clips=clips, psnr=data.get("psnr"),
                              ssim=data.get("ssim"), protocol=lines + list(report.notes), raw=data,
                              texture=texture)


# Loss curves are kept at this many points at most (bins averaged): enough for a chart.
MAX_CURVE_POINTS = 400


def _loss_curves(history: list[dict[str, float]]) -> tuple[list[int], dict[str, list[float]]]:
    """The trainer's per-step records as bin-averaged curves per loss."""
    if not history:
        return [], {}
    names = [k for k in history[0] if k not in ("step", "seconds", "grad_norm")]  # grad_norm is no loss
    size = max(1, -(-len(history) // MAX_CURVE_POINTS))
    steps: list[int] = []
    curves: dict[str, list[float]] = {name: [] for name in names}
    for first in range(0, len(history), size):
        rows = history[first:first + size]
        steps.append(int(rows[-1].get("step", first + len(rows))))
        for name in names:
            values = [float(r[name]) for r in rows if name in r and np.isfinite(r[name])]
            curves[name].append(float(np.mean(values)) if values else float("nan"))
    return steps, curves


def _checked(key: str, parse: Any, value: Any, where: Path | None) -> None:
    """Run ``parse(value)``; a VidstyleError becomes a RecipeError naming ``key``."""
    try:
        parse(value)
    except VidstyleError as err:
        raise RecipeError(f"{key}: {err}", where) from None


def _as_bool(mask: Any) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[..., 0]
    return mask > (127 if mask.dtype == np.uint8 else 0)


def _maybe(value: Any) -> float | None:
    """A finite float, or None (missing, NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)


def _maybe_list(values: Any) -> list[float | None] | None:
    return None if values is None else [_maybe(v) for v in values]
