"""``vidstyle export``: ONNX graphs that match PyTorch (skipped without onnx/onnxruntime)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidstyle._defaults import EDGE_INPUT
from vidstyle.errors import UsageError
from vidstyle.models import ModelConfig, Stylizer
from vidstyle.render import export_onnx

HAS_ONNX = importlib.util.find_spec("onnx") is not None
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
needs_onnx = pytest.mark.skipif(not (HAS_ONNX and HAS_ORT), reason="needs onnx and onnxruntime "
                                "(pip install 'vidstyle[onnx]')")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    stylizer = Stylizer(ModelConfig("fast_neural_style", train_size=(64, 48)))
    with torch.no_grad():  # random weights give ~0 everywhere; spread outputs over [0, 1]
        stylizer.net.deconv3.conv2d.weight.mul_(150)
        stylizer.net.deconv3.conv2d.bias.fill_(128)
    return stylizer.eval()


def _run_onnx(path: Path, frames: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["stylized"], {"frames": frames})[0]


@needs_onnx
def test_fixed_size_export_matches_torch(model, tmp_path):
    result = export_onnx(model, tmp_path / "fixed.onnx", size=(64, 48))
    assert result.max_abs_error is not None and result.max_abs_error < 1e-3
    frames = np.random.default_rng(0).random((2, 3, 48, 64), dtype=np.float32)
    got = _run_onnx(result.path, frames)
    with torch.no_grad():
        expected = model(torch.from_numpy(frames)).numpy()
    assert 0.05 < expected.std()  # not a saturated, trivially matching output
    assert np.abs(got - expected).max() < 1e-3


@needs_onnx
def test_a_model_with_the_edge_input_exports_it_in_the_graph(tmp_path):
    """The edge input (median, gradient, its ridges, their links) is computed inside the graph and
    matches PyTorch, ties on the smooth test frames' plateaus included."""
    torch.manual_seed(0)
    edges = Stylizer(ModelConfig("fast", train_size=(64, 48), arch_options=EDGE_INPUT))
    with torch.no_grad():
        edges.net.out.weight.mul_(50)  # random weights give ~0.5 everywhere; let the input show
    result = export_onnx(edges.eval(), tmp_path / "edges.onnx")
    assert result.max_abs_error is not None and result.max_abs_error < 1e-3


@needs_onnx
def test_dynamic_export_accepts_any_size(model, tmp_path):
    result = export_onnx(model, tmp_path / "dynamic.onnx")
    assert result.size is None
    for height, width in ((48, 64), (37, 51)):  # the second needs padding to a multiple of 4
        frames = np.random.default_rng(1).random((1, 3, height, width), dtype=np.float32)
        got = _run_onnx(result.path, frames)
        with torch.no_grad():
            expected = model(torch.from_numpy(frames)).numpy()
        assert got.shape == (1, 3, height, width)
        assert np.abs(got - expected).max() < 1e-3


@needs_onnx
def test_export_command(model, tmp_path):
    from vidstyle.models import save_checkpoint

    checkpoint = save_checkpoint(tmp_path / "m.pt", model)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent)] + sys.path))
    command = [sys.executable, "-m", "vidstyle", "export", str(checkpoint), "-o", str(tmp_path / "m.onnx"),
               "--size", "64x48"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "max |onnx - torch|" in done.stderr and (tmp_path / "m.onnx").exists()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "output exists" in again.stderr


@pytest.mark.skipif(HAS_ONNX, reason="tests the message shown without the onnx package")
def test_export_without_onnx_says_what_to_install(model, tmp_path):
    with pytest.raises(UsageError, match=r"pip install 'vidstyle\[onnx\]'"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
