"""Count the floating-point operations of a generator per output pixel."""

from __future__ import annotations

import torch
from torch import nn


def flops_per_pixel(model: nn.Module, in_channels: int | None = None, size: tuple[int, int] = (128, 128)) -> float:
    """FLOP per output pixel of one forward pass, counting a multiply-add as 2.

    Convolutions (and linear layers) are counted exactly from their output
    shapes by forward hooks; activations, normalisation and resampling (a few
    FLOP per element) are left out, as is usual. ``size`` (W, H) should be a
    multiple of the architecture's size multiple; the figure barely depends on it.
    """
    if in_channels is None:
        config = getattr(model, "config", None)
        in_channels = config.in_channels if config is not None else 3
    total = 0.0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            in_per_group = module.in_channels // module.groups
            if isinstance(module, nn.ConvTranspose2d):  # each input element is scattered to a kernel
                total += 2.0 * inputs[0].numel() * module.out_channels // module.groups * kernel
            else:
                total += 2.0 * output.numel() * in_per_group * kernel
            if module.bias is not None:
                total += output.numel()
        elif isinstance(module, nn.Linear):
            total += 2.0 * output.numel() * module.in_features

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    width, height = size
    param = next(model.parameters())
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_channels, height, width, device=param.device, dtype=param.dtype))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total / (width * height)
