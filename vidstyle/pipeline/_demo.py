"""``vidstyle demo``: the few-shot recipe on the sample clip shipped in ``samples/``; with a
style image, the from-painting recipe (keyframes painted with that picture as the style)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import InputError
from ._recipe import load_recipe
from ._runner import PipelineResult, run_pipeline
from ._schema import Recipe
from ._steps import StepApi

DEMO_RECIPE = "pipelines/fewshot.yaml"
STYLE_IMAGE_RECIPE = "pipelines/from-painting.yaml"
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


def demo_recipe(overrides: Iterable[str] = (), *, root: Path | None = None,
                style_image: str | Path | None = None) -> Recipe:
    """The few-shot recipe pointed at the sample clip (``--set`` overrides applied last);
    ``root`` is the source tree holding pipelines/ and samples/ (default: this package's).
    With ``style_image``, the from-painting recipe with that picture as the style."""
    root = repo_root() if root is None else Path(root)
    recipe_path = _locate(root, DEMO_RECIPE if style_image is None else STYLE_IMAGE_RECIPE, "the recipe")
    sample = _locate(root, DEMO_SAMPLE, "the sample clip")
    painting = [] if style_image is None else [f"keyframes.style_image={Path(style_image).absolute()}"]
    return load_recipe(recipe_path, [f"input.video={sample}", "name=demo", *painting, *overrides])


def run_demo(output_dir: str | Path = "vidstyle-demo", *, overrides: Iterable[str] = (),
             style_image: str | Path | None = None, overwrite: bool = False, force: bool = False,
             api: StepApi | None = None) -> PipelineResult:
    """Run the demo; returns the run (outputs: stylized.mp4, comparison.mp4, report.html, ...).
    ``style_image`` (needs the ``neural`` extra) paints the keyframes with that picture as the style."""
    from ._graph import build_steps

    return run_pipeline(demo_recipe(overrides, style_image=style_image), build_steps(api),
                        output_dir=output_dir, overwrite=overwrite, force=force)
