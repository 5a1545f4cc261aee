"""Interrupting ``vidstyle render`` part-way leaves nothing under the final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidstyle.models import ModelConfig, Stylizer, save_checkpoint

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hacienda_320x240.mp4"


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "fns.pt"
    return save_checkpoint(path, Stylizer(ModelConfig("fast_neural_style")))


def _start(model: Path, out: Path, threads: list[str]) -> subprocess.Popen:
    # PYTHONFAULTHANDLER: a render that hangs is sent SIGABRT and prints where each thread was
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), PYTHONFAULTHANDLER="1")
    return subprocess.Popen([sys.executable, "-m", "vidstyle", "render", str(SAMPLE), "-m", str(model),
                             "-o", str(out), "-q", *threads],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(process: subprocess.Popen, partial: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(partial.parent.glob(partial.name))
        if found and found[0].stat().st_size > 0:
            time.sleep(0.5)  # let it get properly under way
            return
        if process.poll() is not None:
            pytest.fail(f"render ended early: {process.communicate()[1]}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("render never started writing")


@pytest.mark.parametrize("how,threads", [("sigint", ["--threads", "1"]), ("sigkill", ["--threads", "1"]),
                                         ("sigint", ["--threads", "2", "--workers", "2"]),
                                         ("sigterm", ["--threads", "2", "--workers", "2"])])
def test_interrupted_render_leaves_no_final_output(slow_model, tmp_path, how, threads):
    out = tmp_path / "styled.mp4"
    partial = tmp_path / "styled.mp4.*.partial"  # each run writes under its own temporary name
    process = _start(slow_model, out, threads)
    _wait_for_partial(process, partial)
    sent = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}[how]
    process.send_signal(sent)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        pytest.fail(f"render still running 30 s after {how}:\n{process.communicate()[1][-6000:]}")
    assert not out.exists()
    if how != "sigkill":  # Ctrl-C, kill, timeout: a clean stop that also removes the partial file
        assert process.returncode == 128 + sent, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr
        assert not list(tmp_path.glob(partial.name))
