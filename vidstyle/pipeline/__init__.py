"""Declarative recipes, a cached step runner, ``vidstyle run``/``demo`` and the HTML report.

Public API::

    from vidstyle.pipeline import load_recipe, run_recipe
    recipe = load_recipe("pipelines/fewshot.yaml", ["train.minutes=2"])   # validated up front
    result = run_recipe(recipe, output_dir="out/fewshot")                 # PipelineResult
    result.outputs["report.html"], result.computed                        # what ran this time

Steps (clip, keyframes, masks, flows, guides, train, render, reference, flicker,
compare, report) are cached under ``output_dir/work`` by a hash of their input
files, parameters and upstream keys; :func:`build_steps` takes a :class:`StepApi`
so tests can replace the calls into other packages. Reports are built from plain
:class:`ReportData` records with :func:`render_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .._device import resolve_device
from ._cache import CacheEntry, StepCache, file_identity, step_key
from ._demo import demo_recipe, repo_root, run_demo
from ._graph import build_steps
from ._recipe import load_recipe, parse_override, recipe_from_dict, recipe_to_dict
from ._report import SECTION_IDS, png_data_uri, render_report, write_report
from ._report_data import (Chart, FlickerSection, ReportData, Series, Still, StillRow, Table, Timing,
                           TrainingSection, collect_environment)
from ._runner import PipelineResult, Step, StepContext, StepOutput, StepRecord, describe_plan, run_pipeline
from ._schema import (Device, GuidesSection, HudMode, InputSection, KeyframesSection, MasksSection, Recipe,
                      RecipeError, RenderSection, ReportSection, TrainSection)
from ._steps import ClipFlicker, FlickerNumbers, StepApi, TrainingSummary, VidstyleApi


def run_recipe(recipe: Recipe | str | Path, *, output_dir: str | Path, work_dir: str | Path | None = None,
               overrides: Iterable[str] = (), force: bool | Iterable[str] = False, overwrite: bool = False,
               prune: bool = False, api: StepApi | None = None) -> PipelineResult:
    """Load (if given a path) and run a recipe with the standard steps."""
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, list(overrides))
    return run_pipeline(recipe, build_steps(api), output_dir=output_dir, work_dir=work_dir, force=force,
                        overwrite=overwrite, prune=prune)


__all__ = [
    "CacheEntry", "Chart", "ClipFlicker", "Device", "FlickerNumbers", "FlickerSection", "GuidesSection", "HudMode",
    "InputSection", "KeyframesSection", "MasksSection", "PipelineResult", "Recipe", "RecipeError",
    "RenderSection", "ReportData", "ReportSection", "SECTION_IDS", "Series", "Step", "StepApi",
    "StepCache", "StepContext", "StepOutput", "StepRecord", "Still", "StillRow", "Table", "Timing",
    "TrainSection", "TrainingSection", "TrainingSummary", "VidstyleApi", "build_steps",
    "collect_environment", "demo_recipe", "describe_plan", "file_identity", "load_recipe",
    "parse_override", "png_data_uri", "recipe_from_dict", "recipe_to_dict", "render_report",
    "repo_root", "resolve_device", "run_demo", "run_pipeline", "run_recipe", "step_key",
    "write_report",
]
