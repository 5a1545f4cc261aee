"""``vidstyle demo``: the few-shot recipe on the sample clip shipped in ``samples/``."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import InputError
from ._recipe import load_recipe
from ._runner import PipelineResult, run_pipeline
from ._schema import Recipe
from ._steps import StepApi

DEMO_RECIPE = "pipelines/fewshot.yaml"
DEMO_SAMPLE = "samples/hacienda_320x240.mp4"


def repo_root() -> Path:
    """The source tree the package was installed from (``pip install -e .``)."""
    return Path(__file__).resolve().parents[2]


def _locate(root: Path, relative: str, what: str) -> Path:
    path = root / relative
    if not path.is_file():
        raise InputError(f"the demo needs {what} {relative} from the vidstyle source tree, which is not "
                         f"there; install vidstyle from a git checkout (pip install -e .)", path)
    return path


def demo_recipe(overrides: Iterable[str] = (), *, root: Path | None = None) -> Recipe:
    """The few-shot recipe pointed at the sample clip (``--set`` overrides applied last);
    ``root`` is the source tree holding pipelines/ and samples/ (default: this package's)."""
    root = repo_root() if root is None else Path(root)
    recipe_path = _locate(root, DEMO_RECIPE, "the recipe")
    sample = _locate(root, DEMO_SAMPLE, "the sample clip")
    return load_recipe(recipe_path, [f"input.video={sample}", "name=demo", *overrides])


def run_demo(output_dir: str | Path = "vidstyle-demo", *, overrides: Iterable[str] = (),
             overwrite: bool = False, force: bool = False, api: StepApi | None = None) -> PipelineResult:
    """Run the demo; returns the run (outputs: stylized.mp4, comparison.mp4, report.html, ...)."""
    from ._graph import build_steps

    return run_pipeline(demo_recipe(overrides), build_steps(api), output_dir=output_dir,
                        overwrite=overwrite, force=force)
