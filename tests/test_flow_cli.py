"""The ``vidstyle flow`` and ``vidstyle flicker`` commands on small generated videos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from vidstyle.cli import main
from vidstyle.flow import read_flo

from .conftest import run_main as run
from ._fixtures_flow import translated_sequence, write_video




@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flicker")
    frames = translated_sequence(8, step=2, height=64, width=96)
    rng = np.random.default_rng(7)
    noisy = [np.clip(f.astype(int) + rng.integers(-20, 21), 0, 255).astype(np.uint8) for f in frames]
    return {"source": write_video(folder / "source.mp4", frames),
            "stylized": write_video(folder / "stylized.mp4", noisy),
            "short": write_video(folder / "short.mp4", noisy[:5]),
            "folder": folder}


def test_flow_command_writes_flo_masks_and_visualisation(clips, tmp_path, capsys):
    out = tmp_path / "flows"
    assert main(["flow", str(clips["source"]), "-o", str(out), "--viz", str(tmp_path / "viz.mp4"),
                 "--masks", "--flow-preset", "fast", "--end-frame", "4", "-q"]) == 0
    assert sorted(p.name for p in (out / "forward").iterdir()) == ["000000.flo", "000001.flo", "000002.flo"]
    flow = read_flo(out / "backward" / "000001.flo")
    assert flow.shape == (64, 96, 2) and abs(np.median(flow[..., 0]) - 2) < 0.5  # frame 2 -> 1 moves right
    assert cv2.imread(str(out / "mask" / "000000.png"), cv2.IMREAD_GRAYSCALE).max() == 255
    from vidstyle.io import probe
    info = probe(tmp_path / "viz.mp4")
    assert info.frame_count == 3 and (info.width, info.height) == (96, 64)
    # an existing output needs -y
    assert main(["flow", str(clips["source"]), "-o", str(out), "-q"]) == 2
    assert "exists" in capsys.readouterr().err


def test_flicker_command_json_csv_plot(clips, tmp_path, capsys):
    args = ["flicker", str(clips["stylized"]), "--source", str(clips["source"]), "--reference",
            str(clips["source"]), "--json", str(tmp_path / "f.json"), "--csv", str(tmp_path / "f.csv"),
            "--plot", str(tmp_path / "f.png"), "-q"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "E_warp" in table and "Lai et al. 2018" in table and "spike" in table
    data = json.loads((tmp_path / "f.json").read_text())
    for key in ("warp_error", "ratio", "tof", "psnr", "ssim", "protocol", "spikes", "per_pair", "notes"):
        assert key in data
    assert data["pairs"] == 7 and data["flow_origin"] == "source"
    assert data["ratio"] == pytest.approx(data["stylized"]["warp_error"] / data["source"]["warp_error"])
    assert data["ratio"] > 2  # the per-frame noise is real flicker
    assert data["spikes"][0]["warp_error"] == pytest.approx(max(data["stylized"]["per_pair"]["warp_error"]))
    assert data["per_pair"]["time"][1] == pytest.approx(0.05)
    assert len((tmp_path / "f.csv").read_text().splitlines()) == 8
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG" and cv2.imread(str(tmp_path / "f.png")) is not None


@pytest.mark.parametrize("extra,message", [
    (["--source", "missing.mp4"], "missing.mp4: no such file"),
    (["--source", "{short}"], "differ in frame count"),
    (["--flow-preset", "slowest"], "unknown flow preset"),
    (["--preset", "slowest"], "unknown flow preset"),  # the old spelling, still checked
    (["--plot", "{folder}/plot.jpg"], "PNG"),
    (["--max-frames", "1"], "at least 2"),
])
def test_flicker_bad_input_is_one_line_and_exit_2(clips, capsys, extra, message):
    extra = [e.format(**{k: str(v) for k, v in clips.items()}) for e in extra]
    assert run(["flicker", str(clips["stylized"]), *extra, "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vidstyle: error:") and len(err.splitlines()) == 1 and message in err


def test_flicker_refuses_to_overwrite_before_working(clips, capsys):
    target = clips["folder"] / "exists.json"
    target.write_text("{}")
    assert main(["flicker", str(clips["stylized"]), "--json", str(target), "-q"]) == 2
    assert "exists" in capsys.readouterr().err and target.read_text() == "{}"
    assert main(["flicker", str(clips["stylized"]), "--json", str(clips["stylized"]), "-y", "-q"]) == 2
    assert "input" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["flow", "flicker"])
def test_old_preset_and_cache_spellings_are_hidden_aliases(command, capsys):
    from vidstyle.cli import build_parser

    parser = build_parser()
    extra = ["-o", "out"] if command == "flow" else []
    new = parser.parse_args([command, "in.mp4", *extra, "--flow-preset", "fast", "--flow-cache", "c"])
    old = parser.parse_args([command, "in.mp4", *extra, "--preset", "fast", "--cache", "c"])
    plain = parser.parse_args([command, "in.mp4", *extra])
    assert (new.flow_preset, new.flow_cache) == (old.flow_preset, old.flow_cache) == ("fast", "c")
    assert (plain.flow_preset, plain.flow_cache) == ("medium", None)
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    shown = capsys.readouterr().out
    assert "--flow-preset" in shown and "--flow-cache" in shown
    assert "--preset" not in shown.replace("--flow-preset", "") and "--cache" not in shown.replace("--flow-cache", "")


def test_flow_old_cache_spelling_still_fills_the_cache(clips, tmp_path):
    cache = tmp_path / "cache"
    assert main(["flow", str(clips["source"]), "-o", str(tmp_path / "flows"), "--cache", str(cache),
                 "--end-frame", "3", "--no-backward", "-q"]) == 0
    assert any(p.is_file() for p in cache.rglob("*"))
