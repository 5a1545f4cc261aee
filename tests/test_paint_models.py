"""``vidstyle paint --model``: fast_neural_style state dicts and ONNX models as painters."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from vidstyle.cli import main
from vidstyle.io import open_video, probe, read_image_rgb
from vidstyle.models import load_stylizer
from vidstyle.models.fast_neural_style import TransformerNet
from vidstyle.styles import load_painter, painter_spec

from ._fixtures_train import moving_scene, write_frames
from ._media import make_clip

needs_onnx = pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None,
    reason="needs the onnx extra (onnx to export the test model, onnxruntime to run it)")


@pytest.fixture
def frames_dir(tmp_path):
    return write_frames(tmp_path / "in", moving_scene(3, 32, 24), digits=3)


@pytest.fixture
def fns_model(tmp_path):
    """A pytorch/examples fast_neural_style state dict with random weights."""
    torch.manual_seed(1)
    path = tmp_path / "random_mosaic.pth"
    torch.save(TransformerNet().state_dict(), path)
    return path


def test_paint_frames_with_a_fast_neural_style_state_dict(tmp_path, frames_dir, fns_model):
    assert main(["paint", str(frames_dir), "-o", str(tmp_path / "keys"), "--model", str(fns_model),
                 "--frames", "2", "--device", "cpu", "-q"]) == 0
    painted = read_image_rgb(tmp_path / "keys" / "000002.png")
    model = load_stylizer(fns_model)
    frame = read_image_rgb(sorted(frames_dir.iterdir())[2])
    with torch.no_grad():
        expected = model(torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255)[0]
    expected = (expected.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    assert painted.shape == frame.shape
    assert np.abs(painted.astype(int) - expected).max() <= 1  # fp32 on both sides; rounding only
    assert np.abs(painted.astype(int) - frame).mean() > 5


def test_paint_video_with_a_model_keeps_frames_and_audio(tmp_path, fns_model):
    clip = make_clip(tmp_path / "clip.mp4", frames=4, size=(32, 24))
    out = tmp_path / "painted.mp4"
    assert main(["paint", str(clip), "-o", str(out), "--model", str(fns_model), "--device", "cpu", "-q"]) == 0
    info = probe(out)
    assert info.frame_count == 4 and (info.width, info.height) == (32, 24) and info.audio
    with open_video(clip) as a, open_video(out) as b:
        diff = [np.abs(x.rgb.astype(int) - y.rgb).mean() for x, y in zip(a, b)]
    assert min(diff) > 5  # every frame was painted


def test_model_errors_are_one_line(tmp_path, frames_dir, capsys):
    not_a_model = tmp_path / "notes.pth"
    not_a_model.write_text("hello")
    for extra, message in ((["--model", str(not_a_model)], "not a model file"),
                           (["--model", str(tmp_path / "missing.onnx")], "no such model file"),
                           (["--model", str(not_a_model), "--model-range", "255"], "--model-range is for ONNX"),
                           (["--style", "toon", "--model", str(not_a_model)], "give one of --style"),
                           (["--style", "neural:26"], "neural:0 to neural:25")):
        assert main(["paint", str(frames_dir), "-o", str(tmp_path / "k"), "--frames", "0", "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "k").exists()


# -- ONNX ---------------------------------------------------------------------------

class _Invert(nn.Module):
    """``scale - x``: an image-to-image model on the [0, scale] range."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale - x


class _ChannelsLast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1 - x


class _TwoInputs(nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return x * w


def _export(module: nn.Module, path, example, *, dynamic: bool = True):
    names = [f"in{i}" for i in range(len(example))]
    axes = {names[0]: {2: "h", 3: "w"}, "out": {2: "h", 3: "w"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example, str(path), dynamo=False, input_names=names, output_names=["out"],
                          dynamic_axes=axes, opset_version=17)
    return path


@needs_onnx
def test_onnx_models_on_both_scales(tmp_path, frames_dir, capsys):
    x = torch.rand(1, 3, 16, 16)
    unit = _export(_Invert(1.0), tmp_path / "invert.onnx", (x,))
    full = _export(_Invert(255.0), tmp_path / "invert255.onnx", (x,))
    frame = read_image_rgb(sorted(frames_dir.iterdir())[1])
    for model, scale in ((unit, 1), (full, 255)):
        painter = load_painter(painter_spec(model=model, model_range=scale), device="cpu")
        assert np.abs(painter(frame).astype(int) - (255 - frame.astype(int))).max() <= 1
    assert main(["paint", str(frames_dir), "-o", str(tmp_path / "k255"), "--model", str(full), "--model-range",
                 "255", "--frames", "1", "-q"]) == 0
    assert np.abs(read_image_rgb(tmp_path / "k255" / "000001.png").astype(int) - (255 - frame)).max() <= 1
    # The wrong scale is caught on the first frame, in one line that says which to give.
    for model, extra, hint in ((full, [], "give --model-range 255"), (unit, ["--model-range", "255"],
                                                                         "give --model-range 1")):
        assert main(["paint", str(frames_dir), "-o", str(tmp_path / "bad"), "--model", str(model), "--frames", "1",
                     "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert hint in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "bad").exists()


@needs_onnx
def test_onnx_shape_errors(tmp_path, frames_dir, capsys):
    cases = [
        (_export(_ChannelsLast(), tmp_path / "nhwc.onnx", (torch.rand(1, 16, 16, 3),), dynamic=False), "NHWC"),
        (_export(_TwoInputs(), tmp_path / "two.onnx", (torch.rand(1, 3, 8, 8), torch.rand(1)), dynamic=False),
         "takes 2 inputs"),
        (_export(_Invert(1.0), tmp_path / "grey.onnx", (torch.rand(1, 1, 8, 8),), dynamic=False),
         "needs (N, 3, H, W)"),
    ]
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not onnx")
    cases.append((garbage, "not a loadable ONNX model"))
    for model, message in cases:
        assert main(["paint", str(frames_dir), "-o", str(tmp_path / "k"), "--model", str(model), "--frames", "0",
                     "-q"]) == 2
        err = capsys.readouterr().err
        assert message in err and str(model) in err and len(err.strip().splitlines()) == 1


@needs_onnx
def test_onnx_model_with_a_fixed_size_gets_frames_resized(tmp_path):
    model = _export(_Invert(1.0), tmp_path / "fixed.onnx", (torch.rand(1, 3, 24, 32),), dynamic=False)
    frame = np.full((40, 50, 3), 200, np.uint8)
    out = load_painter(painter_spec(model=model), device="cpu")(frame)
    assert out.shape == frame.shape and np.abs(out.astype(int) - 55).max() <= 1
