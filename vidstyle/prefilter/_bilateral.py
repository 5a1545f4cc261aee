"""Temporal bilateral filter along optical-flow trajectories (Texler et al.'s pre-filter)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from ..errors import UsageError
from ..flow import DisFlow, FlowPreset, validity_mask
from ..io import Codec, Frame, TranscodeResult, open_video, transcode

SIGMA_C_DEFAULT = math.sqrt(3.0) * 255.0 / 16.0  # 27.6, Texler's value in 0-255 units


@dataclass(frozen=True)
class PrefilterSettings:
    """``radius`` frames each way; time weight exp(-k^2 / (2 sigma_t^2)) (symmetric);
    colour weight exp(-|c_k - c_0|^2 / (2 sigma_c^2)), RGB 0-255."""

    radius: int = 15
    sigma_t: float = 5.0
    sigma_c: float = SIGMA_C_DEFAULT
    preset: FlowPreset = FlowPreset.MEDIUM

    def __post_init__(self) -> None:
        if self.radius < 1:
            raise UsageError(f"pre-filter radius must be at least 1 frame (got {self.radius})")
        if not (self.sigma_t > 0 and self.sigma_c > 0):
            raise UsageError("pre-filter sigma-t and sigma-c must be positive")


@dataclass
class _Link:
    """Flows and step validity between window frames t and t+1."""

    forward: np.ndarray   # t -> t+1, on frame t
    backward: np.ndarray  # t+1 -> t, on frame t+1
    forward_ok: np.ndarray   # (H, W) float32 1/0 on frame t
    backward_ok: np.ndarray  # on frame t+1


def temporal_bilateral_frames(frames: Iterable[Frame], *, radius: int = 15, sigma_t: float = 5.0,
                              sigma_c: float = SIGMA_C_DEFAULT,
                              preset: FlowPreset | str = FlowPreset.MEDIUM) -> Iterator[Frame]:
    """Filter a stream of frames; yields frames with the same index and pts, in order.

    For each pixel of frame t the trajectory is followed up to ``radius`` frames
    forward and backward through the flow (bilinear); a trajectory stops at the
    first step whose flow fails Lai et al.'s occlusion test or that leaves the
    frame. The output is the weighted mean of the colours met, with symmetric time
    weights and colour weights (see :class:`PrefilterSettings`). Memory: a window
    of 2 x radius + 1 frames and their flows.
    """
    settings = PrefilterSettings(radius, sigma_t, sigma_c, FlowPreset.parse(preset))
    dis = DisFlow(settings.preset)
    window: deque[Frame] = deque()
    links: deque[_Link] = deque()
    centre = 0  # position in `window` of the next frame to output
    for frame in frames:
        if window:
            links.append(_link(dis, window[-1].rgb, frame.rgb))
        window.append(frame)
        if len(window) - 1 - centre >= settings.radius:
            yield _filter_at(window, links, centre, settings)
            centre += 1
        if centre > settings.radius:  # the oldest frame is out of every remaining window
            window.popleft()
            links.popleft()
            centre -= 1
    while centre < len(window):
        yield _filter_at(window, links, centre, settings)
        centre += 1


def _link(dis: DisFlow, a: np.ndarray, b: np.ndarray) -> _Link:
    forward, backward = dis(a, b), dis(b, a)
    return _Link(forward, backward,
                 validity_mask(forward, backward, exclude_outside=True).astype(np.float32),
                 validity_mask(backward, forward, exclude_outside=True).astype(np.float32))


def _filter_at(window: deque[Frame], links: deque[_Link], centre: int,
               settings: PrefilterSettings) -> Frame:
    frame = window[centre]
    colour0 = frame.rgb.astype(np.float32)
    height, width = colour0.shape[:2]
    total = colour0.copy()
    weight_sum = np.ones((height, width), np.float32)
    base_x, base_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    inv_t = 1.0 / (2.0 * settings.sigma_t ** 2)
    inv_c = 1.0 / (2.0 * settings.sigma_c ** 2)
    for direction in (1, -1):
        map_x, map_y = base_x.copy(), base_y.copy()
        alive = np.ones((height, width), np.float32)
        for k in range(1, settings.radius + 1):
            target = centre + direction * k
            if not 0 <= target < len(window):
                break
            link = links[target - 1] if direction == 1 else links[target]
            flow = link.forward if direction == 1 else link.backward
            step_ok = link.forward_ok if direction == 1 else link.backward_ok
            alive *= cv2.remap(step_ok, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
            if not alive.any():
                break
            motion = cv2.remap(flow, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            map_x += motion[..., 0]
            map_y += motion[..., 1]
            alive *= ((map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1))
            colour = cv2.remap(window[target].rgb, map_x, map_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
            distance = ((colour - colour0) ** 2).sum(axis=2)
            weight = alive * np.exp(-(k * k) * inv_t - distance * inv_c).astype(np.float32)
            total += colour * weight[..., None]
            weight_sum += weight
    rgb = np.clip(np.rint(total / weight_sum[..., None]), 0, 255).astype(np.uint8)
    return Frame(index=frame.index, pts=frame.pts, time_base=frame.time_base, rgb=rgb)


def temporal_bilateral(source: str | Path, *, radius: int = 15, sigma_t: float = 5.0,
                       sigma_c: float = SIGMA_C_DEFAULT, preset: FlowPreset | str = FlowPreset.MEDIUM,
                       size: tuple[int, int] | None = None) -> Iterator[Frame]:
    """:func:`temporal_bilateral_frames` over the frames of a video or image folder."""
    with open_video(source, size=size) as reader:
        yield from temporal_bilateral_frames(reader, radius=radius, sigma_t=sigma_t, sigma_c=sigma_c,
                                             preset=preset)


def write_prefiltered(source: str | Path, output: str | Path, *, radius: int = 15, sigma_t: float = 5.0,
                      sigma_c: float = SIGMA_C_DEFAULT, preset: FlowPreset | str = FlowPreset.MEDIUM,
                      size: tuple[int, int] | None = None, codec: Codec | None = None,
                      crf: int | None = None, overwrite: bool = False) -> TranscodeResult:
    """Pre-filter ``source`` into ``output`` (a video keeps timestamps and audio; a
    folder gets ``000120.png`` frames)."""
    PrefilterSettings(radius, sigma_t, sigma_c, FlowPreset.parse(preset))  # fail before decoding

    def transform(frames: Iterator[Frame]) -> Iterator[Frame]:
        return temporal_bilateral_frames(frames, radius=radius, sigma_t=sigma_t, sigma_c=sigma_c,
                                         preset=preset)

    return transcode(source, output, transform=transform, size=size, codec=codec, crf=crf,
                     overwrite=overwrite, desc="prefilter")
