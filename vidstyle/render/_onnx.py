"""``vidstyle export``: a model as ONNX for game engines, checked against PyTorch.

The graph takes ``frames`` (B, 3 + guides, H, W) float32 RGB in [0, 1] and
returns ``stylized`` (B, 3, H, W) in [0, 1]. With a fixed size (what most
engines want) only the batch is dynamic; with ``size=None`` height and width
are dynamic too and any size works (padding to the architecture's multiple
is part of the graph). Export uses PyTorch's TorchScript-based exporter,
which needs the ``onnx`` package; the result is verified with onnxruntime
when that is installed (``pip install 'vidstyle[onnx]'``).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UsageError, VidstyleError
from ..io import atomic_output, check_output
from ..models import Stylizer, load_stylizer
from ..progress import warn

DEFAULT_OPSET = 17
TOLERANCE = 2e-3  # max |onnx - torch| on [0, 1] outputs; fp32 kernels differ by ~1e-5
INPUT_NAME, OUTPUT_NAME = "frames", "stylized"


@dataclass(frozen=True)
class OnnxExport:
    """An exported model: ``size`` None means dynamic height and width;
    ``max_abs_error`` is onnxruntime vs PyTorch (None when not verified)."""

    path: Path
    size: tuple[int, int] | None
    in_channels: int
    opset: int
    max_abs_error: float | None
    verified_with: str | None


class _PaddedNet(nn.Module):
    """The model with replicate-padding to its size multiple written so that
    the pad amounts are computed in the graph (traced, not baked in)."""

    def __init__(self, model: Stylizer) -> None:
        super().__init__()
        self.net = model.net
        self.multiple = model.size_multiple

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        height, width = frames.shape[-2], frames.shape[-1]
        if self.multiple > 1:
            pad_h = (self.multiple - height % self.multiple) % self.multiple
            pad_w = (self.multiple - width % self.multiple) % self.multiple
            frames = F.pad(frames, (0, pad_w, 0, pad_h), mode="replicate")
        return self.net(frames)[..., :height, :width]


def onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def export_onnx(model: Stylizer | str | Path, output: str | Path, *, size: tuple[int, int] | None = None,
                opset: int = DEFAULT_OPSET, verify: bool = True, overwrite: bool = False) -> OnnxExport:
    """Export ``model`` to ``output`` and check it against PyTorch.

    Args:
        model: a :class:`Stylizer` or a model file (vidstyle or fast_neural_style).
        output: the ``.onnx`` file to write (atomically).
        size: (width, height) for a fixed-size graph; None for dynamic H and W.
        opset: ONNX opset (17 suits current engines; Unity Sentis reads 7-15+).
        verify: compare onnxruntime's output with PyTorch's when onnxruntime is
            installed; raise if they differ by more than ``TOLERANCE``.
    """
    if not onnx_available():
        raise UsageError("ONNX export needs the onnx package: pip install 'vidstyle[onnx]' "
                         "(onnx, plus onnxruntime to verify)")
    inputs: list[str | Path] = [] if isinstance(model, Stylizer) else [model]
    output = check_output(output, inputs, overwrite)
    if output.suffix.lower() != ".onnx":
        raise UsageError(f"{output}: the output should end in .onnx")
    stylizer = model if isinstance(model, Stylizer) else load_stylizer(model, "cpu")
    stylizer = stylizer.to("cpu").float().eval()
    if stylizer.fusion is not None:
        warn("the model's learned temporal stage is not exported (it needs optical flow between frames); "
             "the ONNX graph is the per-frame generator, as a render with temporal=False runs it", params=("temporal",))
    graph = _PaddedNet(stylizer).eval()
    channels = stylizer.config.in_channels
    # Trace dynamic graphs at a size that needs padding, so the pad is recorded.
    width, height = size or (stylizer.config.train_size or (256, 192))
    if size is None:
        width, height = width + 1, height + 2
    example = _example_frames(1, channels, height, width)
    axes = {0: "batch"} if size is not None else {0: "batch", 2: "height", 3: "width"}
    with atomic_output(output, overwrite=overwrite) as temp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer chatter
        try:
            torch.onnx.export(graph, (example,), str(temp), dynamo=False, opset_version=opset,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes}, do_constant_folding=True)
        except Exception as err:  # noqa: BLE001
            raise VidstyleError(f"ONNX export failed ({type(err).__name__}: "
                                f"{str(err).splitlines()[0][:200]})", output) from None
        error, verified_with = None, None
        if verify and onnxruntime_available():
            sizes = [(width, height)] if size is not None else [(width, height), (width + 7, height - 5)]
            error = max(_compare(temp, output, graph, channels, w, h) for w, h in sizes)
            import onnxruntime

            verified_with = f"onnxruntime {onnxruntime.__version__}"
            if error > TOLERANCE:
                raise VidstyleError(f"exported graph differs from PyTorch by {error:.2g} "
                                    f"(tolerance {TOLERANCE}); try another opset", output, params=("opset",))
        else:
            import onnx

            onnx.checker.check_model(str(temp))
    return OnnxExport(path=output, size=size, in_channels=channels, opset=opset, max_abs_error=error,
                      verified_with=verified_with)


def _example_frames(batch: int, channels: int, height: int, width: int) -> torch.Tensor:
    """Smooth random frames (closer to video than white noise)."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(batch, channels, max(2, height // 8), max(2, width // 8), generator=generator)
    return F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)


def _compare(path: Path, name: Path, graph: nn.Module, channels: int, width: int, height: int) -> float:
    """Max |onnxruntime - PyTorch| on two smooth random frames of the given size."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    frames = _example_frames(2, channels, height, width)
    with torch.inference_mode():
        expected = graph(frames).numpy()
    got = session.run([OUTPUT_NAME], {INPUT_NAME: frames.numpy()})[0]
    if got.shape != expected.shape:
        raise VidstyleError(f"exported graph returns {got.shape} for {width}x{height}, PyTorch "
                            f"{expected.shape}", name)
    return float(np.abs(got - expected).max())
