"""Hostile recipes (issue 18): names used as paths, alias bombs, unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.cli import main
from vidstyle.errors import Interrupted
from vidstyle.pipeline import RecipeError, build_steps, load_recipe, run_pipeline

from ._fixtures_pipeline import SAMPLE, FakeApi, tiny_clip  # noqa: F401 (tiny_clip: a fixture)
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


class _InterruptedOnce(FakeApi):
    """Training saves a checkpoint and is interrupted the first time; continues the second."""

    def train(self, clip: Path, keyframes: Path, model: Path, **options):  # type: ignore[no-untyped-def]
        if not self.calls["train"]:
            self.calls["train"] += 1
            model.write_text("step 430")
            raise Interrupted(f"saved the model at step 430 to {model} (continue with --resume)")
        assert options.get("resume") and model.read_text() == "step 430"  # the kept checkpoint, in place
        return super().train(clip, keyframes, model, **options)


def test_interrupted_training_in_run_is_kept_and_resumed(tmp_path: Path, tiny_clip: Path) -> None:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(f"input: {{video: {tiny_clip}}}\nkeyframes: {{paint: toon, frames: [2]}}\n"
                      "train: {steps: 5}\nrender: {preset: ultrafast}\nreport: {flicker: false}\n")
    api = _InterruptedOnce()
    with pytest.raises(Interrupted) as caught:
        run_pipeline(load_recipe(recipe), build_steps(api), output_dir=tmp_path / "out")
    message = str(caught.value)
    assert "at step 430" in message and ".partial" not in message and "--resume" not in message
    kept = [p for p in (tmp_path / "out" / "work" / "train").iterdir() if p.name.endswith(".resume")]
    assert len(kept) == 1 and (kept[0] / "model.pt").read_text() == "step 430"
    assert str(kept[0]) in message
    result = run_pipeline(load_recipe(recipe), build_steps(api), output_dir=tmp_path / "out")
    assert "train" in result.computed and api.calls["train"] == 2
    assert not kept[0].exists()  # used up
