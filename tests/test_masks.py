"""Masks: HUD detection, propagation, keyframe/colour/motion masks, ops and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests._fixtures_masks import hud_clip, moving_object_clip, waves, write_folder
from vidstyle.cli import main
from vidstyle.masks import (HsvRange, MaskOp, color_key_mask, combine_masks, detect_hud, dilate_mask,
                            erode_mask, feather_mask, mask_from_keyframe, mask_iou, motion_masks,
                            propagate_mask, read_mask, read_mask_folder, write_mask)


pytestmark = pytest.mark.usefixtures("quiet")


@pytest.fixture(scope="module")
def hud_folder(tmp_path_factory):
    frames, hud = hud_clip()
    return write_folder(tmp_path_factory.mktemp("hud") / "clip", frames), hud


@pytest.fixture(scope="module")
def object_folder(tmp_path_factory):
    frames, masks = moving_object_clip(size=(320, 240), box=(60, 80, 96, 72))
    return write_folder(tmp_path_factory.mktemp("obj") / "clip", frames), masks


def test_hud_mask_matches_static_overlay(hud_folder):
    folder, truth = hud_folder
    mask = detect_hud(folder)
    assert mask.shape == truth.shape and mask.dtype == bool
    assert mask_iou(mask, truth) >= 0.9


def test_hud_is_empty_when_nothing_moves(tmp_path):
    frames, _ = hud_clip(count=6)
    folder = write_folder(tmp_path / "still", [frames[0]] * 6)
    assert not detect_hud(folder).any()


def test_propagated_mask_follows_translating_object_for_30_frames(object_folder):
    folder, truth = object_folder
    got = dict(propagate_mask(folder, truth[0], 0))
    assert sorted(got) == list(range(31))
    assert mask_iou(got[0], truth[0]) == 1.0
    assert mask_iou(got[30], truth[30]) >= 0.9


def test_propagation_runs_backward_from_a_later_key(tmp_path):
    frames, truth = moving_object_clip(count=11, size=(160, 120), box=(20, 30, 56, 40))
    folder = write_folder(tmp_path / "clip", frames)
    got = dict(propagate_mask(folder, truth[10], 10))
    assert sorted(got) == list(range(11))
    assert mask_iou(got[0], truth[0]) >= 0.85


def test_motion_masks_find_the_moving_object(tmp_path):
    # The object must leave each pixel free in most frames for the median background.
    frames, truth = moving_object_clip(count=21, size=(160, 120), speed=(5.0, 1.0), box=(5, 40, 30, 24))
    folder = write_folder(tmp_path / "clip", frames)
    ious = [mask_iou(mask, truth[index]) for index, mask in motion_masks(folder)]
    assert len(ious) == 21 and np.median(ious) >= 0.85


def test_mask_from_keyframe_uses_alpha_or_difference():
    frame = np.clip(waves(60, 80, seed=9), 0, 255).astype(np.uint8)
    painted = frame.copy()
    painted[10:40, 20:60] = (250, 20, 20)
    mask = mask_from_keyframe(frame, painted)
    truth = np.zeros((60, 80), bool)
    truth[10:40, 20:60] = True
    assert mask_iou(mask, truth) >= 0.95
    rgba = np.dstack([frame, np.zeros((60, 80), np.uint8)])
    rgba[5:15, 5:25, 3] = 255
    assert mask_from_keyframe(frame, rgba).sum() == 200
    with pytest.raises(ValueError):
        mask_from_keyframe(frame, painted[:30])


def test_color_key_and_hsv_parsing():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[0, 0] = (0, 200, 0)     # green
    rgb[1, 1] = (200, 0, 0)     # red (hue 0: inside a range that wraps)
    green = color_key_mask(rgb, "90-150,40-100,20-100")
    assert green[0, 0] and green.sum() == 1
    assert color_key_mask(rgb, "340-20,50-100")[1, 1]
    assert HsvRange.parse("10-20") == HsvRange(10, 20)
    from vidstyle.errors import UsageError

    with pytest.raises(UsageError):
        HsvRange.parse("green")


def test_combine_erode_dilate_feather_and_files(tmp_path):
    a = np.zeros((40, 40), bool)
    a[5:25, 5:25] = True
    b = np.zeros((40, 40), bool)
    b[15:35, 15:35] = True
    assert combine_masks([a, b], MaskOp.UNION).sum() == 400 + 400 - 100
    assert combine_masks([a, b], "intersection").sum() == 100
    assert combine_masks([a, b], "subtract").sum() == 300
    assert (erode_mask(a, 2) > 127).sum() < a.sum() < (dilate_mask(a, 2) > 127).sum()
    soft = feather_mask(a, 4)
    assert 0 < soft[15, 5 - 1] < 255 and soft[15, 15] == 255
    write_mask(tmp_path / "000007.png", a)
    assert (read_mask(tmp_path / "000007.png") == a * 255).all()
    assert list(read_mask_folder(tmp_path)) == [7]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err.strip()


def test_cli_masks_writes_pngs_named_like_frames(hud_folder, tmp_path, capsys):
    folder, truth = hud_folder
    out = tmp_path / "masks"
    code, _ = _run(["masks", str(folder), "-o", str(out), "--hud", "--invert", "-q"], capsys)
    assert code == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names[0] == "000000.png" and len(names) == 24
    mask = read_mask(out / "000005.png")
    assert mask_iou(mask < 128, truth) >= 0.9  # inverted: white = not HUD
    code, err = _run(["masks", str(folder), "-o", str(out), "--hud", "-q"], capsys)
    assert code == 2 and "exists" in err


def test_cli_bad_input_gives_one_line_and_exit_2(object_folder, tmp_path, capsys):
    folder, truth = object_folder
    small = tmp_path / "small.png"
    write_mask(small, np.ones((10, 10), bool))
    empty = tmp_path / "empty.png"
    write_mask(empty, np.zeros((240, 320), bool))
    cases = [
        (["masks", str(folder), "-o", str(tmp_path / "a"), "--propagate", f"{small}@0"], "10x10"),
        (["masks", str(folder), "-o", str(tmp_path / "b"), "--propagate", f"{empty}@0"], "empty"),
        (["masks", str(folder), "-o", str(tmp_path / "c"), "--propagate", f"{small}@99"], "99"),
        (["guides", str(folder), "-o", str(tmp_path / "d"), "--keys", "0,999"], "999"),
        (["masks", str(folder), "-o", str(tmp_path / "e"), "--color-key", "blue"], "HSV"),
        (["masks", str(folder), "-o", str(tmp_path / "f")], "mode"),
    ]
    for argv, needle in cases:
        code, err = _run(argv + ["-q"], capsys)
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and err.startswith("vidstyle: error:") and needle in err, err
        assert not Path(argv[3]).exists()
