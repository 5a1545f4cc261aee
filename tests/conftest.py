"""Shared fixtures and the ``needs_cuda`` marker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ._media import make_clip

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hacienda_320x240.mp4"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "needs_cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def quiet():  # type: ignore[no-untyped-def]
    """No progress bars or info lines while the test runs."""
    from vidstyle.progress import set_quiet

    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cfr_clip(media_dir: Path) -> Path:
    return make_clip(media_dir / "cfr.mp4", frames=30)


@pytest.fixture(scope="session")
def vfr_clip(media_dir: Path) -> Path:
    return make_clip(media_dir / "vfr.mp4", frames=30, vfr=True)


@pytest.fixture(scope="session")
def silent_clip(media_dir: Path) -> Path:
    return make_clip(media_dir / "silent.mkv", frames=20, audio=False)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vidstyle ARGS`` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "vidstyle", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, exactly one line on stderr, no traceback, naming what it should."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def run_main(args: list[str]) -> int:
    """``vidstyle ARGS`` in this process: the exit code, whether main returns it or argparse exits with it."""
    from vidstyle.cli import main

    try:
        return main(args)
    except SystemExit as exit_:
        return int(exit_.code)
