"""Reading, overriding and validating recipes (all before any work starts)."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from ..errors import VidstyleError
from ..flow import FlowPreset
from ..io import Codec, check_encoder_settings, parse_size
from ._schema import PathKind, Recipe, RecipeError

_MISSING = object()


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a YAML recipe, apply ``key.path=value`` overrides, validate it all.

    Raises :class:`RecipeError` naming the file and the key path on any problem.
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError("is a folder, not a recipe file" if path.is_dir() else "no such recipe file", path)
    try:
        data = _read_yaml(path.read_text(encoding="utf-8"), path)
    except OSError as err:
        raise RecipeError(f"cannot read the recipe: {err.strerror or err}", path) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or type(err).__name__
        raise RecipeError(f"not valid YAML{where}: {problem}", path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"a recipe is a mapping of sections, got {_kind(data)}", path)
    for override in overrides:
        key, value = parse_override(override)
        set_key(data, key, value, origin=path)
    return recipe_from_dict(data, base_dir=path.parent, source=path)


MAX_RECIPE_NODES = 10_000  # the shipped recipes have under 100 values; aliases may not blow that up


def _read_yaml(text: str, path: Path) -> Any:
    """``yaml.safe_load``, refusing documents whose aliases expand past :data:`MAX_RECIPE_NODES`
    values (a 700-byte "billion laughs" recipe otherwise takes gigabytes once printed or hashed)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_RECIPE_NODES:
            raise RecipeError(f"aliases (*name) expand to over {MAX_RECIPE_NODES} values (or refer to "
                              "themselves); a recipe needs far fewer: write the values out", path)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias written out (capped just past the limit)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = MAX_RECIPE_NODES + 1  # a node inside itself (a recursive alias) is over the limit
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, memo)
        if total > MAX_RECIPE_NODES:
            break
    memo[key] = min(total, MAX_RECIPE_NODES + 1)
    return memo[key]


