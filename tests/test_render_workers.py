"""CPU model workers on alternate frames, and the CPU render's default x264 preset."""

from __future__ import annotations

import random
import re
import threading
import time
from pathlib import Path

import pytest
import torch

from vidstyle.errors import UsageError
from vidstyle.io import Codec
from vidstyle.render import CPU_RENDER_PRESET, Pipeline, StageFailure, render, resolve_runtime

from ._fixtures_render import moving_pattern, read_frames, toy_model, video_pts_seconds
from ._media import make_clip

# x264's subpixel-refinement level per preset: it is written into every stream's SEI options.
_SUBME = {"ultrafast": 0, "superfast": 1, "veryfast": 2, "faster": 4, "fast": 6, "medium": 7, "slow": 8}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "workers.mp4", frames=24, vfr=True,
                     make_frame=moving_pattern)


@pytest.fixture(scope="module")
def mixer():
    """Mixes the channels and the neighbouring pixels: an output that shows any mix-up of frames."""
    return toy_model("test_workers_mix", lambda x: (0.6 * x[:, :3] + 0.4 * x[:, :3].roll(3, dims=-1)).flip(1))


def test_pipeline_workers_keep_the_order_and_use_every_worker():
    seen: dict[int, str] = {}

    def process(batch: list[int]) -> list[int]:
        time.sleep(random.Random(batch[0]).uniform(0.0, 0.01))  # finish out of order
        seen[batch[0]] = threading.current_thread().name
        return batch

    out: list[int] = []
    times = Pipeline(iter(range(61)), process, out.extend, time_of=float, out_time=lambda b: b[0],
                     batch=2, workers=3).run()
    assert out == list(range(61))  # in order, the last (odd-sized) batch included
    assert len(set(seen.values())) == 3
    assert times.model <= times.wall  # the workers' mean, not their sum


def test_pipeline_ordered_step_sees_the_batches_in_order_on_the_workers():
    order: list[int] = []
    threads: set[str] = set()

    def process(batch: list[int]) -> list[int]:
        time.sleep(random.Random(batch[0]).uniform(0.0, 0.01))  # finish out of order
        return batch

    def ordered(batch: list[int]) -> list[int]:
        order.append(batch[0])
        threads.add(threading.current_thread().name)
        return [2 * i for i in batch]

    out: list[int] = []
    Pipeline(iter(range(40)), process, out.extend, ordered=ordered, time_of=float, out_time=lambda b: b[0],
             batch=3, workers=3).run()
    assert order == list(range(0, 40, 3)) and out == [2 * i for i in range(40)]
    assert len(threads) > 1 and not any("encode" in name for name in threads)


def test_pipeline_workers_keep_memory_bounded():
    produced: list[int] = []

    def source():
        for i in range(80):
            produced.append(i)
            yield i

    consumed: list[int] = []

    def slow_sink(batch: list[int]) -> None:
        time.sleep(0.002)
        # Decode queue (2 batches of 4), batches taken and not yet encoded (3 workers + 2),
        # the one item the decoder holds.
        assert len(produced) - len(consumed) <= 2 * 4 + (3 + 2) * 4 + 1
        consumed.extend(batch)

    Pipeline(source(), list, slow_sink, time_of=float, out_time=lambda b: b[0], batch=4, workers=3).run()
    assert consumed == list(range(80))


def test_a_failing_worker_thread_stops_the_pipeline_with_the_model_stage_named():
    def process(batch: list[int]) -> list[int]:
        if threading.current_thread() is not threading.main_thread() and batch[0] >= 10:
            raise RuntimeError("worker broke")
        time.sleep(0.001)
        return batch

    with pytest.raises(StageFailure, match="model stage failed .*worker broke"):
        Pipeline(iter(range(200)), process, lambda batch: None, time_of=float, out_time=lambda b: b[0],
                 workers=2).run()


def test_two_workers_render_the_same_frames_in_the_same_order_as_one(clip, mixer, tmp_path):
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.mkv"  # lossless: compare the frames, not the encoder
        result = render(clip, mixer, out, threads=2, workers=workers, codec=Codec.FFV1)
        assert result.frames == 24
        outputs[workers] = (read_frames(out), video_pts_seconds(out))
    (one, pts_one), (two, pts_two) = outputs[1], outputs[2]
    assert pts_one == pts_two
    assert len(one) == len(two) == 24 and all((a == b).all() for a, b in zip(one, two))
    assert any((a != b).any() for a, b in zip(one, one[1:]))  # the frames differ from each other


def test_worker_plan_on_cpu(capsys):
    assert resolve_runtime("cpu", threads=2).model_workers == 2
    assert resolve_runtime("cpu", threads=2).worker_threads == 1
    assert resolve_runtime("cpu", threads=1).model_workers == 1
    plan = resolve_runtime("cpu", threads=4, workers=1)
    assert (plan.model_workers, plan.worker_threads) == (1, 4)
    assert resolve_runtime("cpu", threads=2, independent_frames=False).model_workers == 1
    assert capsys.readouterr().err == ""
    plan = resolve_runtime("cpu", threads=2, workers=2, independent_frames=False)
    assert plan.model_workers == 1 and plan.worker_threads == 2
    assert "workers=2 needs frames that do not depend on each other (not with compile=True); running one model " \
        "worker" in capsys.readouterr().err and "workers=2 needs" in plan.notes[0]  # parameters, not flags
    with pytest.raises(UsageError, match="workers=3 needs at least as many threads"):
        resolve_runtime("cpu", threads=2, workers=3)
    with pytest.raises(UsageError, match="workers must be at least 1"):
        resolve_runtime("cpu", workers=0)


def test_render_restores_the_torch_threads(clip, mixer, tmp_path):
    before = torch.get_num_threads()
    render(clip, mixer, tmp_path / "out.mp4", threads=2, workers=2, end=0.3)
    assert torch.get_num_threads() == before


def _x264_subme(path: Path) -> int:
    match = re.search(rb"subme=(\d+)", path.read_bytes())
    assert match, "no x264 options in the stream"
    return int(match.group(1))


def test_cpu_render_defaults_to_its_preset_and_an_explicit_preset_wins(clip, mixer, tmp_path):
    default, medium = tmp_path / "default.mp4", tmp_path / "medium.mp4"
    render(clip, mixer, default, device="cpu", end=0.3)
    render(clip, mixer, medium, device="cpu", end=0.3, preset="medium")
    assert _x264_subme(default) == _SUBME[CPU_RENDER_PRESET]
    assert _x264_subme(medium) == _SUBME["medium"]


def test_cli_workers_bad_value_is_one_line(clip, tmp_path, capsys):
    from vidstyle.cli import main
    from vidstyle.models import save_checkpoint

    model = save_checkpoint(tmp_path / "m.pt", toy_model("test_workers_cli", lambda x: x[:, :3]))
    code = main(["render", str(clip), "-m", str(model), "-o", str(tmp_path / "o.mp4"), "--threads", "1",
                 "--workers", "2", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "--workers 2 needs at least as many --threads" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
