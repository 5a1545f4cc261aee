"""One source for every default: --help, the recipe schema and the docs say what the library does.

Each test reads the default from the library's behaviour (``make_settings``, a
function's signature, a dataclass) and the text from the parser or the docs; any
drift between them fails here.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import yaml

from vidstyle.cli import build_parser
from vidstyle.models import FusionConfig
from vidstyle.train import DEFAULT_MINUTES, make_settings

DOCS = Path(__file__).resolve().parent.parent / "docs"
DESIGNS = ("fast", "texler")
TRAIN_KNOBS = {  # flag -> TrainSettings field
    "--lr": "lr", "--patch-size": "patch_size", "--batch-size": "batch_size", "--gan-weight": "gan_weight",
    "--texture-weight": "texture_weight", "--temporal-weight": "temporal_weight",
    "--propagation-weight": "propagation_weight", "--pair-weight": "pair_weight",
    "--fusion-weight": "fusion_weight", "--compound-weight": "compound_weight", "--detail-gain": "detail_gain",
    "--colour-calibration": "colour_calibration", "--detail-sampling": "detail_sampling", "--mirror": "mirror",
}


def _command(name: str) -> argparse.ArgumentParser:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[name]


def _option(command: str, flag: str) -> argparse.Action:
    return next(a for a in _command(command)._actions if flag in a.option_strings)


def _design_values(field: str) -> dict[str, float]:
    return {arch: getattr(make_settings(arch), field) for arch in DESIGNS}


def _states(text: str, values: dict[str, float]) -> bool:
    """Whether ``text`` gives each design's value ("8 for fast, 40 for texler", or one shared value)."""
    text = text.replace("`", "")
    if len(set(values.values())) == 1:
        shown = [float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?", text)]
        return next(iter(values.values())) in shown
    stated = {arch: float(n) for n, arch in re.findall(r"(\d+(?:\.\d+)?(?:e-?\d+)?) for (\w+)", text)}
    return stated == values


def test_fusion_flow_help_states_the_stages_real_preset():
    presets = _design_values("fusion_flow")
    assert set(presets.values()) == {FusionConfig().flow_preset}  # new stages and the trainer's agree
    assert _option("train", "--fusion-flow").help.endswith(f"(default {presets['fast']})")


@pytest.mark.parametrize("flag", sorted(TRAIN_KNOBS))
def test_train_help_states_each_designs_real_default(flag):
    values = _design_values(TRAIN_KNOBS[flag])
    help_text = _option("train", flag).help
    default = help_text[help_text.rindex("(default"):]
    assert _states(default, values), (flag, default, values)


def test_train_help_budget_and_design_defaults():
    from vidstyle.models import DEFAULT_ARCH
    from vidstyle.train import TrainOptions

    assert f"(default {DEFAULT_MINUTES:g})" in _option("train", "--minutes").help
    assert _option("train", "--arch").default == DEFAULT_ARCH == TrainOptions().arch
    assert f"{DEFAULT_ARCH} (default)" in _option("train", "--arch").help


def test_training_docs_state_the_library_defaults():
    text = (DOCS / "training.md").read_text()
    assert f"`--minutes M` (default {DEFAULT_MINUTES:g})" in text
    rows = {m[1]: m[2] for m in re.finditer(r"^\| [^|]*\(`(--[a-z-]+)`[^|]*\| ([^|]+) \|", text, re.M)}
    checked = [flag for flag in TRAIN_KNOBS if flag in rows]
    assert len(checked) >= 7, rows  # the loss table lists every weight
    for flag in checked:
        assert _states(rows[flag], _design_values(TRAIN_KNOBS[flag])), (flag, rows[flag])


def test_recipe_schema_defaults_are_the_library_defaults():
    from vidstyle import _defaults
    from vidstyle.metrics import flicker
    from vidstyle.pipeline._schema import RenderSection, ReportSection, TrainSection
    from vidstyle.render import RenderOptions
    from vidstyle.train import TrainOptions

    assert TrainSection().minutes == DEFAULT_MINUTES
    assert TrainSection().seed == TrainOptions().seed
    render = RenderSection()
    assert render.preset is None and RenderOptions().preset is None  # both leave it to the renderer
    assert render.crf == _defaults.CRF and RenderOptions().crf is None  # None: the writer's, _defaults.CRF
    assert render.stabilize == RenderOptions().stabilize
    assert render.hold_stretch == RenderOptions().hold_stretch  # both defer to the model's
    assert ReportSection().flow_preset == inspect.signature(flicker).parameters["preset"].default.value


def test_pipeline_docs_table_states_the_schema_defaults():
    from vidstyle.pipeline._schema import SECTIONS, Recipe

    text = (DOCS / "pipelines.md").read_text()
    text = text[text.index("| key | type | default | meaning |"):]
    text = text[:text.index("\n\n")]  # the schema table
    rows = re.findall(r"^\| (`[a-z_.]+`(?:, `[a-z_.]+`)*) \| [^|]+ \| ([^|]*) \|", text, re.M)
    assert len(rows) > 30, rows
    checked = 0
    for keys, defaults in rows:
        names = re.findall(r"`([a-z_.]+)`", keys)
        values = re.findall(r"`([^`]*)`", defaults)
        if len(values) != len(names):
            continue  # "required" or no default
        for name, shown in zip(names, values):
            section, _, key = name.rpartition(".")
            holder = SECTIONS[section]() if section else Recipe()
            actual = getattr(holder, key)
            actual = actual.value if hasattr(actual, "value") else actual
            assert yaml.safe_load(shown) == actual, (name, shown, actual)
            checked += 1
    assert checked > 30


def test_encoder_and_flow_help_state_the_library_defaults():
    from vidstyle import _defaults
    from vidstyle.flow import export_flows
    from vidstyle.masks import MaskJob
    from vidstyle.metrics import flicker
    from vidstyle.render import CPU_RENDER_PRESET, RenderOptions

    render_preset = _option("render", "--preset").help
    assert CPU_RENDER_PRESET in render_preset and _defaults.ENCODER_PRESET in render_preset
    assert f"(default {_defaults.ENCODER_PRESET}" in _option("convert", "--preset").help
    assert f"(default {_defaults.CRF})" in _option("render", "--crf").help
    assert _option("render", "--stabilize-flow").default == RenderOptions().stabilize_flow.value
    assert _option("flicker", "--flow-preset").default == inspect.signature(flicker).parameters["preset"].default.value
    assert _option("flow", "--flow-preset").default == inspect.signature(export_flows).parameters["preset"].default.value
    mask_preset = next(f.default for f in dataclasses.fields(MaskJob) if f.name == "preset")
    assert _option("masks", "--flow-preset").default == mask_preset


def test_help_states_the_defaults_of_options_left_to_the_library():
    """Options without a parser default (None: the library decides) say the library's value."""
    from vidstyle.metrics import TEXTURE_EVERY, flicker
    from vidstyle.render import DEFAULT_WARMUP, render_on_ray
    from vidstyle.shots import DEFAULT_RADIUS, suggest_keyframes

    assert inspect.signature(flicker).parameters["texture_every"].default == TEXTURE_EVERY
    assert inspect.signature(render_on_ray).parameters["warmup"].default == DEFAULT_WARMUP
    assert inspect.signature(suggest_keyframes).parameters["radius"].default == DEFAULT_RADIUS
    for command, flag, value in (("flicker", "--texture-every", TEXTURE_EVERY), ("render", "--warmup", DEFAULT_WARMUP),
                                 ("shots", "--radius", DEFAULT_RADIUS)):
        assert _option(command, flag).default is None
        assert f"(default {value:g}" in _option(command, flag).help, (command, flag)


def _library_defaults(target) -> dict:
    if dataclasses.is_dataclass(target):
        return {f.name: f.default for f in dataclasses.fields(target)}
    return {name: p.default for name, p in inspect.signature(target).parameters.items()}


def test_cli_defaults_are_the_library_functions_defaults():
    """Where a command's option sets a value itself, it is the default of the parameter it is passed to."""
    from vidstyle import flow, guides, io, masks, metrics, prefilter, render, styles, texler

    targets = {"prefilter": prefilter.write_prefiltered, "guides": guides.generate_guides,
               "export-texler": texler.export_texler, "flicker": metrics.flicker, "flow": flow.export_flows,
               "masks": masks.MaskJob, "render": render.RenderOptions, "export": render.export_onnx,
               "extract": io.extract_frames, "paint": styles.paint_video}
    checked = 0
    for command, target in targets.items():
        library = _library_defaults(target)
        for action in _command(command)._actions:
            dest = "preset" if action.dest == "flow_preset" else action.dest  # the library's name for it
            if dest not in library or action.default in (None, False, [], argparse.SUPPRESS):
                continue
            expected = getattr(library[dest], "value", library[dest])
            assert action.default == expected, (command, action.dest, action.default, expected)
            checked += 1
    assert checked >= 20, checked


def test_recipe_train_knobs_are_the_trainers_and_reach_it(monkeypatch, tmp_path):
    """Each ``train.*`` knob whose null means "the trainer's default" is a TrainOptions field that
    also defaults to None, and the pipeline hands a value given in a recipe to the trainer."""
    from vidstyle.pipeline._schema import TrainSection
    from vidstyle.pipeline._steps import VidstyleApi
    from vidstyle.train import TrainOptions

    knobs = [f.name for f in dataclasses.fields(TrainSection)
             if f.default is None and "None = trainer default" in f.metadata["help"]]
    assert {"temporal_weight", "texture_weight", "detail_gain", "detail_sampling", "fusion_flow"} <= set(knobs), knobs
    options = {f.name: f.default for f in dataclasses.fields(TrainOptions)}
    for knob in knobs:
        assert knob in options and options[knob] is None, knob
    given = {knob: "fast" if knob == "fusion_flow" else 1.5 + i for i, knob in enumerate(knobs)}
    seen = []

    class Stop(Exception):
        pass

    def fake_train(clip, keyframes, model, opts):
        seen.append(opts)
        raise Stop

    monkeypatch.setattr("vidstyle.train.train", fake_train)
    with pytest.raises(Stop):
        VidstyleApi().train(tmp_path / "clip.mp4", tmp_path / "keys", tmp_path / "m.pt", masks=None, guides=None,
                            settings=TrainSection(steps=5, **given), device="cpu")
    assert {knob: getattr(seen[0], knob) for knob in knobs} == given
    seen.clear()
    with pytest.raises(Stop):  # the edge input, a plain switch
        VidstyleApi().train(tmp_path / "clip.mp4", tmp_path / "keys", tmp_path / "m.pt", masks=None, guides=None,
                            settings=TrainSection(steps=5, edges=True), device="cpu")
    assert seen[0].edges is True and TrainOptions().edges is False and TrainSection().edges is False
    seen.clear()
    with pytest.raises(Stop):  # the line-art preset, a plain switch
        VidstyleApi().train(tmp_path / "clip.mp4", tmp_path / "keys", tmp_path / "m.pt", masks=None, guides=None,
                            settings=TrainSection(steps=5, line_art=True), device="cpu")
    assert seen[0].line_art is True and TrainOptions().line_art is False and TrainSection().line_art is False
    args = build_parser().parse_args(["train", "clip.mp4", "--keyframes", "keys", "-o", "m.pt", "--line-art"])
    assert args.line_art is True
