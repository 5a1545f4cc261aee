"""The minor findings of the hostile-input sweep (issue 18), one test each."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidstyle.cli import main
from vidstyle.errors import InputError, UsageError
from vidstyle.io import image_alpha, read_image_rgb, scaled_size
from vidstyle.models import ModelConfig, Stylizer
from vidstyle.progress import progress, set_quiet, warn
from vidstyle.render import working_size

from ._media import make_clip
from .conftest import SAMPLE


def _one_line(code: int, capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, (code, err)
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def _usage(argv: list[str], capsys, *fragments: str) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    return _one_line(caught.value.code, capsys, *fragments)


def test_unknown_output_extension_is_refused(tmp_path: Path, capsys) -> None:
    code = main(["convert", str(SAMPLE), "-o", str(tmp_path / "out.xyz"), "-q"])
    _one_line(code, capsys, "out.xyz", "unknown output extension")
    assert list(tmp_path.iterdir()) == []


def test_a_scale_that_leaves_no_pixels_is_refused() -> None:
    with pytest.raises(UsageError, match="0x0"):
        scaled_size(320, 240, None, 1e-9)
    assert scaled_size(320, 240, None, 0.5) == (160, 120)


def test_codec_choices_are_named_as_in_help(tmp_path: Path, capsys) -> None:
    err = _usage(["convert", str(SAMPLE), "-o", str(tmp_path / "o.mp4"), "--codec", "vp9"], capsys, "h264, h265")
    assert "libx264" not in err


def test_fast_neural_style_missing_key_is_named(tmp_path: Path, capsys) -> None:
    state = Stylizer(ModelConfig(arch="fast_neural_style")).net.state_dict()
    del state["res1.conv1.conv2d.weight"]
    model = tmp_path / "candy.pth"
    torch.save(state, model)
    code = main(["render", str(SAMPLE), "-m", str(model), "-o", str(tmp_path / "o.mp4"), "-q"])
    _one_line(code, capsys, "candy.pth", "res1.conv1.conv2d.weight")


def test_unreadable_image_has_no_opencv_warning(tmp_path: Path, capfd) -> None:
    good = tmp_path / "k.png"
    cv2.imwrite(str(good), np.zeros((8, 8, 3), np.uint8))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:40])
    with pytest.raises(InputError, match="cut.png: not a readable image"):
        read_image_rgb(cut)
    assert "WARN" not in capfd.readouterr().err


def test_warnings_start_their_own_line_under_a_progress_bar(capsys) -> None:
    set_quiet(False)
    with progress(10, "work") as bar:
        bar.update(3)
        warn("something odd")
    err = capsys.readouterr().err
    lines = [line.split("\r")[-1] for line in err.split("\n")]
    assert "vidstyle: warning: something odd" in lines, repr(err)


def test_negative_erode_is_refused(tmp_path: Path, capsys) -> None:
    _usage(["masks", str(SAMPLE), "-o", str(tmp_path / "m"), "--hud", "--erode=-5"], capsys, "--erode")


def test_transparent_keyframe_is_mentioned(tmp_path: Path, capsys) -> None:
    from vidstyle.train import load_clip, load_keyframes

    clip = load_clip(make_clip(tmp_path / "c.mp4", frames=4, audio=False))
    keys = tmp_path / "keys"
    keys.mkdir()
    rgba = np.full((48, 64, 4), 200, np.uint8)
    rgba[:, :32, 3] = 0  # the left half left unpainted, transparent
    cv2.imwrite(str(keys / "0001.png"), rgba)
    assert image_alpha(keys / "0001.png") is not None
    assert set(load_keyframes(keys, clip)) == {1}
    err = capsys.readouterr().err
    assert "0001.png" in err and "alpha is ignored" in err


def test_a_strip_does_not_run_the_model_at_a_huge_size() -> None:
    model = Stylizer(ModelConfig(arch="fast"))
    model.config.train_size = (160, 120)
    width, height = working_size(model, (2000, 16))
    assert width * height <= 2 * 160 * 120 and width <= 2000 and height <= 16 + 2
    assert working_size(model, (1280, 720)) == (214, 120)  # ordinary aspects keep the trained height
