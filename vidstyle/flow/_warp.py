"""Backward warping: out(x) = image(x + flow(x)), bilinear, border clamp.

Two implementations that agree to 1e-4: numpy/OpenCV for preprocessing and
metrics, torch (batched, differentiable, CPU or CUDA) for losses.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _check_flow(flow: np.ndarray, height: int, width: int) -> None:
    if flow.shape != (height, width, 2):
        raise ValueError(f"flow must be ({height}, {width}, 2), got {flow.shape}")


def sampling_grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absolute sampling coordinates (map_x, map_y) for ``cv2.remap``."""
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def warp_numpy(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Warp an (H, W) or (H, W, C) image by an (H, W, 2) flow (same dtype out)."""
    _check_flow(flow, *image.shape[:2])
    map_x, map_y = sampling_grid(flow.astype(np.float32, copy=False))
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def flow_to_tensor(flow: np.ndarray) -> torch.Tensor:
    """(H, W, 2) numpy flow -> (2, H, W) float tensor."""
    return torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1).float()


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Warp a batch of images by a batch of flows, differentiably.

    Args:
        image: (B, C, H, W) float tensor.
        flow: (B, 2, H, W) flow in pixels (x then y), same device.

    Returns:
        (B, C, H, W) tensor, out(x) = image(x + flow(x)), bilinear, border clamp.
    """
    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected image (B,C,H,W) and flow (B,2,H,W), got {tuple(image.shape)} "
                         f"and {tuple(flow.shape)}")
    if image.shape[0] != flow.shape[0] or image.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"image {tuple(image.shape)} and flow {tuple(flow.shape)} do not match")
    _, _, height, width = image.shape
    ys, xs = torch.meshgrid(torch.arange(height, device=flow.device, dtype=flow.dtype),
                            torch.arange(width, device=flow.device, dtype=flow.dtype), indexing="ij")
    # align_corners=True maps -1/1 to the centres of the edge pixels, as remap does.
    grid_x = (xs + flow[:, 0]) * (2.0 / max(width - 1, 1)) - 1.0
    grid_y = (ys + flow[:, 1]) * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack((grid_x, grid_y), dim=-1).to(image.dtype)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


class Warp(torch.nn.Module):
    """Module form of :func:`warp`."""

    def forward(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        return warp(image, flow)
