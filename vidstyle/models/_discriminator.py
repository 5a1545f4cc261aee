"""Texler's unconditional PatchGAN discriminator (least-squares GAN)."""

from __future__ import annotations

import torch
from torch import nn

from .._shapes import check_shape


class PatchDiscriminator(nn.Module):
    """4 convs (12, 24, 48 filters, InstanceNorm): (B, 3, 32, 32) in [0, 1] ->
    (B, 1, 6, 6) logits, one per overlapping sub-patch."""

    def __init__(self, filters: int = 12, in_channels: int = 3) -> None:
        super().__init__()
        f = filters
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, f, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(f, 2 * f, 4, 2, 1), nn.InstanceNorm2d(2 * f), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * f, 4 * f, 4, 1, 1), nn.InstanceNorm2d(4 * f), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * f, 1, 4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(x, "B, 3, H, W", "input")
        return self.net(x * 2.0 - 1.0)


def lsgan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: mean (logits - 1)^2 for real, logits^2 for fake."""
    target = 1.0 if real else 0.0
    return ((logits - target) ** 2).mean()
