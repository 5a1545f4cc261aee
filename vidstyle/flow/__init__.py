"""Optical flow, warping, occlusion masks, flow files and the flow cache.

Conventions: a flow is (H, W, 2) float32 numpy (x then y) or (B, 2, H, W) torch;
``flow(a, b)`` satisfies a(x) ~ b(x + F(x)); ``warp(b, F)`` brings b onto a.

Public API::

    for pair in video_flows("clip.mp4", preset=FlowPreset.MEDIUM, cache=FlowCache("flows/")):
        pair.forward, pair.backward        # flow(t -> t+1), flow(t+1 -> t)
        mask = pair.validity_mask()        # Lai et al.'s occlusion test
        aligned = warp_numpy(next_stylized, pair.forward)
    flow = compute_flow(a, b, FlowPreset.MEDIUM)     # any pair, e.g. long range
    write_flo("f.flo", flow); flow = read_flo("f.flo")
"""

from ._cache import FlowCache, FlowPrecision, SourceId
from ._dis import DEFAULT_FLOW_PRESET, DisFlow, FlowPreset, compute_flow, to_gray
from ._export import FlowExport, FlowFormat, export_flows
from ._flo import read_flo, write_flo
from ._motion import Motion, MotionEstimator
from ._occlusion import validity_mask
from ._video import FlowPair, default_workers, video_flows
from ._spill import SpillStack
from ._viz import flow_to_color
from ._stretch import flow_stretch
from ._warp import Warp, flow_to_tensor, sampling_grid, warp, warp_fast, warp_numpy

__all__ = [
    "DEFAULT_FLOW_PRESET", "DisFlow", "FlowCache", "FlowExport", "FlowFormat", "FlowPair", "FlowPrecision",
    "FlowPreset", "Motion", "MotionEstimator", "SourceId", "SpillStack", "Warp", "compute_flow", "default_workers",
    "export_flows", "flow_stretch", "flow_to_color", "flow_to_tensor", "read_flo", "sampling_grid", "to_gray",
    "validity_mask", "video_flows", "warp", "warp_fast", "warp_numpy", "write_flo",
]