def parse_override(text: str) -> tuple[str, Any]:
    """``"train.minutes=2"`` -> ``("train.minutes", 2)``; the value is read as YAML
    (numbers, booleans, ``null``, ``[0, 50]``), so types follow the schema's coercion."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise RecipeError(f"bad override {text!r}: expected KEY.PATH=VALUE, e.g. train.minutes=2",
                          params=("override",))
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key, _Override(value, raw)


class _Override:
    """A ``--set`` value: coerced more leniently than YAML (a str field takes ``18`` as "18")."""

    def __init__(self, value: Any, raw: str) -> None:
        self.value, self.raw = value, raw


def set_key(data: dict[str, Any], key: str, value: Any, *, origin: Path | None = None) -> None:
    """Put ``value`` at dotted ``key`` inside the raw recipe mapping, creating sections."""
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise RecipeError(f"override {key}: {'.'.join(parts[:depth + 1])} is not a section", origin,
                              params=("override",))
        node = child
    node[parts[-1]] = value


def recipe_from_dict(data: dict[str, Any], *, base_dir: str | Path = ".", source: Path | None = None) -> Recipe:
    """Build and validate a :class:`Recipe` from a plain mapping (as read from YAML)."""
    base_dir = Path(base_dir)
    recipe = _build(Recipe, data, "", base_dir, source)
    recipe.source = source
    validate(recipe)
    return recipe


def validate(recipe: Recipe) -> None:
    """Cross-field checks: what the types alone cannot say."""
    where = recipe.source

    def fail(key: str, message: str, params: tuple[str, ...] = ()) -> None:
        raise RecipeError(f"{key}: {message}", where, params=params)

    name = recipe.name
    if (not name.strip() or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or Path(name).is_absolute()):
        fail("name", f"{_shown(name)} is used as a folder name (out/<name>): no /, \\, '..' or "
             "absolute paths, not empty")
    if recipe.input.video is None:
        fail("input.video", "required: the clip to stylize")
    for key, text in (("input.size", recipe.input.size), ("train.size", recipe.train.size)):
        if text is not None:
            _wrap(key, parse_size, text, where)
    start, end = recipe.input.start, recipe.input.end
    for key, value in (("input.start", start), ("input.end", end)):
        if value is not None and not 0 <= value < float("inf"):  # nan fails this too
            fail(key, f"must be a finite number of seconds, not negative (got {value})")
    if start is not None and end is not None and end <= start:
        fail("input.end", f"must be after input.start ({end} <= {start})")
    if recipe.trains:
        k = recipe.keyframes
        given = [f"keyframes.{name}" for name, value in (("dir", k.dir), ("paint", k.paint),
                                                         ("style_image", k.style_image), ("model", k.model))
                 if value is not None]
        if not given:
            fail("render.model", "no model to render with: give render.model=FILE (e.g. override "
                 "render.model=model.pt), or keyframes.dir, keyframes.paint, keyframes.style_image or "
                 "keyframes.model to train one", params=("override",))
        if len(given) > 1:
            fail("keyframes", f"give one of keyframes.dir (your paintings), keyframes.paint, keyframes.style_image "
                 f"and keyframes.model, not {' and '.join(given)} (set the others to null)")
        has_paint = k.dir is None
        if has_paint and not k.frames and k.every is None:
            fail("keyframes.frames", "list at least one frame index to paint")
        if k.every is not None and k.every <= 0:
            fail("keyframes.every", f"must be a positive number of seconds (got {k.every})")
        if k.model_range not in (1, 255):
            fail("keyframes.model_range", f"must be 1 or 255 (got {k.model_range})")
        if k.model_range != 1 and k.model is None:
            fail("keyframes.model_range", "goes with keyframes.model (an ONNX model)")
        if any(index < 0 for index in recipe.keyframes.frames):
            fail("keyframes.frames", "frame indices are zero-based and not negative")
        if recipe.train.minutes is None and recipe.train.steps is None:
            fail("train", "give a budget: train.minutes or train.steps")
        if recipe.train.minutes is not None and recipe.train.minutes <= 0:
            fail("train.minutes", f"must be positive (got {recipe.train.minutes})")
        if recipe.train.steps is not None and recipe.train.steps < 1:
            fail("train.steps", f"must be at least 1 (got {recipe.train.steps})")
        for key in ("temporal_weight", "texture_weight"):
            value = getattr(recipe.train, key)
            if value is not None and value < 0:
                fail(f"train.{key}", "must not be negative")
        if recipe.train.detail_gain is not None and not recipe.train.detail_gain >= 1:
            fail("train.detail_gain", f"must be at least 1 (1 = off; got {recipe.train.detail_gain:g})")
        if (recipe.train.edges or recipe.train.line_art) and recipe.train.arch not in (None, "fast"):
            fail("train.line_art" if recipe.train.line_art else "train.edges",
                 f"the edge input is an option of the fast design, not {recipe.train.arch}")
        if recipe.train.detail_sampling is not None and not 0 <= recipe.train.detail_sampling <= 1:
            fail("train.detail_sampling", f"must be in [0, 1] (0 = uniform; got {recipe.train.detail_sampling:g})")
        if recipe.train.mirror is not None and not 0 <= recipe.train.mirror <= 1:
            fail("train.mirror", f"must be in [0, 1] (0 = none; got {recipe.train.mirror:g})")
        if recipe.train.fusion_flow is not None:
            recipe.train.fusion_flow = _wrap("train.fusion_flow", FlowPreset.parse, recipe.train.fusion_flow,
                                             where).value
    codec = _wrap("render.codec", Codec.parse, recipe.render.codec, where)
    if codec is Codec.PNG:
        fail("render.codec", "the pipeline writes videos; choose h264, h265, h264_nvenc or ffv1")
    if not 0 <= recipe.render.crf <= 63:
        fail("render.crf", f"must be 0-63 (got {recipe.render.crf})")
    _wrap("render.preset", lambda preset: check_encoder_settings(codec, None, preset), recipe.render.preset,
          where)
    if not 0.0 <= recipe.render.stabilize < 1.0:
        fail("render.stabilize", f"must be in [0, 1) (got {recipe.render.stabilize})")
    if recipe.render.hold_stretch is not None and not recipe.render.hold_stretch >= 0:
        fail("render.hold_stretch", f"must be >= 0 (got {recipe.render.hold_stretch})")
    if recipe.render.batch is not None and recipe.render.batch < 1:
        fail("render.batch", "must be at least 1")
    _wrap("report.flow_preset", FlowPreset.parse, recipe.report.flow_preset, where)
    if recipe.report.max_frames is not None and recipe.report.max_frames < 2:
        fail("report.max_frames", "needs at least 2 frames (one pair)")
    if recipe.report.stills < 1:
        fail("report.stills", "must be at least 1")


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The effective recipe as plain YAML-able data (for the report and the cache)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                    if not f.metadata.get("internal")}
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return plain(recipe)


# -- building typed sections ------------------------------------------------------

def _build(cls: type, data: Any, prefix: str, base_dir: Path, source: Path | None) -> Any:
    where = prefix.rstrip(".") or "recipe"
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: expected a mapping of keys, got {_kind(data)}", source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else \
                f" (known: {', '.join(fields)})"
            raise RecipeError(f"{prefix}{key}: unknown key{hint}", source)
    values = {}
    for name, spec in fields.items():
        raw = data.get(name, _MISSING)
        if raw is _MISSING:
            continue
        key = f"{prefix}{name}"
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            values[name] = _build(tp, {} if _unwrap(raw) is None else _unwrap(raw), key + ".",
                                  base_dir, source)
            continue
        value = _coerce(raw, tp, key, source)
        kind = spec.metadata.get("path")
        if kind is not None and value is not None:
            # A --set path is what the user typed in the shell: relative to the working folder.
            base = Path.cwd() if isinstance(raw, _Override) else base_dir
            value = _check_path(value, kind, key, base, source)
        values[name] = value
    return cls(**values)


def _unwrap(raw: Any) -> Any:
    return raw.value if isinstance(raw, _Override) else raw


def _coerce(raw: Any, tp: Any, key: str, source: Path | None) -> Any:
    lenient = isinstance(raw, _Override)
    value = _unwrap(raw)
    options = typing.get_args(tp) if isinstance(tp, types.UnionType) else (tp,)
    if value is None:
        if type(None) in options:
            return None
        raise RecipeError(f"{key}: a value is required (got null)", source)
    wanted = [t for t in options if t is not type(None)]
    for target in wanted:
        ok, result = _try_coerce(value, target, lenient, key, source)
        if ok:
            return result
    names = " or ".join(_type_name(t) for t in wanted)
    shown = raw.raw if lenient else value
    raise RecipeError(f"{key}: expected {names}, got {_kind(value)} {_shown(shown)}", source)


def _try_coerce(value: Any, target: Any, lenient: bool, key: str, source: Path | None) -> tuple[bool, Any]:
    origin = typing.get_origin(target)
    if origin is list:
        (item_type,) = typing.get_args(target)
        if lenient and not isinstance(value, list):
            value = [value]  # --set keyframes.frames=40 means [40]
        if not isinstance(value, list):
            return False, None
        return True, [_coerce(item, item_type, f"{key}[{i}]", source) for i, item in enumerate(value)]
    if isinstance(target, type) and issubclass(target, enum.Enum):
        text = str(value).strip().lower()
        for member in target:
            if text in (member.value, member.name.lower()):
                return True, member
        choices = ", ".join(m.value for m in target)
        raise RecipeError(f"{key}: unknown value {_shown(value)} (choose from {choices})", source)
    if target is bool:
        return isinstance(value, bool), value
    if isinstance(value, bool):
        return False, None  # yes/no is not a number or a name
    if target is int:
        return isinstance(value, int), value
    if target is float:
        return isinstance(value, (int, float)), float(value) if isinstance(value, (int, float)) else None
    if target is str:
        if isinstance(value, str):
            return True, value
        return (True, str(value)) if lenient and isinstance(value, (int, float)) else (False, None)
    if target is Path:
        return (True, Path(value)) if isinstance(value, str) and value.strip() else (False, None)
    return False, None


def _check_path(value: Path, kind: PathKind, key: str, base_dir: Path, source: Path | None) -> Path:
    path = (base_dir / value.expanduser()).absolute() if not value.expanduser().is_absolute() \
        else value.expanduser()
    if not path.exists():
        raise RecipeError(f"{key}: no such {'folder' if kind is PathKind.DIR else 'file'}: {path}", source)
    if kind is PathKind.DIR and not path.is_dir():
        raise RecipeError(f"{key}: expected a folder, got a file: {path}", source)
    if kind is PathKind.FILE and not path.is_file():
        raise RecipeError(f"{key}: expected a file, got a folder: {path}", source)
    return path


def _wrap(key: str, fn: Any, value: Any, source: Path | None) -> Any:
    try:
        return fn(value)
    except VidstyleError as err:
        raise RecipeError(f"{key}: {err}", source) from None


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}s"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            Path: "a path"}.get(tp, getattr(tp, "__name__", str(tp)))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)


SHOWN_CHARS = 60  # a value quoted in a message: enough to recognise it, never a screenful


def _shown(value: Any) -> str:
    """``repr(value)`` cut to :data:`SHOWN_CHARS` characters (a recipe value can be huge)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS - 15]}... ({len(text)} characters)"
