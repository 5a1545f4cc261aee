"""Optical flow, warping and occlusion masks.

Conventions: a flow is (H, W, 2) float32 numpy (x then y) or (B, 2, H, W) torch;
``flow(a, b)`` satisfies a(x) ~ b(x + F(x)); ``warp(b, F)`` brings b onto a.
"""

from ._dis import DisFlow, FlowPreset, compute_flow, to_gray
from ._occlusion import validity_mask
from ._warp import Warp, flow_to_tensor, sampling_grid, warp, warp_numpy

__all__ = ["DisFlow", "FlowPreset", "Warp", "compute_flow", "flow_to_tensor", "sampling_grid",
           "to_gray", "validity_mask", "warp", "warp_numpy"]
