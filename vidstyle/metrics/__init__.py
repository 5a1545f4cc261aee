"""Flicker and fidelity metrics for stylized video.

Public API::

    report = flicker("stylized.mp4", source="input.mp4", reference="per_frame.mp4")
    report.warp_error, report.ratio, report.protocol["warp_error"]
    print(report.table()); report.write_json("f.json"); report.write_csv("f.csv")
    plot_flicker(report, "flicker.png")
    e_t = warping_error(o_t, o_t1, forward, mask)      # one pair, numpy
    e = warping_error_torch(o_t, o_t1, forward, mask)  # batched, differentiable
    d = detail_ratio(output, reference)                # texture kept: gradient energy ratio
    t = texture_distance(output, reference)            # multi-scale sliced Wasserstein over patches
    report = flicker("stylized.mp4", source="input.mp4", keyframes="painted/")  # style drift, no reference
    report.drift.detail_ratio, report.drift.stretches()  # per frame vs the nearest keyframe; worst runs
"""

from .._defaults import TEXTURE_EVERY
from ._flicker import flicker
from ._pair import (LUMA_WEIGHTS, STILL_LUMA_LEVELS, STILL_MOTION_PX, WarpingError, flow_difference, luma,
                    static_flicker, still_mask, warping_error, warping_error_torch)
from ._plot import TEXTURE_PANEL, plot_flicker
from ._report import ClipScores, FlickerReport, FlowOrigin, Spike
from ._texture import (detail_ratio, gradient_energy, level_distances, signature_distance, texture_distance,
                       texture_signature)
from ._texture_scores import Stretch, TextureAgainst, TextureScores

__all__ = [
    "ClipScores", "FlickerReport", "FlowOrigin", "LUMA_WEIGHTS", "STILL_LUMA_LEVELS", "STILL_MOTION_PX",
    "Spike", "Stretch", "TEXTURE_EVERY", "TEXTURE_PANEL", "TextureAgainst", "TextureScores", "WarpingError",
    "detail_ratio", "flicker", "flow_difference", "gradient_energy", "level_distances", "luma", "plot_flicker",
    "signature_distance", "static_flicker", "still_mask", "texture_distance", "texture_signature", "warping_error",
    "warping_error_torch",
]
