"""pytorch/examples ``fast_neural_style`` TransformerNet, loadable from the ``.pth`` files people have.

The module and parameter names reproduce the original's state-dict layout
(``conv1.conv2d.weight``, ``in1.weight``, ``res1.conv1.conv2d.weight`` ...
``deconv3.conv2d.bias``) so its checkpoints (mosaic, candy, udnie,
rain_princess) load unchanged. Checkpoints saved by PyTorch < 0.4 also carry
InstanceNorm ``running_mean``/``running_var`` buffers that current PyTorch does
not use; the loader drops them as the original ``neural_style.py`` does.

The original works on RGB in [0, 255] and leaves its output unclamped; the
registered architecture wraps it to vidstyle's convention, (B, 3, H, W) in
[0, 1] in and out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._base import FOREIGN_LOADERS, Architecture, ModelConfig, Stylizer, load_error_reason, register_architecture

ARCH_NAME = "fast_neural_style"
# Keys that only this layout has; all must be present to claim a state dict.
_SIGNATURE_KEYS = ("conv1.conv2d.weight", "in1.weight", "res5.conv2.conv2d.weight",
                   "deconv1.conv2d.weight", "deconv3.conv2d.bias")
_UNUSED_NORM_BUFFERS = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")


class _ReflectConv(nn.Module):
    """Reflection padding then a convolution ("ConvLayer" in the original)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 upsample: int | None = None) -> None:
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:  # nearest upsampling then conv avoids checkerboard artefacts
            x = nn.functional.interpolate(x, scale_factor=self.upsample, mode="nearest")
        return self.conv2d(self.reflection_pad(x))


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _ReflectConv(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = _ReflectConv(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(out))


class TransformerNet(nn.Module):
    """Johnson et al.'s image transformation network as in pytorch/examples.

    forward: (B, 3, H, W) RGB in [0, 255] -> (B, 3, H', W') unclamped, where
    H', W' equal H, W when both are multiples of 4.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _ReflectConv(3, 32, 9)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = _ReflectConv(32, 64, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = _ReflectConv(64, 128, 3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res1 = _ResidualBlock(128)
        self.res2 = _ResidualBlock(128)
        self.res3 = _ResidualBlock(128)
        self.res4 = _ResidualBlock(128)
        self.res5 = _ResidualBlock(128)
        self.deconv1 = _ReflectConv(128, 64, 3, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = _ReflectConv(64, 32, 3, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = _ReflectConv(32, 3, 9)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


class FastNeuralStyle(TransformerNet):
    """:class:`TransformerNet` on vidstyle's scale: (B, 3, H, W) in [0, 1] -> [0, 1].

    Subclassing (rather than wrapping) keeps the original state-dict keys.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (super().forward(x * 255.0) / 255.0).clamp(0.0, 1.0)


def _build(config: ModelConfig) -> nn.Module:
    if config.guide_channels:
        raise ValueError("fast_neural_style takes RGB only (guide_channels must be 0)")
    return FastNeuralStyle()


# InstanceNorm is slower in channels_last on CPU (fp32) and no faster in bf16 (docs/BENCHMARKS.md).
register_architecture(Architecture(
    name=ARCH_NAME, build=_build, size_multiple=4, cpu_channels_last=False,
    description="pytorch/examples fast_neural_style TransformerNet (Johnson et al. 2016), 1.7 M parameters"))


def is_fast_neural_style_state_dict(state: Any) -> bool:
    """Whether ``state`` has the TransformerNet layout (after removing a
    DataParallel ``module.`` prefix)."""
    if not isinstance(state, dict):
        return False
    keys = {_strip_prefix(k) for k in state if isinstance(k, str)}
    return all(key in keys for key in _SIGNATURE_KEYS)


def _strip_prefix(key: str) -> str:
    return key[len("module."):] if key.startswith("module.") else key


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the deprecated InstanceNorm buffers and a ``module.`` prefix."""
    return {_strip_prefix(k): v for k, v in state.items() if not _UNUSED_NORM_BUFFERS.search(k)}


def load_fast_neural_style(data: Any, path: Path) -> Stylizer | None:
    """FOREIGN_LOADERS entry: a bare TransformerNet state dict (or one under a
    ``state_dict`` key) becomes a :class:`Stylizer`; anything else gives None."""
    from ..errors import InputError

    state = data.get("state_dict") if isinstance(data, dict) and "state_dict" in data else data
    if not is_fast_neural_style_state_dict(state):
        return None
    config = ModelConfig(arch=ARCH_NAME, info={"source": "pytorch/examples fast_neural_style",
                                               "file": Path(path).name})
    model = Stylizer(config)
    try:
        model.net.load_state_dict(clean_state_dict(state))
    except RuntimeError as err:
        raise InputError(f"looks like a fast_neural_style model but its weights do not fit "
                         f"({load_error_reason(err)})", path) from None
    return model


if load_fast_neural_style not in FOREIGN_LOADERS:
    FOREIGN_LOADERS.append(load_fast_neural_style)
