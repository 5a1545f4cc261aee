"""``vidstyle shots``: cuts, fades, keyframe suggestions, the files it writes, and ``render --shots``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidstyle.io import Codec, list_images
from vidstyle.models import FusionConfig, TemporalFusion
from vidstyle.render import render
from vidstyle.shots import Transition, find_shots, load_shots, write_shots

from ._fixtures_render import decoded_frames, moving_pattern, toy_model
from ._media import make_clip, textured_frame

CUT, FADE_END = 16, 38  # the true shot starts of the clip below
FRAMES = 64


def three_shots(index: int, width: int, height: int) -> np.ndarray:
    """Shot 0: a drifting pattern; a hard cut at 16 to a checkerboard scene; a fade through
    black (frames 30-33 darken, flat black, then brighten) to a red-tinted pattern."""
    if index < CUT:
        return moving_pattern(index, width, height)
    if index < 30:
        return textured_frame(index, width, height)
    if index < 34:
        return (textured_frame(index, width, height) * ((34 - index) / 5)).astype(np.uint8)
    if index < FADE_END - 2:
        return np.zeros((height, width, 3), np.uint8)
    frame = (moving_pattern(index, width, height) // 2 + np.array([120, 0, 10], np.uint8))
    if index < FADE_END + 2:
        frame = (frame * ((index - FADE_END + 3) / 5)).astype(np.uint8)
    return frame


@pytest.fixture(scope="module")
def shot_clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("shots") / "shots.mp4", frames=FRAMES, size=(96, 64),
                     make_frame=three_shots)


def test_finds_the_cut_and_the_fade_and_covers_every_frame(shot_clip, quiet):
    report = find_shots(shot_clip)
    assert report.frames == FRAMES
    starts = [(s.start, s.transition) for s in report.shots]
    assert starts[0] == (0, Transition.START)
    assert starts[1] == (CUT, Transition.CUT)
    assert starts[2][1] is Transition.FADE and abs(starts[2][0] - FADE_END) <= 3
    assert len(report.shots) == 3
    assert [s.start for s in report.shots[1:]] == [s.end for s in report.shots[:-1]]
    assert report.shots[-1].end == FRAMES
    assert report.shots[1].start_time == pytest.approx(CUT / 20)
    # Three scenes unlike each other: every shot gets a keyframe, none on a black frame.
    assert {k.shot for k in report.keyframes} == {0, 1, 2}
    assert all(not 30 <= k.frame < FADE_END + 2 for k in report.keyframes)
    assert len(find_shots(shot_clip, max_keyframes=1).keyframes) == 1


def test_a_steady_clip_is_one_shot(cfr_clip, quiet):
    report = find_shots(cfr_clip)
    assert len(report.shots) == 1 and report.cuts == []
    assert 1 <= len(report.keyframes) <= 2


def test_writes_keyframes_sheet_and_json_and_reads_them_back(shot_clip, tmp_path, quiet):
    report = find_shots(shot_clip)
    out = write_shots(report, tmp_path / "out")
    names = [p.name for p in list_images(out / "keyframes")]
    assert names == [f"{k.frame:06d}.png" for k in report.keyframes]
    assert (out / "contact_sheet.png").stat().st_size > 0
    again = load_shots(out / "shots.json")
    assert again.cuts == report.cuts and [k.frame for k in again.keyframes] == [k.frame for k in report.keyframes]
    with pytest.raises(Exception, match="exists"):
        write_shots(report, out)


def test_cli_table_json_and_errors(shot_clip, tmp_path):
    from .conftest import assert_one_line_error, run_cli

    result = run_cli("shots", shot_clip, "--json", "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["start_frame"] for s in data["shots"]][:2] == [0, CUT]
    table = run_cli("shots", shot_clip, "-q")
    assert "3 shot(s)" in table.stdout and "cut" in table.stdout and "fade" in table.stdout
    assert_one_line_error(run_cli("shots", shot_clip, "--max", "0"), "--max")
    assert_one_line_error(run_cli("shots", tmp_path / "missing.mp4"), "missing.mp4")
    (tmp_path / "bad.json").write_text("{}")
    assert_one_line_error(run_cli("render", shot_clip, "-m", tmp_path / "m.pt", "-o", tmp_path / "o.mp4",
                                  "--shots", tmp_path / "bad.json"), "bad.json")


def test_render_resets_the_temporal_stage_at_cuts(shot_clip, tmp_path, quiet):
    model = toy_model("test_shots_fusion", lambda x: (1.0 - x[:, :3]).clamp(0, 1))
    fusion = TemporalFusion(FusionConfig(flow_preset="ultrafast"))
    torch.nn.init.constant_(fusion.net[-1].bias, 3.0)  # sigmoid(3) = 0.95: mostly the warped previous output
    model.attach_fusion(fusion)
    plain, reset, alone = tmp_path / "plain.mkv", tmp_path / "reset.mkv", tmp_path / "alone.mkv"
    options = dict(workers=1, codec=Codec.FFV1, audio=False)
    render(shot_clip, model, plain, **options)
    render(shot_clip, model, reset, cuts=[CUT], **options)
    render(shot_clip, model, alone, temporal=False, **options)
    plain_frames, reset_frames, alone_frames = map(decoded_frames, (plain, reset, alone))
    assert all(np.array_equal(a, b) for a, b in zip(plain_frames[:CUT], reset_frames[:CUT]))
    # At the cut the reset render is the frame on its own; without the reset it drags the last shot in.
    assert np.array_equal(reset_frames[CUT], alone_frames[CUT])
    assert np.abs(plain_frames[CUT].astype(int) - alone_frames[CUT]).mean() > 20


def test_coverage_finds_the_stretches_far_from_every_painted_keyframe(shot_clip, quiet):
    from vidstyle.shots import find_coverage

    only_second = find_coverage(shot_clip, [20])
    first, last = only_second.stretches[0], only_second.stretches[-1]
    assert first.start == 0 and 10 <= first.end <= CUT + 4 and first.nearest == 20  # shot 0 is unlike shot 1
    assert last.end == FRAMES and last.start <= 50 and last.distance > only_second.radius  # so is the last shot
    assert all(not 30 <= s.start < FADE_END for s in only_second.stretches)  # the fade needs no keyframe
    assert only_second.covered < 0.6
    every_shot = find_coverage(shot_clip, [5, 20, 50])
    assert all(s.end <= CUT + 4 for s in every_shot.stretches) and every_shot.covered > only_second.covered
    assert every_shot.nearest_keyframe(55) == 50 and every_shot.nearest_keyframe(22) == 20
    assert find_coverage(shot_clip, [20], radius=0.5).stretches == []  # a looser radius covers everything


def test_cli_coverage_table_json_and_errors(shot_clip, tmp_path, capsys):
    from .conftest import run_main

    def run(*args):  # in this process: no torch import per call
        code = run_main(["shots", str(shot_clip), *map(str, args), "-q"])
        out = capsys.readouterr()
        return code, out.out, [line for line in out.err.splitlines() if line.strip()]

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "0020.png").write_bytes(b"")  # only the names are read
    code, out, _ = run("--coverage", keys, "--json")
    data = json.loads(out)
    assert code == 0 and data["keyframes"] == [20] and data["stretches"][0]["start_frame"] == 0
    assert data["stretches"][-1]["end_frame"] == FRAMES and 0 < data["covered"] < 0.6
    code, out, _ = run("--coverage", keys)
    assert code == 0 and "far from all of them" in out
    (keys / "0900.png").write_bytes(b"")
    for args, fragment in (((keys,), "keyframe 900"), ((tmp_path / "nope",), "nope"),
                           ((keys, "--max", "3"), "--coverage")):
        code, _, err = run("--coverage", *args)
        assert code == 2 and len(err) == 1 and fragment in err[0], err


def test_flicker_compares_each_frame_with_the_keyframe_nearest_in_appearance(shot_clip, tmp_path, quiet):
    import cv2

    from vidstyle.metrics import flicker

    frames = decoded_frames(shot_clip)
    keys = tmp_path / "keys"
    keys.mkdir()
    for index in (5, 20):
        cv2.imwrite(str(keys / f"{index:04d}.png"), cv2.cvtColor(frames[index], cv2.COLOR_RGB2BGR))
    report = flicker(shot_clip, source=shot_clip, keyframes=keys, texture_every=5, tof=False, max_frames=30)
    chosen = dict(zip(report.drift.frames.tolist(), report.drift.keyframe.tolist()))
    # Frame 15 is nearer in time to keyframe 20, but it is in keyframe 5's shot and looks like it.
    assert chosen[15] == 5 and chosen[10] == 5 and chosen[25] == 20
    assert report.drift.to_dict()["keyframe_by"] == "appearance"
    by_time = flicker(shot_clip, keyframes=keys, texture_every=5, tof=False, max_frames=30)  # no source
    assert dict(zip(by_time.drift.frames.tolist(), by_time.drift.keyframe.tolist()))[15] == 20
