"""Texler layout: flow files, export of a _train/_gen tree and import back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests._fixtures_masks import waves, write_folder
from vidstyle.cli import main
from vidstyle.flow import DisFlow, read_flo, write_flo
from vidstyle.texler import import_texler, read_a2v2f, texler_name, write_a2v2f


pytestmark = pytest.mark.usefixtures("quiet")  # tests/conftest.py


def test_flow_files_round_trip(tmp_path):
    flow = np.random.default_rng(0).normal(size=(7, 5, 2)).astype(np.float32)
    write_a2v2f(tmp_path / "a.A2V2f", flow)
    write_flo(tmp_path / "a.flo", flow)
    assert (tmp_path / "a.A2V2f").stat().st_size == 12 + 7 * 5 * 8
    assert np.array_equal(read_a2v2f(tmp_path / "a.A2V2f"), flow)
    assert np.array_equal(read_flo(tmp_path / "a.flo"), flow)
    assert texler_name(0) == "001" and texler_name(1233) == "1234"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("texler")
    frames = [np.clip(waves(48, 64, seed=2, dx=t), 0, 255).astype(np.uint8) for t in range(6)]
    source = write_folder(root / "clip", frames)
    styled = write_folder(root / "styled", [255 - f for f in frames])  # "stylized": inverted
    out = root / "project"
    assert main(["export-texler", str(source), "-o", str(out), "--name", "Clip", "--keys", "1,4",
                 "--styled", str(styled), "--flow-preset", "fast", "-q"]) == 0
    return root, frames, out


def test_export_writes_texlers_tree(project):
    root, frames, out = project
    train, gen = out / "Clip_train", out / "Clip_gen"
    assert sorted(p.name for p in (train / "output").iterdir()) == ["002.png", "005.png"]
    assert sorted(p.name for p in (gen / "input").iterdir()) == [f"{i:03d}.png" for i in range(1, 7)]
    for folder in ("input_filtered", "mask", "input_gdisko_gauss_r10_s10"):
        assert len(list((train / folder).iterdir())) == 2
    assert len(list((gen / "input_gdisko_gauss_r10_s10").iterdir())) == 6
    # flow_bwd/N maps frame N onto N+1 (Texler numbering), flow_fwd/N maps N onto N-1.
    assert sorted(p.name for p in (gen / "flow_bwd").iterdir())[0] == "001.A2V2f"
    assert sorted(p.name for p in (gen / "flow_fwd").iterdir())[0] == "002.A2V2f"
    forward = DisFlow("fast")(frames[0], frames[1])
    assert np.allclose(read_a2v2f(gen / "flow_bwd" / "001.A2V2f"), forward)
    image = cv2.imread(str(gen / "input" / "003.png"))[..., ::-1]
    assert np.array_equal(image, frames[2])


def test_import_reads_it_back(project, tmp_path):
    root, frames, out = project
    result = import_texler(out, tmp_path / "imported")
    assert result.frames == 6 and result.keyframes == [1, 4] and result.flows == 10
    imported = tmp_path / "imported"
    assert np.array_equal(cv2.imread(str(imported / "frames" / "000002.png"))[..., ::-1], frames[2])
    assert np.array_equal(cv2.imread(str(imported / "keyframes" / "000004.png"))[..., ::-1], 255 - frames[4])
    assert (imported / "masks" / "000001.png").is_file()
    assert len(list((imported / "guides" / "input_gdisko_gauss_r10_s10").iterdir())) == 6
    forward = DisFlow("fast")(frames[0], frames[1])
    assert np.allclose(read_flo(imported / "flows" / "forward" / "000000.flo"), forward)
    backward = DisFlow("fast")(frames[1], frames[0])
    assert np.allclose(read_flo(imported / "flows" / "backward" / "000000.flo"), backward)


def test_bad_texler_inputs_exit_2(project, tmp_path, capsys):
    root, frames, out = project
    assert main(["import-texler", str(tmp_path), "-o", str(tmp_path / "x"), "-q"]) == 2
    assert "_train" in capsys.readouterr().err
    code = main(["export-texler", str(root / "clip"), "-o", str(tmp_path / "p"), "--name", "C", "--keys", "99",
                 "--styled", str(root / "styled"), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "99" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "p").exists()
