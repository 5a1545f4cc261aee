"""Recipe schema: validation before any work, key paths in errors, --set coercion."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.cli import main
from vidstyle.errors import VidstyleError
from vidstyle.pipeline import HudMode, RecipeError, load_recipe, parse_override, recipe_to_dict, VidstyleApi

from ._fixtures_pipeline import REPO, SAMPLE


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = f"""
input: {{video: {SAMPLE}}}
keyframes: {{paint: toon, frames: [3]}}
"""


@pytest.mark.parametrize("path", sorted((REPO / "pipelines").glob("*.yaml")))
def test_shipped_recipes_parse(path: Path) -> None:
    if "render-and-measure" in path.name:
        model = path.parent.parent / "samples" / "hacienda_320x240.mp4"  # any existing file will do
        recipe = load_recipe(path, [f"render.model={model}"])
        assert not recipe.trains
    elif "from-painting" in path.name:  # needs the painting (or another painter) from the user
        painting = path.parent.parent / "samples" / "hacienda_320x240.mp4"  # any existing file will do
        recipe = load_recipe(path, [f"keyframes.style_image={painting}"])
        assert recipe.trains and recipe.reference_style == f"style-image:{painting.resolve()}"
    else:
        recipe = load_recipe(path)
        assert recipe.trains and recipe.keyframes.paint
    assert recipe.input.video == SAMPLE.resolve() or recipe.input.video.samefile(SAMPLE)


def test_defaults_and_types(tmp_path: Path) -> None:
    recipe = load_recipe(write(tmp_path, BASE + "train: {minutes: 2}\nmasks: {hud: keep}\n"))
    assert recipe.train.minutes == 2.0 and isinstance(recipe.train.minutes, float)
    assert recipe.masks.hud is HudMode.KEEP
    assert recipe.keyframes.frames == [3]
    assert recipe.render.crf == 18 and recipe.reference_style == "toon"
    assert recipe_to_dict(recipe)["masks"]["hud"] == "keep"


@pytest.mark.parametrize("text, message", [
    ("train: {minuets: 2}", "train.minuets: unknown key (did you mean train.minutes?)"),
    ("trian: {minutes: 2}", "trian: unknown key (did you mean train?)"),
    ("train: {minutes: fast}", "train.minutes: expected a number, got a string 'fast'"),
    ("render: {crf: 18.5}", "render.crf: expected an integer, got a number 18.5"),
    ("render: {audio: 1}", "render.audio: expected true/false, got an integer 1"),
    ("render: {crf: true}", "render.crf: expected an integer, got a boolean True"),
    ("masks: {hud: maybe}", "masks.hud: unknown value 'maybe' (choose from ignore, exclude, keep)"),
    ("keyframes: {paint: toon, frames: [a]}", "keyframes.frames[0]: expected an integer"),
    ("render: [1, 2]", "render: expected a mapping of keys, got a list"),
    ("render: {codec: vp9}", "render.codec: unknown codec 'vp9'"),
    ("render: {preset: bogus}", "render.preset: unknown libx264 preset 'bogus'"),
    (f"input: {{video: {SAMPLE}, size: big}}", "input.size: bad size 'big'"),
    ("render: {stabilize: 2}", "render.stabilize: must be in [0, 1)"),
    ("render: {hold_stretch: -1}", "render.hold_stretch: must be >= 0"),
    ("keyframes: {dir: nowhere}", "keyframes.dir: no such folder:"),
    ("render: {model: missing.pt}", "render.model: no such file:"),
    ("report: {flow_preset: slow}", "report.flow_preset: unknown flow preset 'slow'"),
    ("train: {minutes: null, steps: null}", "train: give a budget"),
    ("train: {texture_weight: -1}", "train.texture_weight: must not be negative"),
    ("train: {detail_gain: 0.5}", "train.detail_gain: must be at least 1"),
    ("train: {detail_sampling: 1.5}", "train.detail_sampling: must be in [0, 1]"),
    ("train: {mirror: -0.5}", "train.mirror: must be in [0, 1]"),
    ("train: {line_art: true, arch: texler}", "train.line_art: the edge input is an option of the fast design"),
    ("train: {edges: true, arch: texler}", "train.edges: the edge input is an option of the fast design"),
    ("train: {fusion_flow: slowest}", "train.fusion_flow: unknown flow preset 'slowest'"),
])
def test_invalid_recipes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    # The later key wins in YAML flow mappings, so put the broken section after BASE.
    body = BASE.replace("keyframes: {paint: toon, frames: [3]}\n", "") if text.startswith("keyframes") else BASE
    path = write(tmp_path, body + text + "\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    text_out = str(caught.value)
    assert message in text_out and text_out.startswith(str(path)) and "\n" not in text_out


def test_missing_input_and_keyframes(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="input.video: required"):
        load_recipe(write(tmp_path, "name: x\n"))
    with pytest.raises(RecipeError, match="render.model: no model to render with"):
        load_recipe(write(tmp_path, f"input: {{video: {SAMPLE}}}\n"))
    both = BASE.replace("paint: toon", f"paint: toon, dir: {tmp_path}")
    with pytest.raises(RecipeError, match="not keyframes.dir and keyframes.paint"):
        load_recipe(write(tmp_path, both))


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"not valid YAML at line 2"):
        load_recipe(write(tmp_path, "name: x\ninput: video: a\n"))
    with pytest.raises(RecipeError, match="a recipe is a mapping of sections"):
        load_recipe(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(RecipeError, match="no such recipe file"):
        load_recipe(tmp_path / "absent.yaml")
    with pytest.raises(RecipeError, match="is a folder, not a recipe file"):
        load_recipe(tmp_path)


def test_overrides_coerce_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, BASE)
    recipe = load_recipe(path, ["train.minutes=3", "description=7", "keyframes.frames=5",
                                "train.temporal_weight=null", "render.audio=false", "masks.hud=exclude",
                                "report.stills=2", "name=renamed", "train.fusion_flow=Medium"])
    assert recipe.train.minutes == 3.0 and recipe.description == "7"
    assert recipe.keyframes.frames == [5] and recipe.train.temporal_weight is None
    assert recipe.render.audio is False and recipe.masks.hud is HudMode.EXCLUDE and recipe.name == "renamed"
    assert recipe.train.fusion_flow == "medium"  # stored by the preset's name, as the trainer records it
    # A --set path is relative to the shell's folder, not the recipe's.
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "sub" / "model.pt").write_bytes(b"x")
    assert load_recipe(path, ["render.model=model.pt"]).render.model == tmp_path / "sub" / "model.pt"


@pytest.mark.parametrize("override, message", [
    ("train.minutes", "bad override 'train.minutes'"),
    ("=3", "bad override"),
    ("train..minutes=3", "bad override"),
    ("train.minutes=soon", "train.minutes: expected a number, got a string 'soon'"),
    ("train.epochs=3", "train.epochs: unknown key"),
    ("input.video.x=3", "override input.video.x: input.video is not a section"),
])
def test_bad_overrides(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(write(tmp_path, BASE), [override])
    assert message in str(caught.value)


def test_parse_override_reads_yaml_values() -> None:
    key, value = parse_override("keyframes.frames=[0, 50]")
    assert key == "keyframes.frames" and value.value == [0, 50]


def test_cli_broken_recipe_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE + "train: {minutes: 2, temporal: 1}\n")
    out = tmp_path / "out"
    code = main(["run", str(path), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("vidstyle: error: ")
    assert "train.temporal: unknown key" in err
    assert not out.exists()  # failed before any work


def test_cli_dry_run_lists_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE.replace("paint: toon", "paint: null, dir: " + str(tmp_path)) +
                 "render: {comparison: false}\nreport: {flicker: false, html: false}\n")
    (tmp_path / "3.png").write_bytes(b"")
    try:
        VidstyleApi().check(load_recipe(path))
    except VidstyleError as err:
        pytest.skip(f"dry run checks the packages a recipe needs: {err}")
    assert main(["run", str(path), "--dry-run"]) == 0
    steps = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    assert steps == ["clip", "keyframes", "train", "render"]
