"""Where torch work runs, one choice for the renderer, the trainer, the painters and recipes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ._choice import Choice
from .errors import UsageError

if TYPE_CHECKING:
    import torch


class Device(Choice):
    """``device``: AUTO picks CUDA when PyTorch sees a GPU. ``cuda:N`` names a GPU by index."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"

    @classmethod
    def label(cls) -> str:
        return "device"

    @classmethod
    def parse(cls, value: "str | Device | torch.device") -> "Device":
        """Also takes a torch.device or ``cuda:N`` (the index is :func:`resolve_device`'s business)."""
        if not isinstance(value, (str, Device)):
            value = getattr(value, "type", value)  # a torch.device, without importing torch here
        if isinstance(value, str):
            value = value.split(":")[0]
        return super().parse(value)


def _index(device: "str | Device | torch.device") -> int | None:
    if isinstance(device, str) and ":" in device:
        text = device.split(":", 1)[1].strip()
        if not text.isdigit():
            raise UsageError(f"unknown device {device!r} (auto, cpu, cuda, cuda:N)")
        return int(text)
    return getattr(device, "index", None) if not isinstance(device, (str, Device)) else None


def resolve_device(device: "str | Device | torch.device" = Device.AUTO, *,
                   fallback: Callable[[str], None] | None = None) -> "torch.device":
    """The torch.device for ``device``: ``auto`` is ``cuda`` when PyTorch sees a GPU, else ``cpu``;
    ``cuda:N`` keeps its index. CUDA asked for without a GPU is a one-line UsageError, or, given
    ``fallback``, the CPU after ``fallback`` is called with a one-line message."""
    import torch

    kind = Device.parse(device)
    index = _index(device)
    cuda_ok = torch.cuda.is_available()
    if kind is Device.CUDA and not cuda_ok:
        message = "device cuda: PyTorch sees no CUDA GPU (CPU build or no driver)"
        if fallback is None:
            raise UsageError(f"{message}; use auto or cpu", params=("device",))
        fallback(f"{message}; running on CPU")
    if kind is not Device.CPU and cuda_ok:
        return torch.device("cuda", index or 0)
    return torch.device("cpu")
