"""Noise guides: flow-advected Gaussian blobs, extra input channels for the few-shot trainer.

After Texler et al. 2020 ("gdisko"): Poisson-disk points seeded on each key frame
inside its seed mask, carried forward and backward by optical flow, drawn as
fixed-colour Gaussian blobs. Here points whose flow fails the forward-backward
check are dropped and holes re-seeded. Public API::

    for index, guide in generate_guides("clip.mp4", keys=[0, 40]):   # (H, W, 3) uint8
        ...
    write_guides("clip.mp4", "guides/", keys=[0, 40], radius=10, sigma=10)
    guides_along_flows(flow_pairs, indices, keys=[0, 40], size=(640, 480))  # flows computed before
"""

from ._generate import (GuideSettings, generate_guides, guide_folder_name, guide_points, guides_along_flows,
                        write_guides)
from ._points import PointSet, point_colours, poisson_disk
from ._render import blob_reach, render_guide

__all__ = ["GuideSettings", "PointSet", "blob_reach", "generate_guides", "guide_folder_name",
           "guide_points", "guides_along_flows", "point_colours", "poisson_disk", "render_guide", "write_guides"]
