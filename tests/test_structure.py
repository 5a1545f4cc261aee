"""The code's own structure: shared helpers, the package layers, lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidstyle._shapes import check_shape
from vidstyle.flow import validity_mask, warp, warp_numpy

REPO = Path(__file__).resolve().parents[1]
INSTALL = "both come with the test extra: pip install -e '.[test]'"


def test_check_shape_names_the_array_and_binds_sizes_across_arrays():
    assert check_shape(np.zeros((4, 5, 2)), "H, W, 2", "flow") == {"H": 4, "W": 5}
    with pytest.raises(ValueError, match=r"^flow must be \(H, W, 2\), got \(4, 5\)$"):
        check_shape(np.zeros((4, 5)), "H, W, 2", "flow")
    with pytest.raises(ValueError, match=r"^frame must be \(H, W, 3\) uint8, got \(4, 5, 3\) float32$"):
        check_shape(np.zeros((4, 5, 3), np.float32), "H, W, 3", "frame", dtype=np.uint8)
    assert check_shape(np.zeros((4, 5, 4), np.uint8), "H, W, 3|4", "painted") == {"H": 4, "W": 5}
    with pytest.raises(ValueError, match=r"must be \(B, C, H, W\), got \(1, 2, 3\)"):
        check_shape(torch.zeros(1, 2, 3), "B, C, H, W", "image")
    # the places that used to write the check out by hand now give the same message
    with pytest.raises(ValueError, match=r"flow must be \(4, 5, 2\), got \(4, 6, 2\)"):
        warp_numpy(np.zeros((4, 5), np.float32), np.zeros((4, 6, 2), np.float32))
    with pytest.raises(ValueError, match=r"backward flow must be \(4, 5, 2\), got \(4, 6, 2\)"):
        validity_mask(np.zeros((4, 5, 2), np.float32), np.zeros((4, 6, 2), np.float32))
    with pytest.raises(ValueError, match=r"flow must be \(2, 2, 4, 5\), got \(1, 2, 4, 5\)"):
        warp(torch.zeros(2, 3, 4, 5), torch.zeros(1, 2, 4, 5))


def test_stages_import_only_the_stages_below_them(capsys):
    """The import-linter contracts in pyproject.toml (the layers the README lists)."""
    try:
        from importlinter.cli import lint_imports
    except ImportError:
        pytest.fail(f"import-linter is not installed; {INSTALL}")
    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0 and "0 broken" in report, report


def test_ruff_finds_nothing():
    """ruff with the rule set in pyproject.toml, over the package, the tests and the benchmarks."""
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.fail(f"ruff is not installed; {INSTALL}")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "vidstyle", "tests", "bench"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
