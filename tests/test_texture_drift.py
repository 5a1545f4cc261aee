"""Texture figures inside ``flicker``: against a reference, and against painted keyframes (style drift)."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from vidstyle.cli import main
from vidstyle.errors import UsageError
from vidstyle.metrics import detail_ratio, flicker, texture_distance
from vidstyle.progress import set_quiet

from .conftest import run_main as run
from ._fixtures_flow import translated_sequence, write_video

FRAMES, BLURRED_FROM = 12, 8  # frames 8..11 of the output lose their texture


@pytest.fixture(autouse=True)
def _quiet():
    set_quiet(True)
    yield
    set_quiet(False)




@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    """A textured pan whose 'stylized' version is sharp, then blurred from frame 8; keyframe 0 painted."""
    folder = tmp_path_factory.mktemp("drift")
    source = translated_sequence(FRAMES, step=2, height=64, width=96)
    output = [f if t < BLURRED_FROM else cv2.GaussianBlur(f, (0, 0), 2.0) for t, f in enumerate(source)]
    keys = folder / "keys"
    keys.mkdir()
    cv2.imwrite(str(keys / "0000.png"), cv2.cvtColor(source[0], cv2.COLOR_RGB2BGR))
    return {"source": write_video(folder / "source.mp4", source),
            "stylized": write_video(folder / "stylized.mp4", output),
            "keys": keys, "folder": folder, "frames": (source, output)}


def test_no_reference_mode_shows_the_drift_and_lists_the_blurred_stretch(drifting):
    report = flicker(drifting["stylized"], source=drifting["source"], keyframes=drifting["keys"],
                     texture_every=1, tof=False)
    drift = report.drift
    assert report.texture is None and drift is not None and drift.keyframes == (0,)
    assert list(drift.frames) == list(range(FRAMES)) and (drift.keyframe == 0).all()
    sharp, blurred = slice(0, BLURRED_FROM), slice(BLURRED_FROM, FRAMES)
    assert drift.texture_distance[blurred].min() > drift.texture_distance[sharp].max()
    assert drift.texture_distance[blurred].mean() > 2 * drift.texture_distance[sharp].mean()
    assert drift.detail_ratio[blurred].max() < 0.8 * drift.detail_ratio[sharp].min()
    # Frame 0 is the keyframe itself (through a lossless-ish encode): close to 1 and 0.
    assert drift.detail_ratio[0] == pytest.approx(1, abs=0.05)
    worst = drift.stretches()[0]
    assert (worst.first, worst.last, worst.keyframe) == (BLURRED_FROM, FRAMES - 1, 0)
    assert worst.first_time == pytest.approx(BLURRED_FROM / 20)
    # The same numbers as the functions on the decoded frames.
    _, output = drifting["frames"]
    assert drift.detail_ratio[10] == pytest.approx(detail_ratio(output[10], drifting["frames"][0][0]), rel=0.05)
    assert drift.texture_distance[10] == pytest.approx(
        texture_distance(output[10], drifting["frames"][0][0]), rel=0.1)
    table = report.table()
    assert f"style drift: frames {BLURRED_FROM}-{FRAMES - 1}" in table and "nearest in appearance" in table


def test_the_drift_is_split_into_strokes_and_colours(drifting):
    """A blur is a loss of strokes: the band-pass levels grow far more than the coarse level;
    the texture distance is the mean of the three stroke levels and the colour level."""
    drift = flicker(drifting["stylized"], source=drifting["source"], keyframes=drifting["keys"],
                    texture_every=1, tof=False).drift
    strokes, colours = drift.stroke_distance, drift.colour_distance
    # The sharp frames just before the blur: the pan moves both levels away from keyframe 0 too.
    sharp, blurred = slice(BLURRED_FROM - 3, BLURRED_FROM), slice(BLURRED_FROM, FRAMES)
    assert strokes[blurred].mean() / strokes[sharp].mean() > 1.5 * colours[blurred].mean() / colours[sharp].mean()
    np.testing.assert_allclose(drift.texture_distance, (3 * strokes + colours) / 4, rtol=1e-9)
    worst = drift.stretches()[0]
    assert worst.strokes == pytest.approx(np.mean(strokes[BLURRED_FROM:]))
    assert f"strokes {worst.strokes:.3g}, colours {worst.colours:.3g}" in worst.describe()
    table = flicker(drifting["stylized"], source=drifting["source"], keyframes=drifting["keys"],
                    texture_every=1, tof=False).table()
    assert "  its strokes" in table and "  its colours" in table


def test_texture_distance_every_kth_frame_and_protocol(drifting):
    report = flicker(drifting["stylized"], source=drifting["source"], keyframes=drifting["keys"],
                     texture_every=4, tof=False)
    measured = np.flatnonzero(np.isfinite(report.drift.texture_distance))
    assert list(measured) == [0, 4, 8] and np.isfinite(report.drift.detail_ratio).all()
    assert "every 4th frame (3 frames)" in report.protocol["drift_texture_distance"]
    with pytest.raises(UsageError, match="at least 1"):
        flicker(drifting["stylized"], keyframes=drifting["keys"], texture_every=0)


def test_cli_json_csv_plot_carry_the_texture_fields(drifting, tmp_path, capsys):
    out = {name: tmp_path / f"f.{name}" for name in ("json", "csv", "png")}
    assert main(["flicker", str(drifting["stylized"]), "--source", str(drifting["source"]), "--reference",
                 str(drifting["source"]), "--keyframes", str(drifting["keys"]), "--texture-every", "2",
                 "--json", str(out["json"]), "--csv", str(out["csv"]), "--plot", str(out["png"]), "-q"]) == 0
    table = capsys.readouterr().out
    assert "detail ratio vs reference" in table and "texture dist. vs keyframes" in table
    data = json.loads(out["json"].read_text())
    ref, keys = data["texture"]["reference"], data["texture"]["keyframes"]
    assert data["detail_ratio"] == pytest.approx(ref["detail_ratio"]) and ref["against"] == "reference"
    assert ref["detail_ratio"] < 0.95  # the blurred frames lower the mean against the sharp reference
    assert len(keys["per_frame"]["detail_ratio"]) == FRAMES and keys["per_frame"]["texture_distance"][1] is None
    assert keys["stretches"][0]["first_frame"] >= BLURRED_FROM and keys["every"] == 2
    for key in ("detail_ratio", "texture_distance", "drift_detail_ratio", "drift_texture_distance",
                "drift_stroke_distance"):
        assert key in data["protocol"]
    assert keys["stroke_distance"] > 0 and len(keys["per_frame"]["colour_distance"]) == FRAMES
    rows = list(csv.DictReader(out["csv"].open()))
    assert len(rows) == FRAMES - 1 and rows[0]["keyframe"] == "0"
    assert float(rows[9]["detail_ratio_keyframes"]) < float(rows[2]["detail_ratio_keyframes"])
    assert rows[0]["texture_distance_ref"] and not rows[1]["texture_distance_ref"]
    assert rows[0]["colour_distance_keyframes"] and rows[0]["stroke_distance_ref"]
    image = cv2.imread(str(out["png"]))
    assert image is not None and image.shape[0] > 520  # the texture panel below the flicker one


@pytest.mark.parametrize("setup,message", [
    ("missing", "folder does not exist"),
    ("empty", "holds no PNG images"),
    ("names", "is not a frame index"),
    ("late", "past the end"),
])
def test_bad_keyframes_folder_is_one_line_and_exit_2(drifting, tmp_path, capsys, setup, message):
    folder = tmp_path / "keys"
    if setup != "missing":
        folder.mkdir()
    if setup == "names":
        cv2.imwrite(str(folder / "painted.png"), np.zeros((8, 8, 3), np.uint8))
    if setup == "late":
        cv2.imwrite(str(folder / "500.png"), np.zeros((8, 8, 3), np.uint8))
    json_out = tmp_path / "f.json"
    assert run(["flicker", str(drifting["stylized"]), "--source", str(drifting["source"]), "--keyframes",
                str(folder), "--json", str(json_out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vidstyle: error:") and len(err.splitlines()) == 1 and message in err
    assert not json_out.exists()


def test_the_pipeline_report_shows_the_split(drifting):
    from vidstyle.pipeline._report_build import _texture_figures

    drift = flicker(drifting["stylized"], source=drifting["source"], keyframes=drifting["keys"],
                    texture_every=2, tof=False).drift
    table, chart = _texture_figures({"keyframes": drift.to_dict()}, "reference", [])
    assert table is not None and chart is not None
    column = table.columns.index("of it: strokes / colours")
    assert table.rows[0][column] == f"{drift.mean_stroke_distance:.3g} / {drift.mean_colour_distance:.3g}"
