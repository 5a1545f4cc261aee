"""Training masks: where the trainer may learn, and which pixels a HUD covers.

A mask is an (H, W) uint8 array (255 = use, white) or a bool array; mask folders
hold 8-bit PNGs named by zero-based frame index (``000120.png``, :func:`vidstyle.io.frame_name`);
a pixel is "on" from :data:`MASK_THRESHOLD` (128) up (:func:`as_bool`). Public API::

    hud = detect_hud("clip.mp4")                         # (H, W) bool, True = HUD at any time
    per_frame = detect_hud_timeline("clip.mp4", exclude=["270,230,100,90"]).at(120)
    painted = mask_from_keyframe(frame_rgb, painted_rgba) # what the artist changed
    keyed = color_key_mask(rgb, "90-150,40-100,20-100")  # HSV box
    for index, mask in motion_masks("clip.mp4"): ...     # moving objects, static camera
    for index, mask in propagate_mask("clip.mp4", drawn, key_index=40): ...
    both = combine_masks([a, b], MaskOp.SUBTRACT); soft = feather_mask(both, 4)
    write_mask("000040.png", mask); read_mask_folder("masks/")
"""

from ._hud import HudEvidence, detect_hud, detect_hud_timeline, hud_evidence
from ._hud_timeline import HudTimeline, Rect
from ._job import MaskJob, make_masks
from ._keyframe import HsvRange, color_key_mask, mask_from_keyframe
from ._motion import estimate_background, motion_masks
from ._ops import (MASK_THRESHOLD, MaskOp, as_bool, as_uint8, clean_mask, combine_masks, dilate_mask, erode_mask,
                   feather_mask, mask_iou, read_mask, read_mask_folder, write_mask)
from ._preview import overlay_mask, write_mask_preview
from ._propagate import propagate_mask, propagate_step

__all__ = [
    "HsvRange", "HudEvidence", "HudTimeline", "MASK_THRESHOLD", "MaskJob", "MaskOp", "Rect", "make_masks", "as_bool",
    "as_uint8",
    "clean_mask", "color_key_mask", "combine_masks", "detect_hud", "detect_hud_timeline", "dilate_mask",
    "erode_mask", "estimate_background", "feather_mask",
    "hud_evidence", "mask_from_keyframe", "mask_iou", "motion_masks", "overlay_mask",
    "propagate_mask", "propagate_step", "read_mask", "read_mask_folder", "write_mask",
    "write_mask_preview",
]
