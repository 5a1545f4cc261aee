"""The step runner and cache, with small steps injected (no other vidstyle package involved)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from vidstyle.errors import OutputExistsError, VidstyleError
from vidstyle.pipeline import (Step, StepCache, StepContext, StepOutput, file_identity, recipe_from_dict,
                               run_pipeline, step_key)

from ._fixtures_pipeline import SAMPLE


@pytest.fixture()
def recipe():
    return recipe_from_dict({"input": {"video": str(SAMPLE)}, "keyframes": {"paint": "toon"}})


def counting_steps(calls: collections.Counter, fail_in: str | None = None) -> list[Step]:
    """a -> b -> c, where b depends on train.minutes and c on render.crf."""

    def make(name: str):
        def run(ctx: StepContext) -> StepOutput:
            calls[name] += 1
            if name == fail_in:
                (ctx.folder / "half-written").write_text("x")
                raise VidstyleError(f"{name} broke")
            upstream = {k: json.loads((e.path("out")).read_text()) for k, e in ctx.upstream.items()}
            (ctx.folder / f"{name}.json").write_text(json.dumps({"name": name, "upstream": upstream}))
            return StepOutput(files={"out": f"{name}.json"}, data={"n": calls[name]})
        return run

    return [
        Step("a", make("a"), "first", files=lambda r: {"video": r.input.video}),
        Step("b", make("b"), "second", needs=("a",), params=lambda r: {"minutes": r.train.minutes}),
        Step("c", make("c"), "third", needs=("b",), params=lambda r: {"crf": r.render.crf},
             publish={"out": "c.json"}),
    ]


def test_second_run_is_cached(tmp_path: Path, recipe) -> None:
    calls: collections.Counter = collections.Counter()
    first = run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path / "out")
    assert first.computed == ["a", "b", "c"]
    assert json.loads((tmp_path / "out" / "c.json").read_text())["upstream"]["b"]["name"] == "b"
    second = run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path / "out", overwrite=True)
    assert second.computed == [] and calls == {"a": 1, "b": 1, "c": 1}
    assert [r.cached for r in second.records] == [True, True, True]
    assert second.record("b").computed_seconds == first.record("b").seconds


def test_changing_a_parameter_recomputes_downstream_only(tmp_path: Path, recipe) -> None:
    calls: collections.Counter = collections.Counter()
    run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path)
    first_minutes = recipe.train.minutes
    recipe.render.crf = 30
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path, overwrite=True).computed == ["c"]
    recipe.train.minutes = 9.0
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path,
                        overwrite=True).computed == ["b", "c"]
    recipe.train.minutes = first_minutes  # back to the first settings: all three are still cached
    recipe.render.crf = 18
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path, overwrite=True).computed == []


def test_force_and_force_step(tmp_path: Path, recipe) -> None:
    calls: collections.Counter = collections.Counter()
    run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path)
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path, overwrite=True,
                        force=["b"]).computed == ["b", "c"]
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path, overwrite=True,
                        force=True).computed == ["a", "b", "c"]
    with pytest.raises(VidstyleError, match="no step named zz"):
        run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path, overwrite=True, force=["zz"])


def test_failed_step_leaves_no_entry(tmp_path: Path, recipe) -> None:
    calls: collections.Counter = collections.Counter()
    with pytest.raises(VidstyleError, match="b broke"):
        run_pipeline(recipe, counting_steps(calls, fail_in="b"), output_dir=tmp_path)
    work = tmp_path / "work"
    assert sorted(p.name for p in (work / "b").iterdir()) == []  # no entry, no .partial
    assert not (tmp_path / "c.json").exists()
    # The next run reuses a and computes b and c.
    assert run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path).computed == ["b", "c"]


def test_existing_output_needs_overwrite_before_any_work(tmp_path: Path, recipe) -> None:
    (tmp_path / "c.json").write_text("mine")
    calls: collections.Counter = collections.Counter()
    with pytest.raises(OutputExistsError):
        run_pipeline(recipe, counting_steps(calls), output_dir=tmp_path)
    assert not calls and (tmp_path / "c.json").read_text() == "mine"


def test_check_runs_before_any_step(tmp_path: Path, recipe) -> None:
    calls: collections.Counter = collections.Counter()

    def refuse(r) -> None:
        raise VidstyleError("c cannot run")

    steps = counting_steps(calls)
    steps[2] = Step("c", steps[2].run, needs=("b",), check=refuse)
    with pytest.raises(VidstyleError, match="c cannot run"):
        run_pipeline(recipe, steps, output_dir=tmp_path)
    assert not calls


def test_bad_graph_is_a_programming_error(tmp_path: Path, recipe) -> None:
    steps = [Step("b", lambda ctx: StepOutput(), needs=("a",))]
    with pytest.raises(ValueError, match="not earlier steps"):
        run_pipeline(recipe, steps, output_dir=tmp_path)


def test_step_key_covers_inputs_params_and_upstream(tmp_path: Path) -> None:
    one = tmp_path / "one.bin"
    one.write_bytes(b"abc")
    base = step_key("s", "1", {"x": 1}, {"in": file_identity(one)}, {"up": "k"})
    assert step_key("s", "1", {"x": 2}, {"in": file_identity(one)}, {"up": "k"}) != base
    assert step_key("s", "2", {"x": 1}, {"in": file_identity(one)}, {"up": "k"}) != base
    assert step_key("s", "1", {"x": 1}, {"in": file_identity(one)}, {"up": "j"}) != base
    # Content identity: touching the file keeps the key, changing a byte does not.
    import os
    os.utime(one, ns=(1, 1))
    assert step_key("s", "1", {"x": 1}, {"in": file_identity(one)}, {"up": "k"}) == base
    one.write_bytes(b"abd")
    assert step_key("s", "1", {"x": 1}, {"in": file_identity(one)}, {"up": "k"}) != base


def test_cache_ignores_entries_whose_files_are_gone(tmp_path: Path) -> None:
    cache = StepCache(tmp_path)
    with cache.write("s", "k1") as (folder, finish):
        (folder / "f.txt").write_text("x")
        finish({"f": "f.txt"}, {"v": 1}, 0.5)
    entry = cache.load("s", "k1")
    assert entry is not None and entry.data == {"v": 1} and entry.path("f").read_text() == "x"
    entry.path("f").unlink()
    assert cache.load("s", "k1") is None
    assert cache.prune({"s": "other"}) == 1 and cache.load("s", "k1") is None
