"""Every default a user can see, in one place.

The library reads its defaults from here; the CLI's ``--help``, the recipe schema
and the docs are generated from (or tested against, ``tests/test_defaults.py``)
the same values. Pure data and text: no torch, so ``vidstyle --help`` stays fast.
"""

from __future__ import annotations

import math
from typing import Any

# -- training -------------------------------------------------------------------

DESIGN = "fast"             # the generator design (``arch``) a model gets unless told otherwise
TRAIN_MINUTES = 2.0         # budget when neither minutes nor steps is given
TEMPORAL_WEIGHT = 1.0       # scales every temporal term (0 = a per-frame model)
# The temporal stage gives its blend back the generator's fine-band contrast, by at most this gain
# (vidstyle.models.restore_detail; 1 = off, the plain blend that averaged the strokes away).
DETAIL_GAIN = 2.0
# ... and lets go of held content once it has been stretched this much along its path (the sum of
# |log| of the flow's local scale; vidstyle.models.TemporalFusion.limit_hold; 0 = hold regardless).
# 1.0 (with the stage's motion at DIS fast): the radial streaks held strokes become when the camera drives
# forward are gone; on six benchmark cases at 5 CPU minutes texture distance -0 to -21 %, E_warp +4 to +19 %
# against no limit (docs/BENCHMARKS.md, "Held strokes stretch"). 2.0 since the motion is DIS medium
# (FUSION_FLOW), which stretches held strokes less where it is wrong: on the same six cases, the same
# models, against 1.0: E_warp -10 to -22 %, texture distance -1 to +5 %, PSNR -0.0 to -0.3 dB, no
# streaks seen at 100 % on Snow Mountain (docs/BENCHMARKS.md, "The temporal stage's flow").
HOLD_STRETCH = 2.0
# The DIS preset of the temporal stage's motion, in training and at render (the checkpoint records it).
# "medium" estimates at half resolution where "fast" stops at a quarter: held strokes follow the scene
# instead of sliding over it. At 5 CPU minutes on six benchmark cases against "fast": E_warp -30 to -46 %
# (Snow Mountain neural:9 3.52x -> 2.40x the source's), texture distance -26 to +3 %, detail up on each.
# DIS costs 40 ms a frame at 640x360 on one core against 12; the 2-core CPU render ran 0.89-0.97x as
# fast (docs/BENCHMARKS.md, "The temporal stage's flow"). A stage rendered with another preset than it
# was trained with measured worse than either.
FUSION_FLOW = "medium"

# After its steps the generator's colours are calibrated on the painted keyframes (vidstyle.train's
# calibrate_colours; 1 = the full map, 0 = off). ``texler``'s tanh output cannot take the map.
# At 3 CPU minutes on Snow Mountain with neural style 9 the default recipe painted even its keyframes
# 2.8 L* darker and 10 % flatter than the painting; the map took texture distance from 12.7 to 8.1.
# At 5 CPU minutes on six cases: texture distance -0.5 to -36 %, E_warp -9 to +24 % (it restores
# the painting's contrast) (docs/BENCHMARKS.md, "Colour calibration").
COLOUR_CALIBRATION = 1.0

# Share of the patches drawn in proportion to the painting's gradient energy (vidstyle.train.PatchSampler);
# 0 = uniform, as Texler draws. Off for both designs: at 0.9, on the demo's setup (toon keyframe 40,
# 1.5 wall minutes) the ink lines kept (darkening of the reference's ink pixels, output / reference)
# rose from 0.30 to 0.39 on far frames, but at 5 CPU minutes on six cases texture distance moved -4 to
# +17 % (toon +17 %, -1 % with another seed) and E_warp +1 to +19 %, PSNR +0.0 to +1.3 dB
# (docs/BENCHMARKS.md, "Detail sampling").
DETAIL_SAMPLING = 0.0

