"""Small generated clips and toy models for the renderer tests (no files from /work/shared)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from torch import nn

from vidstyle.models import Architecture, ModelConfig, Stylizer, register_architecture


def moving_pattern(index: int, width: int, height: int) -> np.ndarray:
    """A smooth, textured frame that moves 2 px per frame (flow-friendly, codec-friendly)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shift = 2.0 * index
    red = 128 + 90 * np.sin((xs + shift) / 7.0) * np.cos(ys / 9.0)
    green = 128 + 90 * np.cos((xs + shift) / 11.0 + ys / 13.0)
    blue = 128 + 60 * np.sin((xs + shift + ys) / 17.0)
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)


def make_clip(path: Path, *, frames: int = 24, size: tuple[int, int] = (64, 48), fps: int = 20,
              audio: bool = True, vfr: bool = False) -> Path:
    """Write an H.264 clip (CRF 10) with optional AAC audio; ``vfr`` spaces frames
    unevenly (millisecond time base) like an OBS recording under load."""
    width, height = size
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = Fraction(1, 1000)
        video.options = {"crf": "10", "preset": "ultrafast"}
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=48000)
            sound.layout = "stereo"
        step_ms = 1000 // fps
        pts = 0
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(moving_pattern(index, width, height), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            container.mux(video.encode(frame))
            pts += step_ms + ((index * 37) % 3) * 10 if vfr else step_ms
        container.mux(video.encode(None))
        if sound is not None:
            samples = int(48000 * pts / 1000)
            t = np.arange(samples, dtype=np.float32) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start:start + 1024]
                audio_frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp",
                                                         layout="stereo")
                audio_frame.sample_rate = 48000
                audio_frame.pts = start
                container.mux(sound.encode(audio_frame))
            container.mux(sound.encode(None))
    return path


def video_pts_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(f.pts * stream.time_base) for f in container.decode(stream))


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def audio_packets(path: Path) -> list[tuple[float, bytes]]:
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
    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.fn = fn
        self.anchor = nn.Parameter(torch.zeros(()))  # so .to(device) has something to move

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + 0 * self.anchor


def toy_model(name: str, fn, guide_channels: int = 0, size_multiple: int = 1) -> Stylizer:  # type: ignore[no-untyped-def]
    """A Stylizer whose network computes ``fn(x)`` (registered as a test architecture)."""
    register_architecture(Architecture(name=name, build=lambda config: _Lambda(fn),
                                       size_multiple=size_multiple))
    return Stylizer(ModelConfig(arch=name, guide_channels=guide_channels))
