"""Few-shot keyframe training with temporal losses.

    from vidstyle.train import train
    result = train("clip.mp4", "keyframes/", "model.pt", minutes=2)
    result = train("clip.mp4", "keyframes/", "model.pt", TrainOptions(minutes=2, arch="texler"))
    result.model          # Stylizer, eval mode: (B, 3 + guides, H, W) in [0, 1] -> (B, 3, H, W)
    result.history        # one loss record per step (for a loss curve)
    loss = patch_sliced_wasserstein(out, target)  # the texture loss, (B, 3, H, W) each

The checkpoint loads with :func:`vidstyle.models.load_stylizer`.
"""

from .._device import resolve_device
from ._colour import calibrate_colours, gaussian_colour_map
from ._data import (Clip, PatchSampler, eroded_mask, keyframe_numbers, load_clip, load_guides, load_keyframes,
                    load_masks, patch_detail, texler_layout)
from ._longclip import LONG_CLIP_FRAMES, load_sampled_clip, load_training_clip, sample_plan
from ._settings import DEFAULT_MINUTES, DEFAULT_TEMPORAL_WEIGHT, TrainResult, TrainSettings, make_settings
from ._propagate import PROPAGATION_OFFSETS, PropagatedKeyframe, propagate_keyframes, propagation_positions
from ._step import mirror_patches
from ._temporal import (ClipFlows, TrainingPair, TemporalLoss, choose_pairs, compound_regularization, masked_l1,
                        random_smooth_flow, temporal_loss)
from ._texture import PatchSlicedWasserstein, patch_sliced_wasserstein
from ._options import TrainOptions
from ._trainer import train

__all__ = [
    "calibrate_colours", "choose_pairs", "Clip", "ClipFlows", "compound_regularization", "DEFAULT_MINUTES", "DEFAULT_TEMPORAL_WEIGHT",
    "eroded_mask", "gaussian_colour_map", "keyframe_numbers", "load_clip", "load_guides", "load_sampled_clip", "load_training_clip",
    "LONG_CLIP_FRAMES", "load_keyframes", "load_masks", "make_settings", "masked_l1", "mirror_patches",
    "patch_detail", "patch_sliced_wasserstein", "PatchSampler", "PatchSlicedWasserstein", "propagate_keyframes",
    "PropagatedKeyframe", "PROPAGATION_OFFSETS", "propagation_positions", "random_smooth_flow", "resolve_device",
    "sample_plan", "temporal_loss", "TemporalLoss", "texler_layout", "train", "TrainingPair", "TrainOptions",
    "TrainResult",
    "TrainSettings"
]
