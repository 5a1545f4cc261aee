"""``vidstyle demo``: the few-shot recipe on the bundled sample (with a fake StepApi here;
the real run is timed by bench/bench_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.errors import InputError
from vidstyle.io import probe
from vidstyle.pipeline import demo_recipe, run_demo

from ._fixtures_pipeline import SAMPLE, FakeApi


def test_demo_recipe_points_at_the_sample() -> None:
    recipe = demo_recipe()
    assert recipe.input.video == SAMPLE.resolve() and recipe.name == "demo"
    assert recipe.keyframes.paint and recipe.reference_style == recipe.keyframes.paint
    assert recipe.render.comparison and recipe.report.flicker and recipe.report.html and recipe.render.audio


def test_demo_without_a_source_tree_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "fewshot.yaml").write_text("name: x\n")
    with pytest.raises(InputError) as caught:
        demo_recipe(root=tmp_path)
    message = str(caught.value)
    assert "samples/hacienda_320x240.mp4" in message and "pip install -e ." in message and "\n" not in message


def test_demo_writes_video_with_audio_comparison_and_report(tmp_path: Path) -> None:
    api = FakeApi()
    result = run_demo(tmp_path / "demo", overrides=["input.end=0.5", "keyframes.frames=4", "report.stills=2",
                                                    "render.preset=ultrafast"], api=api)
    out = tmp_path / "demo"
    for name in ("stylized.mp4", "comparison.mp4", "report.html", "model.pt", "flicker.json"):
        assert (out / name).is_file(), name
    stylized, comparison = probe(out / "stylized.mp4"), probe(out / "comparison.mp4")
    assert stylized.audio and comparison.audio
    assert (comparison.width, comparison.height) == (2 * stylized.width, stylized.height)
    assert comparison.frame_count == stylized.frame_count == 10
    assert api.calls["train"] == 1 and result.computed[-1] == "report"
    with pytest.raises(Exception, match="output exists"):
        run_demo(out, overrides=["input.end=0.5", "keyframes.frames=4"], api=api)
