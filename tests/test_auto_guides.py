"""A model trained with --auto-guides renders without a guide folder: the renderer
regenerates the same guides while streaming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidstyle.errors import UsageError
from vidstyle.guides import generate_guides
from vidstyle.io import probe, read_frames
from vidstyle.models import load_stylizer
from vidstyle.render import render
from vidstyle.render._guides import GuideStream
from vidstyle.train import train

from ._media import make_clip


@pytest.fixture(scope="module")
def guided(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("guided")
    clip = make_clip(folder / "clip.mp4", frames=8, size=(64, 48), audio=False)
    key = next(f.rgb for f in read_frames(clip) if f.index == 3)
    model = folder / "model.pt"
    train(clip, {3: 255 - key}, model, auto_guides=True, steps=3, temporal_weight=0, threads=1)
    return clip, model


def test_trainer_records_the_guide_recipe(guided: tuple[Path, Path]) -> None:
    model = load_stylizer(guided[1])
    assert model.config.guide_channels == 3
    assert model.config.info["auto_guides"] == {"keys": [3], "seed_masks": None}


def test_guide_stream_matches_the_generator(guided: tuple[Path, Path]) -> None:
    clip = guided[0]
    expected = dict(generate_guides(clip, [3], size=(64, 48)))
    stream = GuideStream(clip, {"keys": [3], "seed_masks": None}, (64, 48))
    for index in (0, 2, 5, 7):  # increasing, skipping some, as a trimmed render asks
        assert np.array_equal(stream(index), expected[index])


def test_render_generates_guides_on_the_fly(guided: tuple[Path, Path], tmp_path: Path) -> None:
    clip, model = guided
    result = render(clip, model, tmp_path / "out.mp4")
    assert result.frames == 8 and probe(tmp_path / "out.mp4").frame_count == 8


def test_model_without_guide_recipe_needs_a_folder(guided: tuple[Path, Path], tmp_path: Path) -> None:
    clip, model_path = guided
    model = load_stylizer(model_path)
    model.config.info.pop("auto_guides")
    with pytest.raises(UsageError, match="give guides, a folder"):
        render(clip, model, tmp_path / "out.mp4")
