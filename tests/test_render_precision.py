"""How the renderer runs the model on CPU: precision choice, bf16 fallbacks and accuracy,
memory format per architecture, codec-thread priority, the encoder flush in the timings."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
import torch

from vidstyle.io import Codec, open_video
from vidstyle.models import ModelConfig, Stylizer, get_architecture
from vidstyle.render import (ModelRunner, Numerics, Pipeline, Precision, cpu_has_native_bf16, render,
                             resolve_runtime, run_sequential)
from vidstyle.render import _runtime

from ._fixtures_render import fp32_only, psnr, toy_model


@pytest.fixture
def fresh_detector():
    cpu_has_native_bf16.cache_clear()
    yield
    cpu_has_native_bf16.cache_clear()


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_on_cpu_follows_native_bf16(monkeypatch, native):
    monkeypatch.setattr(_runtime, "cpu_has_native_bf16", lambda: native)
    plan = resolve_runtime("cpu", "auto", threads=1)
    assert plan.precision is (Precision.BF16 if native else Precision.FP32)
    assert resolve_runtime("cpu", "fp32", threads=1).precision is Precision.FP32  # always available


def test_native_bf16_detector_is_false_when_unsure(monkeypatch, fresh_detector):
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    assert cpu_has_native_bf16() is False
    cpu_has_native_bf16.cache_clear()
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    assert cpu_has_native_bf16() is False


def test_channels_last_on_cpu_is_a_property_of_the_architecture():
    assert get_architecture("fast").cpu_channels_last and get_architecture("texler").cpu_channels_last
    assert not get_architecture("fast_neural_style").cpu_channels_last
    fast, fns = Stylizer(ModelConfig("fast")), Stylizer(ModelConfig("fast_neural_style"))
    assert resolve_runtime("cpu", threads=1, model=fast).channels_last
    assert not resolve_runtime("cpu", threads=1, model=fns).channels_last
    assert not resolve_runtime("cpu", threads=1, model=fast, channels_last=False).channels_last
    assert not resolve_runtime("cpu", threads=1).channels_last  # no model: the safe default


def test_runner_converts_a_copy_to_bf16_and_returns_float():
    model = Stylizer(ModelConfig("fast")).train()
    runner = ModelRunner(model, resolve_runtime("cpu", "bf16", threads=1, model=model))
    assert runner.numerics is Numerics.CONVERTED
    assert runner.describe() == "bf16 (weights converted), channels_last"
    with torch.inference_mode():
        out = runner(torch.rand(2, 3, 24, 32))
    assert out.dtype == torch.float32 and out.shape == (2, 3, 24, 32)
    weight = model.net.enc0.weight
    assert weight.dtype == torch.float32 and weight.is_contiguous() and model.training  # caller's model untouched


def _no_bf16(x: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.bfloat16:
        raise RuntimeError("\"some_op\" not implemented for 'BFloat16'")
    return x[:, :3]


def _broken(x: torch.Tensor) -> torch.Tensor:
    raise ValueError("broken model")


@pytest.mark.parametrize("fn, expected", [(_no_bf16, Numerics.AUTOCAST), (fp32_only, Numerics.FP32)])
def test_a_model_without_bf16_kernels_falls_back_with_one_warning(capsys, fn, expected):
    model = toy_model(f"test_{fn.__name__}", fn)
    runner = ModelRunner(model, resolve_runtime("cpu", "bf16", threads=1))
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(runner(x), x)
        assert torch.equal(runner(x), x)  # the second call stays in the mode that worked
    assert runner.numerics is expected
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidstyle: warning: the model fails in bf16")
    assert runner.precision is (Precision.FP32 if expected is Numerics.FP32 else Precision.BF16)


def test_a_model_that_fails_in_fp32_too_raises_its_own_error(capsys):
    runner = ModelRunner(toy_model("test_broken", _broken), resolve_runtime("cpu", "bf16", threads=1))
    with pytest.raises(ValueError, match="broken model"), torch.inference_mode():
        runner(torch.rand(1, 3, 8, 8))
    assert "warning" not in capsys.readouterr().err


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bf16 (AMX/AVX512-BF16)")
def test_bf16_render_on_cpu_stays_close_to_fp32(cfr_clip, tmp_path, quiet):
    torch.manual_seed(0)
    model = Stylizer(ModelConfig("fast", arch_options={"widths": [8, 16, 32], "blocks": 2}))
    with torch.no_grad():  # the residual blocks start as the identity; make them do something
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    outputs = {}
    for precision in ("fp32", "bf16"):
        out = tmp_path / f"{precision}.mkv"  # lossless: compare the model, not the encoder
        result = render(cfr_clip, model, out, precision=precision, codec=Codec.FFV1)
        assert result.precision == precision
        with open_video(out) as reader:
            outputs[precision] = [frame.rgb for frame in reader]
    assert np.std(outputs["fp32"][0]) > 5  # the check means something: not a flat frame
    assert min(psnr(a, b) for a, b in zip(outputs["fp32"], outputs["bf16"])) >= 40


def test_pipeline_flushes_on_the_encode_thread_and_times_it():
    seen: list[str] = []
    finish = lambda: seen.append(threading.current_thread().name)  # noqa: E731
    times = Pipeline(iter(range(5)), list, lambda batch: None, time_of=float, out_time=lambda b: b[0],
                     finish=finish).run()
    assert seen == ["vidstyle-encode"] and times.wall >= times.encode
    run_sequential(iter(range(5)), list, lambda batch: None, finish=finish)
    assert seen == ["vidstyle-encode", threading.current_thread().name]


def test_pipeline_does_not_flush_after_a_failure():
    seen: list[int] = []

    def fail(batch: list[int]) -> list[int]:
        raise RuntimeError("model broke")

    with pytest.raises(Exception, match="model broke"):
        Pipeline(iter(range(5)), fail, lambda batch: None, time_of=float, out_time=lambda b: b[0],
                 finish=lambda: seen.append(1)).run()
    assert seen == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_codec_threads_run_at_the_asked_priority():
    nice: dict[str, int] = {}

    def source():
        nice["decode"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        yield from range(3)

    def sink(batch: list[int]) -> None:
        nice["encode"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    Pipeline(source(), list, sink, time_of=float, out_time=lambda b: b[0], io_nice=7).run()
    assert nice == {"decode": max(base, 7), "encode": max(base, 7)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the model's thread keeps its own