# The line-art preset (``line_art``, ``vidstyle train --line-art``): the edge input, and these settings where
# not given. With the edge input the generator knows where the ink goes: L1 places it, a heavy place-free
# texture term scatters it, and patches drawn on the lines teach it faster. On the demo (toon keyframe 40,
# 1.5 wall minutes) ink kept on far frames 0.34 without the edge input, 0.50 with it, 0.53 with a texture
# weight of 5, 0.58 with detail sampling as well; at 5 CPU minutes on two toon cases 0.51 / 0.60 (the
# default) against 0.66 / 0.77, texture distance +0 / -8 % (docs/BENCHMARKS.md, the sixteenth to
# eighteenth sessions' sections). Half its patches are mirrored left-right (``mirror``): an ink line
# follows its contour whichever way it runs, and one keyframe shows few of the ways. Two-minute runs on
# the demo's clip, two seeds: far-frame ink 0.69 / 0.72 -> 0.72 / 0.75, texture distance -15 % on both,
# E_warp +13 / +26 %; at 5 CPU minutes on the two toon cases, two seeds, ink +0.04 / +0.01 (Snow
# Mountain) and +0.01 / -0.02 (Hacienda), texture distance -22 / -9 % and +2 / +7 %; the demo the same
# (0.68 against 0.67); held-out XDoG line art -0.01 / +0.02 ink, +5 / -5 % texture distance
# (docs/BENCHMARKS.md, "Mirrored patches for line art").
LINE_ART: dict[str, Any] = {"texture_weight": 5.0, "detail_sampling": 0.9, "mirror": 0.5}
# The edge input's build options for a new ``fast`` model (``edges`` / ``line_art``): the
# edges' ridges (FastGenerator's ``edge_ridges``), not their magnitude. Demo-like development runs
# (the sample, toon keyframe 40, 2 CPU minutes, two seeds): ink kept on the keyframe / far frames
# 0.71 / 0.63 with the magnitude, 0.74 / 0.67 with the ridges (the generator alone 0.78 / 0.67 against
# 0.85 / 0.73); at 5 CPU minutes on two toon cases 0.67 / 0.77 against 0.70 / 0.82, texture distance
# -6 / -9 %; the demo 0.66 / 0.59 against 0.73 / 0.65 (docs/BENCHMARKS.md, "Ridges for the edge input").
# The ridges are linked along each contour for EDGE_LINK px (``edge_link``): same runs, two seeds, ink
# kept on far frames 0.67 / 0.67 -> 0.71 / 0.73 through the temporal stage (the generator alone 0.74 /
# 0.73 -> 0.78 / 0.80), texture distance -6 / -1 %, E_warp +9 %; the demo 0.62 -> 0.65; held-out XDoG
# line art unchanged (docs/BENCHMARKS.md, "Linked ridges"). 32 px decaying 0.98 a step kept less (0.68).
EDGE_LINK = 16
EDGE_INPUT: dict[str, Any] = {"edges": True, "edge_ridges": True, "edge_link": EDGE_LINK}

# Per-design training settings: what ``make_settings(arch)`` starts from. ``texler``
# gets Texler's published recipe (Adam 4e-4 constant, 40 patches of 32 px, GAN on).
# ``fast`` has no normalisation layers; it learns at 2e-3 decayed over the last 70 %
# of the budget (5e-3 diverged on a real clip) and without the GAN, which cost 3.8 dB
# PSNR in a 400-step run on the 100-frame sample. Its temporal work is done by the
# learned temporal stage alone: at 5 CPU minutes on real footage, adding keyframe
# propagation (0.125) or the pair loss cost more PSNR than they saved flicker
# (docs/BENCHMARKS.md, "Temporal terms"). It keeps the painted texture with the
# patch-distribution loss (x20): at 5 CPU minutes on SuperTuxKart with neural styles,
# L1 alone kept 0.55-0.58 of the painting's gradient energy, x20 0.65-0.72. The
# texture costs flicker, which the temporal stage takes back. Its plain blend averaged
# the strokes away again (detail 0.95 -> 0.73); it now restores the fine band
# (DETAIL_GAIN), which gives back some flicker. Its lambda stays 6: in 3-CPU-minute runs
# on Hacienda with neural style 0 it kept 0.90 of the detail at 0.65x the source's E_warp
# (16: 0.87 at 0.61x, but on a clip whose stylization only flickers in brightness
# lambda 16 learned to hold every pixel for good, freezing the first frame's colours;
# tests/test_fusion.py) (docs/BENCHMARKS.md, "Texture"). Its gradients are clipped at norm 5 (typical norms
# 2-4): without, a run at lr 3e-3 blew up at step ~450 (docs/BENCHMARKS.md, "Texture").
# Every knob a user can set (CLI flag, recipe key) is listed for every design, so
# that ``--help`` can say what each design really uses.
DESIGN_SETTINGS: dict[str, dict[str, Any]] = {
    "texler": {"lr": 4e-4, "patch_size": 32, "batch_size": 40, "gan_weight": 0.125, "lr_decay_start": 1.0,
               "temporal_weight": TEMPORAL_WEIGHT, "pair_weight": 1.0, "propagation_weight": 1.0,
               "fusion_weight": 2.0, "compound_weight": 0.0, "texture_weight": 0.0, "detail_gain": DETAIL_GAIN,
               "colour_calibration": 0.0, "detail_sampling": DETAIL_SAMPLING, "mirror": 0.0,
               "fusion_flow": FUSION_FLOW},
    "fast": {"lr": 2e-3, "patch_size": 32, "batch_size": 8, "gan_weight": 0.0, "lr_decay_start": 0.3,
             "temporal_every": 4, "temporal_start": 0.5, "temporal_weight": TEMPORAL_WEIGHT, "pair_weight": 0.0,
             "propagation_weight": 0.0, "fusion_weight": 6.0, "compound_weight": 0.0, "texture_weight": 20.0,
             "grad_clip": 5.0, "detail_gain": DETAIL_GAIN, "colour_calibration": COLOUR_CALIBRATION,
             "detail_sampling": DETAIL_SAMPLING, "mirror": 0.0, "fusion_flow": FUSION_FLOW},
}
# A design registered by a plugin (vidstyle.models.register_architecture) starts from these.
FALLBACK_SETTINGS: dict[str, Any] = {"lr": 1e-3, "patch_size": 32, "batch_size": 40}


