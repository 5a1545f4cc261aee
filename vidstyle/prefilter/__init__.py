"""Temporal pre-filter: a bilateral filter along flow trajectories, against the
sensor and compression noise a few-shot network would amplify into flicker.

Public API::

    for frame in temporal_bilateral("clip.mp4", radius=15, sigma_t=5): ...
    write_prefiltered("clip.mp4", "clip_filtered.mp4")
    filter_along_flows(deque(frames), iter(flow_pairs), PrefilterSettings())  # flows computed before
"""

from ._bilateral import (SIGMA_C_DEFAULT, PrefilterSettings, filter_along_flows, temporal_bilateral,
                         temporal_bilateral_frames, write_prefiltered)

__all__ = ["PrefilterSettings", "SIGMA_C_DEFAULT", "filter_along_flows", "temporal_bilateral", "temporal_bilateral_frames",
           "write_prefiltered"]
