"""Library messages in the CLI's words: the parameter a message names becomes its flag.

The library names parameters as a Python caller or recipe author knows them
(``batch must be at least 1``, ``pass allow_trim=True``) and lists them in
``VidstyleError.params``; :func:`cli_message` spells each as the command's flag
(``--batch must be at least 1``, ``pass --allow-trim``); :func:`cli_text` does the
same for warning and info lines (``warn(..., params=...)``). The flag is
``--`` + the name with dashes, ``name=True`` is the switch ``--name``,
``name=False`` is ``--no-name``, ``name=value`` is ``--name value``; the
exceptions are listed here, in one place.
"""

from __future__ import annotations

import re
from typing import Sequence

from ..errors import VidstyleError

# Where a command's flag is not the parameter's name with dashes. Keys are a name or name=value.
FLAGS: dict[str, str] = {
    "overwrite=True": "-y/--overwrite",
    "check_flow=False": "--no-flow-check",
    "temporal=False": "--per-frame",
    "use_ray": "--ray",
}
# Commands that run a recipe: a parameter a step's error names is a recipe key
# (train.steps), not a flag; only those in their table here are respelled.
RECIPE_COMMANDS = {"run", "demo"}
COMMAND_FLAGS: dict[str, dict[str, str]] = {
    "run": {"override": "--set", "force": "--force-step", "overwrite=True": "-y/--overwrite"},
    "demo": {"override": "--set", "overwrite=True": "-y/--overwrite"},
    "prefilter": {"preset": "--flow-preset", "encoder_preset": "--preset"},
    "masks": {"preset": "--flow-preset", "keyframes": "--from-keyframe"},
    "guides": {"preset": "--flow-preset"},
    "export-texler": {"preset": "--flow-preset"},
    "flow": {"preset": "--flow-preset", "cache": "--flow-cache"},
    "flicker": {"preset": "--flow-preset", "cache": "--flow-cache"},
}


def flag(name: str, value: str | None = None, command: str | None = None) -> str:
    """How ``command`` spells parameter ``name`` (set to ``value``, when the message gives one)."""
    table = {**FLAGS, **COMMAND_FLAGS.get(command or "", {})}
    if value is not None:
        if f"{name}={value}" in table:
            return table[f"{name}={value}"]
        base = table.get(name, "--" + name.replace("_", "-"))
        if value == "True":
            return base
        if value == "False":
            return "--no-" + base.removeprefix("--")
        return f"{base} {value.strip(chr(39) + chr(34))}"
    return table.get(name, "--" + name.replace("_", "-"))


def cli_message(err: VidstyleError, command: str | None = None) -> str:
    """``str(err)`` with each parameter it names spelled as ``command``'s flag."""
    message = cli_text(err.message, err.params, command)
    return f"{err.path}: {message}" if err.path is not None else message


def cli_text(message: str, params: Sequence[str], command: str | None = None) -> str:
    """``message`` with each of ``params`` it names spelled as ``command``'s flag: for errors,
    warning and info lines (:func:`vidstyle.progress.warn`) and Ctrl-C reports alike."""
    own = COMMAND_FLAGS.get(command or "", {})
    for name in sorted(params, key=len, reverse=True):  # hud_include before hud
        if command in RECIPE_COMMANDS and not any(key.split("=")[0] == name for key in own):
            continue
        # The name alone or name=value; not inside a word, a path or a file name (workers.mp4).
        pattern = rf"(?<![\w./-]){re.escape(name)}(?:=('[^']*'|\"[^\"]*\"|[^\s,;:)]+))?(?![\w-]|\.\w)"
        message = re.sub(pattern, lambda m, name=name: flag(name, m[1], command), message)
    return message
