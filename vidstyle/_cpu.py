"""How many CPU threads to use: one answer for flow, training and rendering."""

from __future__ import annotations

import os

MAX_TORCH_THREADS = 8


def available_cores() -> int:
    """Cores this process may run on (affinity-aware: containers and taskset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def idle_cores(limit: int = MAX_TORCH_THREADS) -> int:
    """Available cores that are idle now (by the 1-minute load average), 1 to ``limit``.

    Oversubscribing is far worse than leaving a core idle: on the shared 2-core
    development machine, 2 torch threads next to 2 busy processes ran a training
    step 6x and a render 3x slower than 1 thread; on the idle machine 2 threads
    rendered 1.45x faster than 1.
    """
    cores = available_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(limit, cores, int(cores - busy + 0.5)))
