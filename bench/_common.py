"""Helpers shared by the benchmarks: footage location, timing, peak memory in a child process."""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import os
import sys
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
# ../shared/footage beside the checkout, or $VIDSTYLE_FOOTAGE (a worktree elsewhere, another machine).
FOOTAGE = Path(os.environ.get("VIDSTYLE_FOOTAGE", ROOT.parent / "shared" / "footage"))
HACIENDA = FOOTAGE / "stk_hacienda_640x480_audio.mp4"
SNOWMOUNTAIN = FOOTAGE / "stk_snowmountain_1280x720.mp4"


def machine() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {torch.get_num_threads()} torch threads, {gpu}, Python {platform.python_version()}"


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Fastest wall time of ``repeats`` calls (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb(code: str) -> float:
    """Peak resident memory (MiB) of a fresh Python process running ``code``."""
    wrapper = code + "\nimport resource, json; print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) / 1024


def ink_darkening(image: np.ndarray, source: np.ndarray, *, weak_only: bool = False) -> float:
    """Mean darkening of (H, W, 3) uint8 ``image`` on the pixels `toon` inks in ``source``
    (``vidstyle.styles.toon_ink``): ``1 - luma / local luma``, the local luma being the mean of
    the non-ink pixels within 4 px. A frame's over its `toon` reference's is the ink kept
    (1 = lines as dark as the reference's, 0 = no line). ``weak_only``: on the ink pixels Canny's
    hysteresis adds to the strong edges alone (the weak stretches of contours)."""
    from vidstyle.styles import toon_ink

    edges = toon_ink(source)
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    plain = (~edges).astype(np.float32)
    around = cv2.boxFilter(luma * plain, -1, (9, 9), normalize=False) / \
        np.maximum(cv2.boxFilter(plain, -1, (9, 9), normalize=False), 1)
    scored = edges & ~toon_ink(source, low=140, high=140) if weak_only else edges
    return float(np.mean(1 - luma[scored] / np.maximum(around[scored], 1)))


def require_footage() -> None:
    if not HACIENDA.exists():
        sys.exit(f"benchmark footage not found at {FOOTAGE} (see ../shared/footage/README.md)")


__all__ = ["FOOTAGE", "HACIENDA", "ROOT", "SNOWMOUNTAIN", "best_of", "ink_darkening", "machine", "peak_rss_mb",
           "require_footage", "resource"]
