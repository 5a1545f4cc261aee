"""``vidstyle run`` (a recipe from pipelines/) and ``vidstyle demo`` (the sample clip)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._options import add_common


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run a pipeline recipe (YAML) with cached steps",
        description="Validate the recipe (unknown keys, types, missing files) before any work, then run "
        "its steps, printing each with its time. Intermediate results are cached under the work folder "
        "by their inputs and parameters, so a rerun that changes only render settings does not retrain.")
    p.add_argument("recipe", help="recipe file, e.g. pipelines/fewshot.yaml")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="output folder (default: out/<recipe name>)")
    p.add_argument("--work", metavar="DIR", help="cache folder (default: OUTPUT/work)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe value, e.g. --set train.minutes=2 (repeatable)")
    p.add_argument("--force", action="store_true", help="recompute every step, ignoring the cache")
    p.add_argument("--force-step", action="append", default=[], metavar="STEP",
                   help="recompute STEP and everything after it (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="validate and list the steps, run nothing")
    p.add_argument("--prune", action="store_true", help="delete cache entries this run no longer uses")
    add_common(p)
    p.set_defaults(func=run_recipe_command)

    p = subparsers.add_parser(
        "demo", help="stylize the bundled sample clip end to end (few-shot recipe)",
        description="Runs pipelines/fewshot.yaml on samples/hacienda_320x240.mp4: paints one keyframe "
        "with a reference stylizer, trains, renders with audio, writes a side-by-side video and "
        "report.html. About 2 minutes on 2 idle CPU cores (budget 5), less on a GPU. With --style-image, "
        "runs pipelines/from-painting.yaml instead: keyframes painted with your picture as the style, and "
        'the report beside that painter applied to every frame (needs pip install "vidstyle[neural]").')
    p.add_argument("-o", "--output", metavar="DIR", default="vidstyle-demo",
                   help="output folder (default: vidstyle-demo)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value of the few-shot recipe, e.g. --set keyframes.paint=watercolor")
    p.add_argument("--style-image", metavar="IMAGE",
                   help="a painting to use as the style (from-painting recipe; the neural extra)")
    p.add_argument("--force", action="store_true", help="recompute every step, ignoring the cache")
    add_common(p)
    p.set_defaults(func=run_demo_command)


def run_recipe_command(args: argparse.Namespace) -> int:
    from ..pipeline import build_steps, describe_plan, load_recipe, run_pipeline

    recipe = load_recipe(args.recipe, args.overrides)
    if args.dry_run:
        for line in describe_plan(recipe, build_steps()):
            print(line)
        return 0
    output = Path(args.output) if args.output else Path("out") / recipe.name
    force = True if args.force else args.force_step
    result = run_pipeline(recipe, build_steps(), output_dir=output, work_dir=args.work, force=force,
                          overwrite=args.overwrite, prune=args.prune)
    _summary(result)
    return 0


def run_demo_command(args: argparse.Namespace) -> int:
    from ..pipeline import run_demo

    result = run_demo(args.output, overrides=args.overrides, style_image=args.style_image,
                      overwrite=args.overwrite, force=args.force)
    _summary(result)
    return 0


def _summary(result) -> None:  # type: ignore[no-untyped-def]
    from ..progress import info

    computed = ", ".join(result.computed) or "nothing (all cached)"
    info(f"done in {result.seconds:.1f} s; computed: {computed}")
    for path in result.outputs.values():
        info(f"  {path}")
