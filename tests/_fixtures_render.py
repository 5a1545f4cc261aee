"""Toy models and measurements for the renderer tests; clips come from ``_media.make_clip``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import av
import numpy as np
import torch
from torch import nn

from vidstyle.models import Architecture, ModelConfig, Stylizer, register_architecture


def moving_pattern(index: int, width: int, height: int) -> np.ndarray:
    """A smooth frame drifting 2 px per frame: texture for the flow, chroma as
    smooth as rendered game scenery (so 4:2:0 round trips cost little)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x = xs + 2.0 * index
    luma = 120 + 70 * np.sin(x / 5.0) * np.cos(ys / 6.0)
    red = luma + 30 * np.sin(x / 23.0)
    green = luma + 20 * np.cos(ys / 19.0)
    blue = luma - 30 * np.sin((x + ys) / 29.0)
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)


def video_pts_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(f.pts * stream.time_base) for f in container.decode(stream))


def read_frames(path: Path, **options: object) -> list[np.ndarray]:
    """RGB frames through vidstyle's own reader (``options`` as for ``open_video``: start, end, size)."""
    from vidstyle.io import open_video

    with open_video(path, **options) as reader:  # type: ignore[arg-type]
        return [frame.rgb for frame in reader]


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def timed_audio_packets(path: Path) -> list[tuple[float, bytes]]:
    """(time in seconds, bytes) of each audio packet of the first audio stream."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        stream = container.streams.audio[0]
        return [(float(p.pts * p.time_base), bytes(p)) for p in container.demux(stream)
                if p.dts is not None]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


class _Lambda(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn
        self.anchor = nn.Parameter(torch.zeros(()))  # so .to(device) has something to move

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + 0 * self.anchor


def toy_model(name: str, fn: Callable[[torch.Tensor], torch.Tensor], guide_channels: int = 0,
              size_multiple: int = 1) -> Stylizer:
    """A Stylizer whose network computes ``fn(x)`` (registered as a test architecture)."""
    register_architecture(Architecture(name=name, build=lambda config: _Lambda(fn),
                                       size_multiple=size_multiple))
    return Stylizer(ModelConfig(arch=name, guide_channels=guide_channels))


def fp32_only(x: torch.Tensor) -> torch.Tensor:
    """A toy network body with no bf16 kernel: fails in bf16 and under CPU autocast."""
    if x.dtype != torch.float32 or torch.is_autocast_enabled("cpu"):
        raise RuntimeError("\"some_op\" not implemented for 'BFloat16'")
    return x[:, :3]
