"""Time `vidstyle demo` end to end, then the two cached reruns the issue promises.

One run, three measurements side by side (the machine is shared and noisy):
  1. the demo from a cold cache (budget: 300 s on 2 CPU cores),
  2. the same recipe again (everything cached except the report),
  3. a render setting changed (render and what follows it; no training),
with each step's time, and the ratios 1/budget, 2/1 and 3/1.

    PYTHONPATH=$PWD python3 bench/bench_demo.py [-o /tmp/bench-demo] [--set train.minutes=1.5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, help="demo folder (default: a temporary one)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe overrides for all three runs")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()

    from vidstyle.pipeline import run_demo
    from vidstyle.progress import set_quiet

    set_quiet(True)
    output = args.output or Path(tempfile.mkdtemp(prefix="bench-demo-"))
    if output.exists():
        shutil.rmtree(output)
    load_before = os.getloadavg()
    runs = {}
    for label, extra in (("cold", []), ("rerun", []), ("render change", ["render.crf=23"])):
        started = time.perf_counter()
        result = run_demo(output, overrides=[*args.overrides, *extra], overwrite=True)
        runs[label] = (time.perf_counter() - started, result)
    load_after = os.getloadavg()

    from _common import machine

    cold_seconds, cold = runs["cold"]
    print(f"machine: {os.cpu_count()} CPU cores, {machine()}; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'step':<10} {'cold (s)':>9} {'rerun (s)':>10} {'render change (s)':>18}")
    for record in cold.records:
        cells = []
        for label in ("rerun", "render change"):
            other = runs[label][1].record(record.name)
            cells.append("cached" if other.cached else f"{other.seconds:.1f}")
        print(f"{record.name:<10} {record.seconds:>9.1f} {cells[0]:>10} {cells[1]:>18}")
    for label, (seconds, result) in runs.items():
        print(f"{label:<14} total {seconds:7.1f} s  computed: {', '.join(result.computed)}")
    rerun, change = runs["rerun"][0], runs["render change"][0]
    print(f"ratios: cold / {BUDGET_SECONDS:.0f} s budget = {cold_seconds / BUDGET_SECONDS:.2f}; "
          f"rerun / cold = {rerun / cold_seconds:.3f}; render change / cold = {change / cold_seconds:.3f}")
    print(f"outputs: {', '.join(sorted(str(p.name) for p in cold.outputs.values()))} in {output}")
    if not args.keep and args.output is None:
        shutil.rmtree(output, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
