"""VGG19 feature loss from a local weights file (never downloaded).

The layers are the start of torchvision's ``vgg19().features`` with the same
indices, so a torchvision state dict (``vgg19-dcbb9e9d.pth``) loads directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError

TORCHVISION_VGG19_FILE = "vgg19-dcbb9e9d.pth"
# Texler's layers: conv1_1, relu1_2, conv2_1 (indices in vgg19().features).
TEXLER_VGG_LAYERS = (0, 3, 5)


def find_vgg_weights() -> Path | None:
    """The torchvision VGG19 file in the torch hub cache, if present."""
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    candidate = hub / TORCHVISION_VGG19_FILE
    return candidate if candidate.is_file() else None


class VGGFeatureLoss(nn.Module):
    """MSE between VGG19 features of output and target, fed [-1, 1] without
    ImageNet normalisation, as Texler does. Inputs (B, 3, H, W) in [0, 1]."""

    def __init__(self, weights: str | Path, layers: tuple[int, ...] = TEXLER_VGG_LAYERS) -> None:
        super().__init__()
        weights = Path(weights)
        self.layers = tuple(layers)
        depth = max(self.layers) + 1
        modules: list[nn.Module] = []
        channels, config = 3, [64, 64, "M", 128, 128, "M", 256, 256, 256, 256]
        for item in config:
            if len(modules) >= depth:
                break
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules.append(nn.Conv2d(channels, int(item), 3, padding=1))
                if len(modules) < depth:
                    modules.append(nn.ReLU(inplace=False))
                channels = int(item)
        self.features = nn.Sequential(*modules[:depth])
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception:
            raise InputError("not a loadable VGG19 state dict", weights) from None
        wanted = {k: v for k, v in state.items() if k.startswith("features.")
                  and int(k.split(".")[1]) < depth} if isinstance(state, dict) else {}
        try:
            self.load_state_dict(wanted)
        except RuntimeError:
            raise InputError("not a torchvision VGG19 state dict (features.* keys missing)", weights) from None
        self.requires_grad_(False)
        self.eval()

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x = torch.cat((output, target)) * 2.0 - 1.0
        loss = output.new_zeros(())
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.layers:
                out_feat, target_feat = x.chunk(2)
                loss = loss + F.mse_loss(out_feat, target_feat)
        return loss
