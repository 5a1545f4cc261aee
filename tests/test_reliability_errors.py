"""User and disk problems (issue 18): one line naming the file and cause, exit 2, nothing left behind."""

from __future__ import annotations

import errno
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vidstyle.cli import main
from vidstyle.errors import VidstyleError
from vidstyle.io import VideoWriter
from vidstyle.models import CHECKPOINT_FORMAT, ModelConfig, Stylizer, save_checkpoint

from .conftest import SAMPLE, assert_one_line_error


def _one_line(code: int, capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "internal error" not in err and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def _limited_cli(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with files capped at ``limit`` bytes (ulimit -f): writes fail as on a full disk."""
    return subprocess.run([sys.executable, "-m", "vidstyle", *map(str, args)], capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))


def test_full_disk_in_convert_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "full.mp4"
    result = _limited_cli(40_000, "convert", SAMPLE, "-o", out, "-q")
    assert_one_line_error(result, str(out), "file too large")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_in_render_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    model = save_checkpoint(tmp_path / "m.pt", Stylizer(ModelConfig(arch="fast")))
    real = VideoWriter._encode

    def full_after_three(self, frame, out_pts):  # type: ignore[no-untyped-def]
        if self.frames_written >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, frame, out_pts)

    monkeypatch.setattr(VideoWriter, "_encode", full_after_three)
    out = tmp_path / "styled.mp4"
    code = main(["render", str(SAMPLE), "-m", str(model), "-o", str(out), "--end", "1", "--size", "64x48", "-q"])
    _one_line(code, capsys, "styled.mp4", "no space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_full_disk_while_saving_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_save(obj, path):  # type: ignore[no-untyped-def]  # what torch says under ulimit -f
        Path(path).write_bytes(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 405184 vs 405072")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(VidstyleError, match=r"model.pt: .*while writing it"):
        save_checkpoint(tmp_path / "model.pt", Stylizer(ModelConfig(arch="fast")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", [["--start", "nan"], ["--end", "inf"], ["--start", "-1"], ["--scale", "nan"]])
def test_non_finite_numbers_are_usage_errors(tmp_path: Path, capsys, option: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:  # argparse's way out
        main(["convert", str(SAMPLE), "-o", str(tmp_path / "o.mp4"), *option])
    _one_line(caught.value.code, capsys, option[0])


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    good = save_checkpoint(folder / "good.pt", Stylizer(ModelConfig(arch="fast")))
    data = torch.load(good, weights_only=True)
    files = {"good": good}
    files["truncated"] = folder / "truncated.pt"
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    torch.save({**data, "config": "{not json"}, folder / "badjson.pt")
    files["badjson"] = folder / "badjson.pt"
    torch.save({**data, "config": ModelConfig(arch="nope").to_json()}, folder / "badarch.pt")
    files["badarch"] = folder / "badarch.pt"
    assert data["format"] == CHECKPOINT_FORMAT
    return files


@pytest.mark.parametrize("name, fragment", [("truncated", "cut short"), ("badjson", "config"),
                                            ("badarch", "nope")])
def test_damaged_models_name_the_file(model_files: dict[str, Path], tmp_path: Path, capsys, name: str,
                                      fragment: str) -> None:
    code = main(["render", str(SAMPLE), "-m", str(model_files[name]), "-o", str(tmp_path / "o.mp4"), "-q"])
    _one_line(code, capsys, f"{name}.pt", fragment)


def test_unreadable_model_is_one_line(model_files: dict[str, Path], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    real = Path.open

    def denied(self: Path, *args, **kwargs):  # chmod 0 does not stop root, who runs CI
        if self.name == "good.pt":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    code = main(["render", str(SAMPLE), "-m", str(model_files["good"]), "-o", str(tmp_path / "o.mp4"), "-q"])
    _one_line(code, capsys, "good.pt", "Permission denied")
