"""Library errors name parameters; the CLI says its flags (vidstyle/cli/_flags.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vidstyle.cli import main
from vidstyle.cli._flags import cli_message, cli_text, flag
from vidstyle.errors import OutputExistsError, UsageError
from vidstyle.train import make_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, value, command, expected", [
    ("batch_size", None, "train", "--batch-size"),
    ("workers", "3", "render", "--workers 3"),
    ("allow_trim", "True", "flicker", "--allow-trim"),
    ("backward", "False", "flow", "--no-backward"),
    ("check_flow", "False", "guides", "--no-flow-check"),
    ("overwrite", "True", None, "-y/--overwrite"),
    ("keep_hud", "'auto'", "render", "--keep-hud auto"),
    ("preset", None, "prefilter", "--flow-preset"),
    ("encoder_preset", None, "prefilter", "--preset"),
    ("keyframes", None, "masks", "--from-keyframe"),
    ("override", None, "run", "--set"),
])
def test_flag_spelling(name, value, command, expected):
    assert flag(name, value, command) == expected


def test_library_message_names_the_parameter_and_the_cli_its_flag():
    with pytest.raises(UsageError) as caught:
        make_settings("fast", batch_size=0)
    err = caught.value
    assert str(err) == "batch_size must be at least 1 (got 0)"  # what a Python caller passed
    assert cli_message(err, "train") == "--batch-size must be at least 1 (got 0)"
    # Only the named parameters are respelled, whole words only, never inside the path.
    err = UsageError("workers=3 needs at least as many threads (got 2): each model worker runs on its own thread",
                     "/data/workers/threads.mp4", params=("workers", "threads"))
    assert cli_message(err, "render") == ("/data/workers/threads.mp4: --workers 3 needs at least as many --threads "
                                          "(got 2): each model worker runs on its own thread")
    assert cli_message(OutputExistsError("out.mp4")) == "out.mp4: output exists (use -y/--overwrite to replace it)"
    assert str(OutputExistsError("out.mp4")) == "out.mp4: output exists (use overwrite=True to replace it)"
    # In a recipe run a step's parameter is a recipe key, not a flag: left as the library says it.
    assert cli_message(UsageError("steps must be at least 1", params=("steps",)), "run") == "steps must be at least 1"
    assert cli_message(UsageError("bad override 'x'", params=("override",)), "run") == "bad --set 'x'"


def test_no_library_message_spells_a_cli_flag():
    """Every raise, warning and info line outside vidstyle/cli names parameters, not flags."""
    offenders = []
    for path in (ROOT / "vidstyle").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "vidstyle").parts:
            continue
        text = path.read_text()
        for match in re.finditer(r"(?:raise \w+|\b(?:warn|info|fallback))\((?:[^()]|\([^()]*\))*\)", text, re.S):
            if re.search(r"[\"' ]--[a-z]|[\"' ]-y\b", match[0]):
                offenders.append(f"{path.relative_to(ROOT)}: {match[0][:90]}")
    assert not offenders, "\n".join(offenders)


def test_warning_lines_name_the_parameter_and_the_cli_its_flag(capsys):
    from vidstyle.progress import set_spelling, warn

    warn("workers=2 needs frames that do not depend on each other (not with compile=True); workers.mp4",
         params=("workers", "compile"))
    assert capsys.readouterr().err == ("vidstyle: warning: workers=2 needs frames that do not depend on each other "
                                       "(not with compile=True); workers.mp4\n")
    previous = set_spelling(lambda message, params: cli_text(message, params, "render"))
    try:
        warn("workers=2 needs frames that do not depend on each other (not with compile=True); workers.mp4",
             params=("workers", "compile"))
    finally:
        set_spelling(previous)
    assert capsys.readouterr().err == ("vidstyle: warning: --workers 2 needs frames that do not depend on each "
                                       "other (not with --compile); workers.mp4\n")  # a file name stays


@pytest.mark.parametrize("argv, message", [
    (["train", "in.mp4", "--keyframes", "k", "-o", "{tmp}/m.pt", "--batch-size", "0"],
     "--batch-size must be at least 1 (got 0)"),
    (["train", "in.mp4", "--keyframes", "k", "-o", "{tmp}/m.pt", "--pair-weight", "-1"],
     "--pair-weight must not be negative (got -1)"),
    (["masks", "in.mp4", "-o", "{tmp}/m"], "choose at least one mode: --from-keyframe, --hud, --color-key"),
    (["run", "recipe.yaml", "--set", "train..minutes=3"], "bad --set 'train..minutes=3'"),
])
def test_cli_errors_name_the_flags(tmp_path, capsys, argv, message):
    if argv[0] == "run":
        argv[1] = str(_recipe(tmp_path))
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def _recipe(tmp_path: Path) -> Path:
    video = tmp_path / "in.mp4"
    video.write_bytes(b"")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"input: {{video: {video}}}\nkeyframes: {{paint: toon}}\n")
    return recipe
