"""The step runner: check everything, then run each step or take it from the cache."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .._device import resolve_device
from ..errors import Interrupted, StageError, VidstyleError
from ..io import atomic_output, check_output
from ..progress import info
from ._cache import CacheEntry, StepCache, file_identity, step_key
from ._schema import Recipe


@dataclass
class StepOutput:
    """What a step function returns: its files (role -> name inside the step folder)
    and small JSON-serialisable data (metrics, loss history, settings it chose)."""

    files: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepRecord:
    """How one step went in this run (for the printout and the report's timing table)."""

    name: str
    description: str
    key: str
    seconds: float          # time spent in this run (cache lookups are ~0)
    cached: bool
    computed_seconds: float  # what computing it cost when it was computed


@dataclass
class StepContext:
    """Everything a step function may use. Write outputs into ``folder`` (a temporary
    folder that becomes the cache entry when the step returns)."""

    recipe: Recipe
    folder: Path
    upstream: dict[str, CacheEntry]
    device: str
    work_dir: Path
    records: list[StepRecord]
    resume_dir: Path | None = None  # what an interrupted run of this step kept (see Step.keep_on_interrupt)

    def need(self, step: str) -> CacheEntry:
        """The output of an upstream step that must have run."""
        if step not in self.upstream:
            raise StageError(f"pipeline step needs the output of {step!r}, which did not run")
        return self.upstream[step]


def _nothing(recipe: Recipe) -> dict[str, Any]:
    return {}


def _always(recipe: Recipe) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """One pipeline step.

    Attributes:
        name: unique name; also the cache sub-folder.
        run: the work, ``run(ctx) -> StepOutput``.
        needs: upstream step names (earlier in the list); their keys enter this key.
        params: the recipe values that change this step's result (they enter the key).
        files: input files or folders whose identity enters the key.
        enabled: whether the recipe uses this step at all.
        check: validation that can run before any work (e.g. a style name exists).
        publish: role -> file name copied into the output folder after the run;
            ``publish_fn`` gives it from the recipe instead (e.g. .mkv for FFV1).
        version: bump when the step's code changes what it produces.
        cached: False for cheap steps that must reflect this run (the report).
        keep_on_interrupt: files in ``folder`` to keep when the step is interrupted
            (Ctrl-C, SIGTERM): moved to ``ctx.resume_dir``, where the next run of the
            same step (same key) finds them, e.g. the trainer's checkpoint.
    """

    name: str
    run: Callable[[StepContext], StepOutput]
    description: str = ""
    needs: tuple[str, ...] = ()
    params: Callable[[Recipe], dict[str, Any]] = _nothing
    files: Callable[[Recipe], dict[str, Path]] = lambda recipe: {}
    enabled: Callable[[Recipe], bool] = _always
    check: Callable[[Recipe], None] | None = None
    publish: dict[str, str] = field(default_factory=dict)
    publish_fn: Callable[[Recipe], dict[str, str]] | None = None
    version: str = "1"
    cached: bool = True
    keep_on_interrupt: tuple[str, ...] = ()

    def published(self, recipe: Recipe) -> dict[str, str]:
        return self.publish_fn(recipe) if self.publish_fn is not None else dict(self.publish)


@dataclass
class PipelineResult:
    """A finished run: the cache entries used, per-step records and published files."""

    recipe: Recipe
    output_dir: Path
    work_dir: Path
    entries: dict[str, CacheEntry]
    records: list[StepRecord]
    outputs: dict[str, Path]
    seconds: float

    def record(self, name: str) -> StepRecord:
        return next(r for r in self.records if r.name == name)

    @property
    def computed(self) -> list[str]:
        """Names of the steps computed (not taken from the cache) in this run."""
        return [r.name for r in self.records if not r.cached]


def run_pipeline(recipe: Recipe, steps: Sequence[Step], *, output_dir: str | Path,
                 work_dir: str | Path | None = None, force: bool | Iterable[str] = False,
                 overwrite: bool = False, prune: bool = False) -> PipelineResult:
    """Run ``steps`` for ``recipe``; outputs go to ``output_dir``, cache entries to
    ``work_dir`` (default ``output_dir/work``).

    Everything that can be checked without work is checked first: each enabled
    step's ``check``, the step graph, and that no published output exists unless
    ``overwrite``. ``force=True`` recomputes every step; a set of names recomputes
    those steps and everything downstream of them.
    """
    started = time.perf_counter()
    output_dir = Path(output_dir).absolute()
    work_dir = Path(work_dir).absolute() if work_dir is not None else output_dir / "work"
    active = check_pipeline(recipe, steps)
    forced = _forced(force, active)
    inputs = [p for step in active for p in step.files(recipe).values() if p is not None]
    for step in active:
        for name in step.published(recipe).values():
            check_output(output_dir / name, inputs, overwrite)  # never an input, never silently
    device = str(resolve_device(recipe.device))  # cpu or cuda:0
    cache = StepCache(work_dir)
    entries: dict[str, CacheEntry] = {}
    records: list[StepRecord] = []
    for number, step in enumerate(active, 1):
        label = f"[{number}/{len(active)}] {step.name}"
        upstream = {name: entries[name] for name in step.needs if name in entries}
        files = {role: file_identity(path) for role, path in step.files(recipe).items() if path is not None}
        key = step_key(step.name, step.version, step.params(recipe), files,
                       {name: entry.key for name, entry in upstream.items()}) if step.cached else "latest"
        entry = cache.load(step.name, key) if step.cached and step.name not in forced else None
        if entry is not None:
            info(f"{label}: cached ({_seconds(entry.seconds)} when computed)")
            records.append(StepRecord(step.name, step.description, key, 0.0, True, entry.seconds))
        else:
            info(f"{label}: {step.description or 'running'}")
            entry = _compute(step, key, cache, recipe, upstream, device, work_dir, records)
            info(f"{label}: done in {_seconds(entry.seconds)}")
            records.append(StepRecord(step.name, step.description, key, entry.seconds, False, entry.seconds))
        entries[step.name] = entry
    outputs = _publish(recipe, active, entries, output_dir)
    if prune:
        removed = cache.prune({name: entry.key for name, entry in entries.items()})
        if removed:
            info(f"pruned {removed} old cache entries from {work_dir}")
    return PipelineResult(recipe, output_dir, work_dir, entries, records, outputs,
                          time.perf_counter() - started)


def check_pipeline(recipe: Recipe, steps: Sequence[Step]) -> list[Step]:
    """Run every enabled step's ``check`` (no work); return the enabled steps in order."""
    active = _plan(recipe, steps)
    for step in active:
        if step.check is not None:
            step.check(recipe)
    return active


def _plan(recipe: Recipe, steps: Sequence[Step]) -> list[Step]:
    seen: set[str] = set()
    for step in steps:
        if step.name in seen:
            raise ValueError(f"two pipeline steps are named {step.name!r}")
        unknown = [n for n in step.needs if n not in seen]
        if unknown:
            raise ValueError(f"step {step.name!r} needs {unknown}, which are not earlier steps")
        seen.add(step.name)
    return [step for step in steps if step.enabled(recipe)]


def _forced(force: bool | Iterable[str], active: list[Step]) -> set[str]:
    names = {step.name for step in active}
    if force is True:
        return names
    if not force:
        return set()
    forced = set(force)
    unknown = forced - names
    if unknown:
        raise VidstyleError(f"force: no step named {', '.join(sorted(unknown))} in this recipe "
                            f"(steps: {', '.join(step.name for step in active)})", params=("force",))
    for step in active:  # in order, so downstream of downstream is caught too
        if forced.intersection(step.needs):
            forced.add(step.name)
    return forced


def _compute(step: Step, key: str, cache: StepCache, recipe: Recipe, upstream: dict[str, CacheEntry],
             device: str, work_dir: Path, records: list[StepRecord]) -> CacheEntry:
    begun = time.perf_counter()
    writer = cache.write(step.name, key)
    resume_dir = cache.folder(step.name, key).with_name(f"{key}{RESUME_SUFFIX}")
    with writer as (folder, finish):
        ctx = StepContext(recipe, folder, upstream, device, work_dir, records, resume_dir)
        try:
            output = step.run(ctx)
        except Interrupted as err:  # the step kept work on disk: move it out of the folder being deleted
            raise _keep(step, folder, resume_dir, err) from None
        missing = [role for role, rel in output.files.items() if not (folder / rel).exists()]
        if missing:
            raise StageError(f"pipeline step {step.name!r} did not write its {', '.join(missing)}")
        finish(output.files, output.data, time.perf_counter() - begun)
    assert writer.entry is not None
    shutil.rmtree(resume_dir, ignore_errors=True)  # used up
    return writer.entry


RESUME_SUFFIX = ".resume"


def _keep(step: Step, folder: Path, resume_dir: Path, err: Interrupted) -> BaseException:
    """Move ``step.keep_on_interrupt`` files into ``resume_dir``; the Interrupted to raise says
    truthfully what was kept and where (the step's own message named a folder about to go)."""
    kept = [name for name in step.keep_on_interrupt if (folder / name).is_file()]
    if not kept:
        return KeyboardInterrupt()
    resume_dir.mkdir(parents=True, exist_ok=True)
    for name in kept:
        os.replace(folder / name, resume_dir / name)
    at = re.search(r"at step \d+", str(err))
    return Interrupted(f"step {step.name}: kept {', '.join(kept)}{' ' + at[0] if at else ''} in {resume_dir}; "
                       "run the same command again to continue from there")


def _publish(recipe: Recipe, active: list[Step], entries: dict[str, CacheEntry],
             output_dir: Path) -> dict[str, Path]:
    """Copy each step's published files from its cache entry into the output folder."""
    outputs: dict[str, Path] = {}
    for step in active:
        for role, name in step.published(recipe).items():
            entry = entries[step.name]
            if not entry.has(role):
                continue
            target = output_dir / name
            with atomic_output(target, overwrite=True) as temp:
                shutil.copyfile(entry.path(role), temp)
            outputs[name] = target
    return outputs


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def describe_plan(recipe: Recipe, steps: Sequence[Step]) -> list[str]:
    """One line per step the recipe would run (for ``vidstyle run --dry-run``)."""
    return [f"{step.name}: {step.description}" for step in check_pipeline(recipe, steps)]
