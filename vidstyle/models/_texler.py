"""``texler``: a faithful GeneratorJ of Texler et al. 2020 (REFERENCE section 1), for comparison.

3.27 M parameters, BatchNorm everywhere, about 2.05 MFLOP per pixel. Input is
mapped from [0, 1] to [-1, 1] and the tanh output back to [0, 1]. The skip
concatenations need H, W divisible by 4; :class:`Stylizer` pads for it.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import Architecture, ModelConfig, register_architecture

# Texler's published configuration: filters per level and seven residual blocks.
TEXLER_FILTERS = (32, 64, 128, 128, 128, 64)
TEXLER_RESNET_BLOCKS = 7


def _conv_norm_act(in_ch: int, out_ch: int, size: int, stride: int, act: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, size, stride, size // 2, bias=False),
                               nn.BatchNorm2d(out_ch)]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


def _preact_block(channels: int) -> nn.Sequential:
    """BN-ReLU-conv-BN-ReLU-conv; the caller adds the identity."""
    return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(channels), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, 1, 1, bias=False))


def _upsample_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                         _conv_norm_act(in_ch, out_ch, 3, 1, nn.ReLU()))


class GeneratorJ(nn.Module):
    """Texler's generator. forward: (B, in_channels, H, W) in [0, 1], H and W
    multiples of 4 -> (B, 3, H, W) in [0, 1]."""

    def __init__(self, in_channels: int = 3, filters: tuple[int, ...] = TEXLER_FILTERS,
                 resnet_blocks: int = TEXLER_RESNET_BLOCKS) -> None:
        super().__init__()
        f0, f1, f2, f3, f4, f5 = filters
        self.conv0 = _conv_norm_act(in_channels, f0, 7, 1, nn.LeakyReLU(0.2))
        self.conv1 = _conv_norm_act(f0, f1, 3, 2, nn.LeakyReLU(0.2))
        self.conv2 = _conv_norm_act(f1, f2, 3, 2, nn.LeakyReLU(0.2))
        self.resnets = nn.ModuleList(_preact_block(f2) for _ in range(resnet_blocks))
        self.upconv2 = _upsample_conv(f3 + f2, f4)
        self.upconv1 = _upsample_conv(f4 + f1, f4)
        self.conv_11 = nn.Sequential(nn.Conv2d(f0 + f4 + in_channels, f5, 7, 1, 3, bias=False), nn.ReLU())
        self.conv_11_a = nn.Sequential(nn.Conv2d(f5, f5, 3, 1, 1, bias=False), nn.ReLU(), nn.BatchNorm2d(f5),
                                       nn.Conv2d(f5, f5, 3, 1, 1, bias=False), nn.ReLU())
        self.conv_12 = nn.Sequential(nn.Conv2d(f5, 3, 1, 1, 0, bias=True), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * 2.0 - 1.0
        out_0 = self.conv0(x)
        out_1 = self.conv1(out_0)
        out_2 = self.conv2(out_1)
        out = out_2
        for block in self.resnets:
            out = block(out) + out
        out = self.upconv2(torch.cat((out, out_2), dim=1))
        out = self.upconv1(torch.cat((out, out_1), dim=1))
        out = self.conv_11(torch.cat((out, out_0, x), dim=1))
        out = self.conv_12(self.conv_11_a(out))
        return out * 0.5 + 0.5


def build_texler(config: ModelConfig) -> nn.Module:
    return GeneratorJ(config.in_channels, **config.arch_options)


TEXLER = register_architecture(Architecture(
    "texler", build_texler, size_multiple=4, cpu_channels_last=True,
    description="Texler et al. 2020 GeneratorJ (3.3 M params, ~2 MFLOP/pixel), for comparison"))