def design_settings(arch: str) -> dict[str, Any]:
    """The training settings ``arch`` starts from (a copy)."""
    return dict(DESIGN_SETTINGS.get(arch, FALLBACK_SETTINGS))


def per_design(name: str) -> str:
    """A setting's default as help text: ``"8 for fast, 40 for texler"``, or ``"0"`` when
    every design uses the same value. The default design comes first."""
    designs = sorted(DESIGN_SETTINGS, key=lambda arch: (arch != DESIGN, arch))
    values = {arch: DESIGN_SETTINGS[arch][name] for arch in designs}
    text = {arch: f"{value:g}" if isinstance(value, (int, float)) else str(value) for arch, value in values.items()}
    if len(set(text.values())) == 1:
        return text[DESIGN]
    return ", ".join(f"{value} for {arch}" for arch, value in text.items())


# -- encoding -------------------------------------------------------------------

CRF = 18                    # x264/x265 CRF, NVENC CQ
ENCODER_PRESET = "medium"   # x264/x265 preset of every writer
NVENC_PRESET = "p4"
# libx264's preset for CPU renders when none is given: OBS's default. There the encoder
# shares the cores with the model, and at 640x480 on 2 cores `medium` cost 2.7x the CPU
# per frame for the same file size and 1.4 dB more PSNR (BENCHMARKS.md, "Rendering").
CPU_RENDER_PRESET = "veryfast"
ENCODER_PRESET_TEXT = f"{ENCODER_PRESET}; {NVENC_PRESET} for NVENC"
RENDER_PRESET_TEXT = (f"{CPU_RENDER_PRESET} for h264 on CPU, where the encoder shares the cores with the model; "
                      f"{ENCODER_PRESET} for h264 on CUDA and for h265; {NVENC_PRESET} for NVENC")

# -- temporal pre-filter (vidstyle.prefilter) -----------------------------------

PREFILTER_RADIUS = 15       # frames each way
PREFILTER_SIGMA_T = 5.0     # time weight sigma, frames
PREFILTER_SIGMA_C = math.sqrt(3.0) * 255.0 / 16.0  # 27.6, Texler's colour sigma in 0-255 units

# -- optical flow ---------------------------------------------------------------

FLOW_PRESET = "medium"            # DIS preset of flows that are measured or exported (the measurement setting)
STABILIZE_FLOW_PRESET = "ultrafast"  # the renderer's run-time blend (--stabilize)

# -- measurement, keyframes, Ray ------------------------------------------------

# Texture distance is computed on every TEXTURE_EVERY-th frame (detail ratio on every frame): one
# texture_signature of a 640x480 frame costs 0.16 s of CPU, flicker's other work 0.24 s per pair
# (docs/BENCHMARKS.md); style drifts over seconds, not from one frame to the next.
TEXTURE_EVERY = 5
KEYFRAME_RADIUS = 0.12      # appearance distance (RMS, 0-1) a suggested keyframe covers (vidstyle shots)
# Frames run through the model before a chunk, unwritten, so its temporal stage starts the chunk as
# it would mid-video; the stage's memory decays frame by frame (docs/scaling.md, seams).
RAY_WARMUP = 8
