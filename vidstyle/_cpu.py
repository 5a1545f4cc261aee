"""How many CPU threads to use (one answer for flow, training and rendering), at what priority,
whether the CPU computes bf16 natively, how much memory is free, and running jobs on a pool in order."""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

R = TypeVar("R")

MAX_TORCH_THREADS = 8


def available_cores() -> int:
    """Cores this process may run on (affinity-aware: containers and taskset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _busy_cores(window: float = 0.25) -> float:
    """Cores' worth of CPU other processes use right now, from two /proc/stat
    samples (the load average lags by a minute and counts our own last job)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(window)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0
    if total1 <= total0:
        return 0.0
    return (os.cpu_count() or 1) * (1.0 - (idle1 - idle0) / (total1 - total0))


def idle_cores(limit: int = MAX_TORCH_THREADS) -> int:
    """Available cores that are idle now, 1 to ``limit``.

    Oversubscribing is far worse than leaving a core idle: on the shared 2-core
    development machine, 2 torch threads next to 2 busy processes ran a training
    step 6x and a render 3x slower than 1 thread; on the idle machine 2 threads
    rendered 1.45x faster than 1.
    """
    cores = available_cores()
    return max(1, min(limit, cores, int(cores - _busy_cores() + 0.5)))


def lower_thread_priority(nice: int) -> bool:
    """Give the calling thread (and the threads it starts) nice ``nice`` unless
    it is already lower in priority, so it runs mostly in the gaps the process's
    other threads leave. Linux only (nice is per thread there); elsewhere, or
    when refused, does nothing and returns False."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < nice:
            os.setpriority(os.PRIO_PROCESS, thread, nice)
    except OSError:
        return False
    return True


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU does bf16 arithmetic in hardware (AMX tiles or
    AVX512-BF16) and PyTorch's oneDNN uses it; False wherever unsure.

    oneDNN also runs bf16 on plain AVX512 by emulation (``_is_mkldnn_bf16_supported``
    is True there), not expected to beat fp32, so that alone does not count.
    Measured on AMX (Sapphire Rapids, 2 threads, 640x480): the ``fast`` generator
    in bf16 channels_last 4x faster than fp32 contiguous and 2.5x faster than fp32
    channels_last (docs/BENCHMARKS.md); AVX512-BF16 alone was not available to measure.
    """
    import torch  # here: the rest of this module is used where torch is not needed

    try:
        if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except (AttributeError, RuntimeError):  # private probes: absent from other builds and versions
        return False


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def in_order(pool: ThreadPoolExecutor, jobs: Iterable[Callable[[], R]], *, ahead: int) -> Iterator[R]:
    """The results of ``jobs`` run on ``pool``, in order. At most ``ahead`` more jobs are
    submitted than have been awaited: ``jobs`` is drawn from (decoded, advected) meanwhile,
    and the inputs held stay bounded."""
    pending: deque[Future[R]] = deque()
    for job in jobs:
        pending.append(pool.submit(job))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
