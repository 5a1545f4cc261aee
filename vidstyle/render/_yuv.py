"""RGB -> YUV 4:2:0 (BT.709, limited range) on the model's device.

On a GPU this replaces swscale's per-frame conversion on one CPU core (the
encode stage's bottleneck at 1080p) and halves the bytes copied back to the
host. It follows the same matrix and range the writer tags the stream with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._shapes import check_shape

# BT.709 luma weights; chroma scales are 2(1 - Kb) and 2(1 - Kr).
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB


def rgb_to_yuv420(rgb: torch.Tensor) -> torch.Tensor:
    """Convert RGB frames to planar YUV 4:2:0 bytes, BT.709 limited range.

    Args:
        rgb: (B, 3, H, W) float in [0, 1], H and W even.

    Returns:
        (B, H * 3 // 2, W) uint8: the Y plane, then the U and V planes of
        (H/2, W/2) each, back to back in memory, which is ``av.VideoFrame.from_ndarray(...,
        format="yuv420p")``'s layout.
    """
    check_shape(rgb, "B, 3, H, W", "rgb")
    batch, _, height, width = rgb.shape
    if height % 2 or width % 2:
        raise ValueError(f"4:2:0 needs an even size, got {width}x{height}")
    rgb = rgb.float()
    red, green, blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    luma = _KR * red + _KG * green + _KB * blue
    # Chroma is averaged over each 2x2 block (centre siting, as swscale's default filter).
    cb = F.avg_pool2d(((blue - luma) / (2 * (1 - _KB))).unsqueeze(1), 2).squeeze(1)
    cr = F.avg_pool2d(((red - luma) / (2 * (1 - _KR))).unsqueeze(1), 2).squeeze(1)
    y_plane = (16.0 + 219.0 * luma).round_().clamp_(0, 255).to(torch.uint8)
    u_plane = (128.0 + 224.0 * cb).round_().clamp_(0, 255).to(torch.uint8)
    v_plane = (128.0 + 224.0 * cr).round_().clamp_(0, 255).to(torch.uint8)
    planes = torch.cat((y_plane.reshape(batch, -1), u_plane.reshape(batch, -1),
                        v_plane.reshape(batch, -1)), dim=1)
    return planes.reshape(batch, height * 3 // 2, width)


class RgbToYuv420(nn.Module):
    """Module form of :func:`rgb_to_yuv420`."""

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return rgb_to_yuv420(rgb)
