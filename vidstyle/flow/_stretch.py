"""How much a backward warp stretches the image it resamples.

A recurrent stage that holds its previous output carries it along the flow
frame after frame. Where the camera drives forward, the scene expands away from
the vanishing point: held content is magnified a little every frame, and
painted strokes held for many frames become long radial streaks (seen on
SuperTuxKart's Snow Mountain with a mosaic-like style; docs/BENCHMARKS.md,
"Held strokes stretch"). :func:`flow_stretch` measures that per pixel, so the
stage can let go of content that has been distorted too much (the regeneration
rule of Lagrangian texture advection, Neyret 2003).
"""

from __future__ import annotations

import torch

from .._shapes import check_shape

_SMALLEST_SCALE = 1e-3  # a fold (singular value 0) counts as log(1000) ~ 6.9


def flow_stretch(flow: torch.Tensor) -> torch.Tensor:
    """Per-pixel distortion of the backward warp ``out(x) = image(x + flow(x))``.

    The warp's local linear map is the Jacobian ``J = I + grad(flow)`` (central
    differences, one-sided at the borders); the result is the larger of
    ``|log s|`` over its two singular values ``s``: 0 for a translation or a
    rotation, ``log 1.1 ~ 0.095`` where the image is magnified or shrunk by 10 %
    along some direction. Distortions of successive warps add up (to first order),
    so a held layer's total distortion is the sum of these along its path.

    Args:
        flow: (B, 2, H, W) flow in pixels (x then y), from each output pixel to where
            it samples the image.

    Returns:
        (B, 1, H, W) float tensor, >= 0.
    """
    check_shape(flow, "B, 2, H, W", "flow")
    flow = flow.float()
    dx, dy = _slope(flow, -1), _slope(flow, -2)
    a, b = 1 + dx[:, :1], dy[:, :1]   # J = [[a, b], [c, d]]
    c, d = dx[:, 1:], 1 + dy[:, 1:]
    # Singular values of a 2x2 matrix in closed form: (q + r, |q - r|).
    q = torch.hypot(a + d, b - c) / 2
    r = torch.hypot(a - d, b + c) / 2
    largest, smallest = q + r, (q - r).abs().clamp_min(_SMALLEST_SCALE)
    return torch.maximum(largest, smallest.reciprocal()).log().clamp_min(0.0)  # one log: it dominates on CPU


def _slope(flow: torch.Tensor, dim: int) -> torch.Tensor:
    """d(flow)/d(x or y) (``dim`` -1 or -2): central differences, one-sided at the
    borders; zero along an axis one pixel long."""
    if flow.shape[dim] < 2:
        return torch.zeros_like(flow)
    return torch.gradient(flow, dim=dim)[0]
