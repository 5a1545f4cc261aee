"""Typed records and enums shared by the readers and writers."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._choice import Choice


class SourceKind(enum.Enum):
    """What an input path holds."""

    VIDEO = "video"
    IMAGE_FOLDER = "image_folder"
    IMAGE = "image"


class ColorMatrix(enum.Enum):
    """YUV<->RGB matrix of a stream (FFmpeg's AVColorSpace, grouped)."""

    BT709 = "bt709"
    BT601 = "bt601"
    BT2020 = "bt2020"
    SMPTE240M = "smpte240m"
    FCC = "fcc"
    RGB = "rgb"


class ColorRange(enum.Enum):
    """Limited (TV, 16-235) or full (PC, 0-255) range."""

    LIMITED = "limited"
    FULL = "full"


class Transfer(enum.Enum):
    """Transfer characteristic: SDR gamma or one of the HDR curves."""

    SDR = "sdr"
    PQ = "pq"
    HLG = "hlg"


class Codec(Choice):
    """Video codecs the writer offers. The value is FFmpeg's encoder name."""

    H264 = "libx264"
    H265 = "libx265"
    H264_NVENC = "h264_nvenc"
    FFV1 = "ffv1"
    PNG = "png"  # a folder of PNG frames, not a video stream

    @classmethod
    def label(cls) -> str:
        return "codec"

    @classmethod
    def choices(cls) -> list[str]:
        return ["h264", "h265", "h264_nvenc", "ffv1", "png"]  # as --help names them, not FFmpeg's encoders

    @classmethod
    def aliases(cls) -> dict[str, "Codec"]:
        return {"h264": cls.H264, "x264": cls.H264, "h265": cls.H265, "hevc": cls.H265,
                "x265": cls.H265, "nvenc": cls.H264_NVENC, "lossless": cls.FFV1}


@dataclass(frozen=True)
class ColorInfo:
    """How a stream's YUV samples map to RGB."""

    matrix: ColorMatrix
    range: ColorRange
    transfer: Transfer
    matrix_from_tag: bool = True  # False when guessed (untagged stream)

    @property
    def is_hdr(self) -> bool:
        return self.transfer is not Transfer.SDR


@dataclass(frozen=True)
class AudioStreamInfo:
    """One audio stream of a container."""

    index: int
    codec: str
    sample_rate: int
    channels: int
    duration: float | None


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` learns about an input without decoding it all.

    ``frame_count`` is exact unless ``frame_count_is_estimate`` (then it is
    duration x average rate, or None when not even that is known).
    """

    path: Path
    kind: SourceKind
    width: int
    height: int
    codec: str
    pixel_format: str
    nominal_fps: float | None
    average_fps: float | None
    is_vfr: bool
    frame_count: int | None
    frame_count_is_estimate: bool
    duration: float | None
    start_time: float
    time_base: Fraction
    color: ColorInfo
    rotation: int
    audio: tuple[AudioStreamInfo, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (enums as their values)."""
        data = asdict(self)
        data["path"] = str(self.path)
        data["kind"] = self.kind.value
        data["time_base"] = str(self.time_base)
        data["color"] = {
            "matrix": self.color.matrix.value,
            "range": self.color.range.value,
            "transfer": self.color.transfer.value,
            "matrix_from_tag": self.color.matrix_from_tag,
            "is_hdr": self.color.is_hdr,
        }
        return data


@dataclass
class Frame:
    """One decoded frame.

    ``rgb`` is an (H, W, 3) uint8 array. ``index`` is the zero-based frame index
    in the source (also after seeking), ``pts`` the source timestamp in units of
    ``time_base`` and ``time`` the same in seconds.
    """

    index: int
    pts: int
    time_base: Fraction
    rgb: np.ndarray

    @property
    def time(self) -> float:
        return float(self.pts * self.time_base)

    def to_tensor(self, device: str | Any = "cpu") -> Any:
        """The frame as a float (3, H, W) torch tensor in [0, 1]."""
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(self.rgb)).to(device)
        return tensor.permute(2, 0, 1).float().div_(255.0)
