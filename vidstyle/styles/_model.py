"""Per-frame stylizers loaded from a model file: a vidstyle checkpoint, a fast_neural_style
``.pth`` (both through :func:`vidstyle.models.load_stylizer`) or an ONNX image-to-image model.

ONNX models must take one NCHW float tensor, RGB, (1 or any batch, 3, H, W), in [0, 1]
(``input_range=1``, what ``vidstyle export`` writes) or [0, 255] (``input_range=255``, e.g.
pytorch/examples fast_neural_style exported as is), and return (1, 3, H', W') on the same
scale; an output of another size is resized back to the frame's. A model with a fixed
input size gets frames resized to it. Anything else is refused in one line when the model
is loaded; a range that does not fit the model is refused on the first frame.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._device import Device
from ..errors import InputError, UsageError

ONNX_INSTALL = 'pip install "vidstyle[onnx]"'
INPUT_RANGES = (1, 255)
# A [0, 1] model's output above this (or a [0, 255] model's whole output below 1/this of
# its scale) means the range was given wrong; unclamped outputs overshoot by a few per cent.
_RANGE_SLACK = 2.0


def is_onnx_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".onnx"


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError("is a folder, not a model file" if path.is_dir() else "no such model file", path)


class TorchModelPainter:
    """A vidstyle or fast_neural_style model applied to each frame on its own (its learned
    temporal stage, if any, is not used: a painter sees one frame). fp32, run by the
    renderer's :class:`~vidstyle.render.ModelRunner`."""

    def __init__(self, path: str | Path, *, device: str = "auto") -> None:
        from ..models import load_stylizer
        from ..render import ModelRunner, resolve_runtime

        self.path = Path(path)
        stylizer = load_stylizer(self.path, "cpu")
        if stylizer.config.guide_channels:
            raise UsageError(f"the model takes {stylizer.config.guide_channels} guide channel(s) besides RGB; "
                             "painting needs a per-frame model (render this one with its guide images instead)",
                             self.path)
        plan = resolve_runtime(device, "fp32", batch=1, model=stylizer, workers=1)
        self._runner = ModelRunner(stylizer, plan)
        self._device = plan.device
        self.name = f"model {self.path.name}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(rgb)).to(self._device)
            x = x.permute(2, 0, 1)[None].float().div_(255.0)
            out = self._runner(x)[0].clamp_(0.0, 1.0).mul_(255.0).round_()
            return out.to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class OnnxPainter:
    """An ONNX image-to-image model run with onnxruntime (CPU, or CUDA when its GPU build
    is installed and ``device`` allows): (H, W, 3) uint8 RGB in and out."""

    def __init__(self, path: str | Path, *, input_range: float = 1, device: str = "auto") -> None:
        self.path = Path(path)
        _check_file(self.path)
        if input_range not in INPUT_RANGES:
            raise UsageError(f"model_range must be 1 (input in [0, 1]) or 255 (input in [0, 255]), "
                             f"got {input_range:g}", params=("model_range",))
        self.scale = float(input_range)
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError:
            raise UsageError(f"ONNX models need onnxruntime: {ONNX_INSTALL}") from None
        providers = ["CPUExecutionProvider"]
        if Device.parse(device) is not Device.CPU and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            raise InputError(f"not a loadable ONNX model ({first})", self.path) from None
        self._input_name, self._fixed_size = self._check_io()
        self._checked = False
        self.name = f"model {self.path.name}"

    def _check_io(self) -> tuple[str, tuple[int, int] | None]:
        """The input's name and its fixed (width, height), if any; refuses other layouts."""
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            names = ", ".join(f"{i.name} {i.shape}" for i in inputs)
            raise InputError(f"the ONNX model takes {len(inputs)} inputs ({names}); vidstyle paints with "
                             "image-to-image models that take one (N, 3, H, W) image", self.path)
        spec = inputs[0]
        shape = list(spec.shape)
        if spec.type not in ("tensor(float)", "tensor(float16)"):
            raise InputError(f"the ONNX model's input {spec.name!r} is {spec.type}; vidstyle needs float "
                             "(N, 3, H, W)", self.path)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3) or (shape[1] != 3 and shape[3] == 3):
            layout = " (this looks like NHWC: export it channels-first)" if len(shape) == 4 and shape[3] == 3 else ""
            raise InputError(f"the ONNX model's input {spec.name!r} has shape {shape}; vidstyle needs "
                             f"(N, 3, H, W) RGB{layout}", self.path)
        if isinstance(shape[0], int) and shape[0] != 1:
            raise InputError(f"the ONNX model's input {spec.name!r} has a fixed batch of {shape[0]}; vidstyle "
                             "paints one frame at a time (export it with batch 1 or a dynamic batch)", self.path)
        out = list(outputs[0].shape or [])
        if out and (len(out) != 4 or (isinstance(out[1], int) and out[1] != 3)):
            raise InputError(f"the ONNX model's output {outputs[0].name!r} has shape {out}; vidstyle needs "
                             "(N, 3, H, W) RGB", self.path)
        height, width = shape[2], shape[3]
        fixed = (width, height) if isinstance(height, int) and isinstance(width, int) else None
        self._half = spec.type == "tensor(float16)"
        return spec.name, fixed

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        frame = rgb if self._fixed_size in (None, (width, height)) else cv2.resize(
            rgb, self._fixed_size, interpolation=cv2.INTER_AREA)
        x = frame.transpose(2, 0, 1)[None].astype(np.float32) * (self.scale / 255.0)
        try:
            out: Any = self._session.run(None, {self._input_name: x.astype(np.float16) if self._half else x})[0]
        except Exception as err:  # noqa: BLE001 - onnxruntime's own exception types
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            raise InputError(f"the ONNX model failed on a {frame.shape[1]}x{frame.shape[0]} frame ({first})",
                             self.path) from None
        out = np.asarray(out, dtype=np.float32)
        if out.ndim != 4 or out.shape[:2] != (1, 3):
            raise InputError(f"the ONNX model returned shape {tuple(out.shape)}; vidstyle needs (1, 3, H, W)",
                             self.path)
        if not self._checked:
            self._check_range(out, bright=int(frame.max()) >= 64)
            self._checked = True
        image = np.clip(out[0].transpose(1, 2, 0) * (255.0 / self.scale), 0, 255).round().astype(np.uint8)
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
        return image

    def _check_range(self, out: np.ndarray, *, bright: bool) -> None:
        """The first frame's output must be on the scale the input was given in (a dark
        frame may give a dark output on either scale, so only a ``bright`` one tells)."""
        if not np.isfinite(out).all():
            raise InputError("the ONNX model returned NaN or infinite values", self.path)
        top = float(out.max())
        if self.scale == 1 and top > _RANGE_SLACK:
            raise UsageError(f"the ONNX model returned values up to {top:.4g} for input in [0, 1]: it works on "
                             "[0, 255]; give model_range=255", self.path, params=("model_range",))
        if self.scale == 255 and bright and top < _RANGE_SLACK:
            raise UsageError(f"the ONNX model returned values of at most {top:.3g} for input in [0, 255]: it "
                             "works on [0, 1]; give model_range=1", self.path, params=("model_range",))


def load_model_painter(path: str | Path, *, input_range: float = 1, device: str = "auto") -> Any:
    """A painter for ``path``: ONNX by its ``.onnx`` suffix, else a PyTorch model file."""
    path = Path(path)
    if is_onnx_file(path):
        return OnnxPainter(path, input_range=input_range, device=device)
    if input_range != 1:
        raise UsageError("model_range is for ONNX models; PyTorch model files say their own scale", path,
                         params=("model_range",))
    return TorchModelPainter(path, device=device)
