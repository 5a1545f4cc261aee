"""Stylization models: one config record, one wrapper, one checkpoint format.

A checkpoint is a single ``torch.save`` dict of tensors and plain values::

    {"format": "vidstyle-model", "config": "<JSON of ModelConfig>",
     "state_dict": {...}, "fusion_state_dict": {...} (optional, the temporal stage),
     "training_state": {...} (optional, for --resume)}

and is only ever read with ``torch.load(..., weights_only=True)``: a model file
can never run code.
"""

from __future__ import annotations

import json
import re
import pickle
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__
from .._defaults import DESIGN
from .._shapes import check_shape
from ..errors import InputError
from ..io import atomic_output
from ._fusion import FusionConfig, TemporalFusion

CHECKPOINT_FORMAT = "vidstyle-model"


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model, JSON-serialisable.

    ``guide_channels`` extra input channels follow the 3 RGB channels;
    ``train_size`` is the (width, height) frames were trained at, which the
    renderer uses unless told otherwise. ``fusion`` is the
    :class:`~vidstyle.models.FusionConfig` (as a dict) of the model's learned
    temporal stage, None for a per-frame model.
    """

    arch: str
    guide_channels: int = 0
    train_size: tuple[int, int] | None = None
    arch_options: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # training summary: losses, steps, keyframes
    fusion: dict[str, Any] | None = None
    vidstyle_version: str = __version__

    @property
    def in_channels(self) -> int:
        return 3 + self.guide_channels

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)
        if data.get("train_size") is not None:
            data["train_size"] = tuple(data["train_size"])
        return cls(**data)


@dataclass(frozen=True)
class Architecture:
    """A registered generator design: ``build(config) -> nn.Module`` mapping
    (B, in_channels, H, W) in [0, 1] to (B, 3, H, W) in [0, 1] for H, W
    multiples of ``size_multiple``.

    ``cpu_channels_last``: the design runs faster on CPU in channels_last
    memory format than in the default (contiguous) one. It is a measured
    property of the design, not a rule: plain convolutions gain from it, the
    InstanceNorm layers of fast_neural_style lose (docs/BENCHMARKS.md). On CUDA
    the renderer always uses channels_last.
    """

    name: str
    build: Callable[[ModelConfig], nn.Module]
    size_multiple: int = 1
    description: str = ""
    cpu_channels_last: bool = False


ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(arch: Architecture) -> Architecture:
    ARCHITECTURES[arch.name] = arch
    return arch


def get_architecture(name: str) -> Architecture:
    _load_builtin_architectures()
    if name not in ARCHITECTURES:
        raise InputError(f"unknown model architecture {name!r} (known: {', '.join(sorted(ARCHITECTURES))})")
    return ARCHITECTURES[name]


def _load_builtin_architectures() -> None:
    """Import the modules that register the built-in designs (kept lazy)."""
    import importlib

    for module in BUILTIN_ARCHITECTURE_MODULES:
        importlib.import_module(module)


BUILTIN_ARCHITECTURE_MODULES: list[str] = ["vidstyle.models._fast", "vidstyle.models._texler",
                                           "vidstyle.models.fast_neural_style"]
DEFAULT_ARCH = DESIGN  # vidstyle._defaults


class Stylizer(nn.Module):
    """A generator plus its config; accepts any frame size.

    forward: (B, 3 + guide_channels, H, W) float in [0, 1] -> (B, 3, H, W) in
    [0, 1]. Frames are padded (replicate) to the architecture's size multiple
    and cropped back, so odd sizes work. ``fusion`` is the optional learned
    temporal stage (:class:`~vidstyle.models.TemporalFusion`) that the renderer
    runs on ``forward``'s output frame after frame; ``forward`` never uses it.
    """

    def __init__(self, config: ModelConfig, net: nn.Module | None = None) -> None:
        super().__init__()
        self.config = config
        arch = get_architecture(config.arch)
        self.size_multiple = arch.size_multiple
        self.net = net if net is not None else arch.build(config)
        self.fusion = TemporalFusion(FusionConfig.from_dict(config.fusion)) if config.fusion else None

    def attach_fusion(self, fusion: TemporalFusion | None) -> None:
        """Set (or with None, remove) the temporal stage, keeping the config in step."""
        self.fusion = fusion
        self.config.fusion = fusion.config.to_dict() if fusion is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(x, f"B, {self.config.in_channels}, H, W", "input")
        height, width = x.shape[-2:]
        m = self.size_multiple
        pad_h, pad_w = (-height) % m, (-width) % m
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        out = self.net(x)
        return out[..., :height, :width]


NEGLIGIBLE_WEIGHT = 1e-20


@torch.no_grad()
def flush_negligible_weights(module: nn.Module, threshold: float = NEGLIGIBLE_WEIGHT) -> int:
    """Set floating-point parameters smaller than ``threshold`` in magnitude to 0; returns how many.

    Weight decay drives unused weights towards 0 without reaching it, and their
    products fall into the denormal range, where x86 CPUs compute fp32 several
    times slower (a 5-minute ``fast`` model ran 0.76 s instead of 0.11 s per
    320x240 frame on 2 threads; docs/BENCHMARKS.md). Flushing only the calling
    thread's denormals (``torch.set_flush_denormal``) misses torch's worker
    threads. At 1e-20 no output changes (measured: identical to the last bit).
    """
    count = 0
    for param in module.parameters():
        if param.is_floating_point():
            tiny = (param.abs() < threshold) & (param != 0)
            count += int(tiny.sum())
            param.masked_fill_(tiny, 0.0)
    return count


def build_stylizer(config: ModelConfig) -> Stylizer:
    return Stylizer(config)


def save_checkpoint(path: str | Path, model: Stylizer, *, training_state: dict[str, Any] | None = None,
                    overwrite: bool = True) -> Path:
    """Write ``model`` (and optional resumable training state) atomically."""
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "config": model.config.to_json(),
        "state_dict": {k: v.detach().cpu() for k, v in model.net.state_dict().items()},
    }
    if model.fusion is not None:
        payload["fusion_state_dict"] = {k: v.detach().cpu() for k, v in model.fusion.state_dict().items()}
    if training_state is not None:
        payload["training_state"] = training_state
    with atomic_output(path, overwrite=overwrite) as temp:
        torch.save(payload, temp)
    return Path(path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint dict, loaded safely (weights_only)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("is a folder, not a model file" if path.is_dir() else "no such model file", path)
    with path.open("rb") as handle:
        head = handle.read(4)
    # torch.save writes a zip archive; very old files are a bare pickle (protocol 2+).
    if head == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        raise InputError("damaged model file: a PyTorch checkpoint that is cut short (incomplete copy or "
                         "download?)", path)
    if not (zipfile.is_zipfile(path) or head[:1] == b"\x80"):
        raise InputError("not a model file (not a PyTorch checkpoint)", path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputError("refused: the file holds code or objects, not only weights "
                         "(vidstyle never unpickles code from a model file)", path) from None
    except Exception as err:  # zip errors, truncation
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        raise InputError(f"damaged or unreadable model file ({reason})", path) from None


def load_error_reason(err: Exception, limit: int = 160) -> str:
    """torch's ``load_state_dict`` error in one line, keys first: its first line ("Error(s) in
    loading state_dict for X:") says nothing, the keys come after it."""
    text = " ".join(str(err).split())
    text = re.sub(r"^Error\(s\) in loading state_dict for \w+:\s*", "", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


FOREIGN_LOADERS: list[Callable[[dict[str, Any], Path], Stylizer | None]] = []
"""Loaders for other tools' state dicts (e.g. fast_neural_style); each returns
None when the layout is not theirs."""


def load_stylizer(path: str | Path, device: str | torch.device = "cpu") -> Stylizer:
    """Load a vidstyle checkpoint or a recognised foreign state dict, in eval mode."""
    path = Path(path)
    data = read_checkpoint(path)
    model: Stylizer | None = None
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        try:
            config = ModelConfig.from_json(data["config"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InputError(f"damaged model file: its config is not a vidstyle model config "
                             f"({type(err).__name__}: {str(err)[:80]})", path) from None
        try:
            model = Stylizer(config)
        except InputError as err:  # e.g. an architecture this version does not know
            raise InputError(str(err), path) from None
        try:
            model.net.load_state_dict(data["state_dict"])
            if model.fusion is not None:
                model.fusion.load_state_dict(data["fusion_state_dict"])
        except KeyError:
            raise InputError("the config names a temporal stage but the file holds no weights for it", path) from None
        except RuntimeError as err:
            raise InputError(f"weights do not fit architecture {config.arch!r} ({load_error_reason(err)})",
                             path) from None
    else:
        _load_builtin_architectures()
        for loader in FOREIGN_LOADERS:
            model = loader(data, path)
            if model is not None:
                break
    if model is None:
        raise InputError("not a vidstyle model and no known state-dict layout", path)
    flush_negligible_weights(model)  # files from before the trainer flushed them
    return model.to(device).eval()
