"""Hostile recipes (issue 18): names used as paths, alias bombs, unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.cli import main
from vidstyle.pipeline import RecipeError, load_recipe

from ._fixtures_pipeline import SAMPLE
from .conftest import assert_one_line_error, run_cli

BASE = f"input: {{video: {SAMPLE}}}\nkeyframes: {{paint: toon, frames: [3]}}\n"


@pytest.mark.parametrize("name", ["../../../x", "/tmp/elsewhere", "a/b", "..", "a\\\\b", "''"])
def test_recipe_name_cannot_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(BASE + f"name: {name}\n")
    with pytest.raises(RecipeError, match=r"r.yaml: name: .*folder name"):
        load_recipe(recipe)


def test_recipe_name_cli_refuses_before_writing(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(BASE + "name: ../escaped\n")
    result = run_cli("run", recipe, cwd=tmp_path)
    assert_one_line_error(result, "r.yaml", "name:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml"]
    assert not (tmp_path.parent / "escaped").exists()


def _bomb(levels: int) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        prev, cur = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + f"\ntrain: {{minutes: *{chr(ord('a') + levels - 1)}}}\n"


def test_alias_bomb_is_refused_quickly_in_one_short_line(tmp_path: Path) -> None:
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(BASE + _bomb(9))  # 9^9 values once expanded
    assert len(recipe.read_bytes()) < 1000
    with pytest.raises(RecipeError, match="aliases") as caught:
        load_recipe(recipe)
    assert len(str(caught.value)) < 300
    recursive = tmp_path / "loop.yaml"
    recursive.write_text(BASE + "train: &t {minutes: [*t]}\n")
    with pytest.raises(RecipeError, match="aliases"):
        load_recipe(recursive)


def test_small_aliases_still_work_and_long_values_are_cut(tmp_path: Path) -> None:
    shared = tmp_path / "shared.yaml"
    shared.write_text(BASE.replace("frames: [3]", "frames: &f [3]") + "report: {stills: 2}\n")
    assert load_recipe(shared).keyframes.frames == [3]
    long = tmp_path / "long.yaml"
    long.write_text(BASE + "train: {minutes: &l [" + ",".join(["'" + "x" * 50 + "'"] * 200) + "]}\n")
    with pytest.raises(RecipeError, match="train.minutes: expected a number") as caught:
        load_recipe(long)
    assert len(str(caught.value)) < 300


def test_unreadable_recipe_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    recipe = tmp_path / "secret.yaml"
    recipe.write_text(BASE)
    real = Path.read_text

    def denied(self: Path, *args, **kwargs):  # chmod 0 does not stop root, who runs CI
        if self.name == "secret.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    assert main(["run", str(recipe), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "secret.yaml" in err and "Permission denied" in err, err
