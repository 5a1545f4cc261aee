"""Three bounded stages: a decode thread, the model on the calling thread, an encode thread.

Bounded queues keep memory flat however long the video is: the decoder can be
at most ``depth`` batches ahead of the model and the model ``depth`` batches
ahead of the encoder. Any failure (or Ctrl-C, which Python delivers to the
main thread, where the model runs) stops all three stages promptly and is
reported once, naming the stage and the time in the video.
"""

from __future__ import annotations

import enum
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar

from .._cpu import lower_thread_priority
from ..errors import StageError, VidstyleError
from ..progress import format_time

In = TypeVar("In")
Out = TypeVar("Out")

_POLL_S = 0.1
_END = object()
_NO_RESULT = object()  # the last batch number when the source ended on a batch boundary


class Stage(enum.Enum):
    DECODE = "decode"
    MODEL = "model"
    ENCODE = "encode"


class StageFailure(StageError):
    """A failure in one pipeline stage: ``stage``, ``video_time`` (seconds) and the cause."""

    def __init__(self, stage: Stage, video_time: float | None, cause: BaseException) -> None:
        self.stage, self.video_time, self.cause = stage, video_time, cause
        where = "at the start" if video_time is None else f"at {format_time(video_time)}"
        reason = str(cause) if isinstance(cause, VidstyleError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{stage.value} stage failed {where} of the video: {reason}")


@dataclass
class StageTimes:
    """Seconds each stage spent working (not waiting), for the shares report. With
    several model workers ``model`` is their mean, so its share stays within 100 %."""

    decode: float = 0.0
    model: float = 0.0
    encode: float = 0.0
    wall: float = 0.0

    def shares(self) -> dict[str, float]:
        total = self.wall or 1.0
        return {"decode": self.decode / total, "model": self.model / total, "encode": self.encode / total}


@dataclass
class _Shared:
    stop: threading.Event = field(default_factory=threading.Event)
    failure: StageFailure | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, failure: StageFailure) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = failure
        self.stop.set()


def _put(q: "queue.Queue[object]", item: object, shared: _Shared) -> bool:
    """Put unless the pipeline is stopping; False when it is."""
    while not shared.stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _get(q: "queue.Queue[object]", shared: _Shared) -> object:
    """Next item, or _END when the pipeline is stopping."""
    while not shared.stop.is_set():
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
    return _END


class Pipeline(Generic[In, Out]):
    """Run ``source`` -> ``process`` (batches) -> ``sink`` concurrently.

    Args:
        source: yields input items (iterated on the decode thread).
        process: maps a batch (list of up to ``batch`` items) to one output
            item; runs on the calling thread, and with ``workers`` > 1 on as
            many threads in all, each taking the next batch when it is free
            (so ``process`` must not depend on earlier batches).
        sink: consumes each output item, always in the source's order (on the
            encode thread).
        ordered: optional, applied to each ``process`` result in the source's
            order, on the model worker that produced it (the others go on with
            their batches meanwhile): for what carries state from one batch to
            the next, such as a temporal stage. Timed as model work.
        time_of: the video time (seconds) of an input item, for error messages.
        batch: items per ``process`` call.
        depth: batches that may wait between two stages.
        finish: called on the encode thread after the last item (e.g. to
            flush the encoder), timed as encoding and inside the wall time.
        io_nice: nice value of the decode and encode threads (0 = unchanged);
            see :func:`vidstyle._cpu.lower_thread_priority`.
        workers: threads running ``process``.
    """

    def __init__(self, source: Iterable[In], process: Callable[[list[In]], Out],
                 sink: Callable[[Out], None], *, time_of: Callable[[In], float],
                 out_time: Callable[[Out], float], batch: int = 1, depth: int = 2,
                 finish: Callable[[], None] | None = None, io_nice: int = 0, workers: int = 1,
                 ordered: Callable[[Any], Out] | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1 (got {workers})")
        self.source, self.process, self.sink, self.finish = source, process, sink, finish
        self.ordered = ordered
        self._turnstile = _Turnstile()
        self.io_nice = io_nice
        self.time_of, self.out_time = time_of, out_time
        self.batch, self.depth, self.workers = batch, depth, workers
        self.times = StageTimes()

    def run(self) -> StageTimes:
        shared = _Shared()
        decoded: queue.Queue[object] = queue.Queue(maxsize=self.batch * self.depth)
        processed: queue.Queue[object] = queue.Queue(maxsize=self.depth)
        # Batches taken by a model worker and not yet encoded: bounds what waits to be put
        # back in order when one worker is slower than the others.
        slots = threading.BoundedSemaphore(self.workers + self.depth)
        taker = _Taker(decoded, self.batch, shared)
        busy = [0.0] * self.workers
        threads = [threading.Thread(target=self._decode, args=(decoded, shared), name="vidstyle-decode",
                                    daemon=True),
                   threading.Thread(target=self._encode, args=(processed, slots, shared),
                                    name="vidstyle-encode", daemon=True)]
        threads += [threading.Thread(target=self._model, args=(taker, processed, slots, shared, busy, i),
                                     name=f"vidstyle-model-{i}", daemon=True) for i in range(1, self.workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            self._model(taker, processed, slots, shared, busy, 0)  # worker 0: where Ctrl-C arrives
        except BaseException:
            shared.stop.set()
            raise
        finally:
            for thread in threads:
                thread.join()
            self.times.wall = time.perf_counter() - started
            self.times.model = sum(busy) / self.workers
        if shared.failure is not None:
            raise shared.failure
        return self.times

    # -- stages ----------------------------------------------------------------
    def _decode(self, out: "queue.Queue[object]", shared: _Shared) -> None:
        lower_thread_priority(self.io_nice)
        last_time: float | None = None
        items: Iterator[In] = iter(self.source)
        try:
            while not shared.stop.is_set():
                began = time.perf_counter()
                item = next(items, _END)
                self.times.decode += time.perf_counter() - began
                if item is _END:
                    break
                last_time = self.time_of(item)  # type: ignore[arg-type]
                if not _put(out, item, shared):
                    return
            _put(out, _END, shared)
        except BaseException as err:  # noqa: BLE001 - reported on the main thread
            shared.fail(StageFailure(Stage.DECODE, last_time, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # release the container now, not at garbage collection

    def _model(self, taker: "_Taker", out: "queue.Queue[object]", slots: threading.BoundedSemaphore,
               shared: _Shared, busy: list[float], worker: int) -> None:
        """One model worker: take the next batch, process it, pass it on with its number."""
        while not shared.stop.is_set():
            if not slots.acquire(timeout=_POLL_S):
                continue
            taken = taker.take()
            if taken is None:  # another worker took the end, or the pipeline is stopping
                slots.release()
                return
            number, batch, last = taken
            result: object = _NO_RESULT
            if batch:
                began = time.perf_counter()
                try:
                    result = self.process(batch)
                    if self.ordered is not None:
                        if not self._turnstile.wait_for(number, shared):
                            return
                        try:
                            result = self.ordered(result)
                        finally:
                            self._turnstile.done()
                except BaseException as err:  # noqa: BLE001
                    if worker == 0 and isinstance(err, (KeyboardInterrupt, SystemExit)):
                        raise
                    shared.fail(StageFailure(Stage.MODEL, self.time_of(batch[0]), err))
                    return
                busy[worker] += time.perf_counter() - began
            elif self.ordered is not None:  # the end marker: keep the turns counting
                if not self._turnstile.wait_for(number, shared):
                    return
                self._turnstile.done()
            if not _put(out, (number, result, last), shared) or last:
                return

    def _encode(self, inp: "queue.Queue[object]", slots: threading.BoundedSemaphore, shared: _Shared) -> None:
        lower_thread_priority(self.io_nice)
        waiting: dict[int, tuple[object, bool]] = {}  # finished out of order, by batch number
        following = 0
        item: object = None
        try:
            while True:
                got = _get(inp, shared)
                if got is _END:
                    return  # stopping
                number, result, last = got  # type: ignore[misc]
                waiting[number] = (result, last)
                while following in waiting:
                    item, last = waiting.pop(following)
                    following += 1
                    if item is not _NO_RESULT:
                        began = time.perf_counter()
                        self.sink(item)  # type: ignore[arg-type]
                        self.times.encode += time.perf_counter() - began
                    slots.release()
                    if last:
                        if self.finish is not None and not shared.stop.is_set():
                            item = None
                            began = time.perf_counter()
                            self.finish()
                            self.times.encode += time.perf_counter() - began
                        return
        except BaseException as err:  # noqa: BLE001
            when = None if item is None or item is _NO_RESULT else self.out_time(item)  # type: ignore[arg-type]
            shared.fail(StageFailure(Stage.ENCODE, when, err))


class _Turnstile:
    """Lets numbered jobs through one at a time, in number order."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next = 0

    def wait_for(self, number: int, shared: _Shared) -> bool:
        """Block until it is ``number``'s turn; False if the pipeline stops first."""
        with self._turn:
            while self._next != number:
                if shared.stop.is_set():
                    return False
                self._turn.wait(timeout=_POLL_S)
        return True

    def done(self) -> None:
        with self._turn:
            self._next += 1
            self._turn.notify_all()


class _Taker:
    """Hands out numbered batches from the decode queue to the model workers, one
    worker at a time, so each batch is a run of consecutive items."""

    def __init__(self, inp: "queue.Queue[object]", size: int, shared: _Shared) -> None:
        self.inp, self.size, self.shared = inp, size, shared
        self.lock = threading.Lock()
        self.taken = 0
        self.ended = False

    def take(self) -> tuple[int, list, bool] | None:
        """(number, items, is_last), or None once the last batch was taken or
        the pipeline stops. The last batch may be empty (it only marks the end)."""
        with self.lock:
            if self.ended:
                return None
            batch: list[object] = []
            while len(batch) < self.size:
                item = _get(self.inp, self.shared)
                if item is _END:
                    if self.shared.stop.is_set():
                        return None
                    self.ended = True
                    break
                batch.append(item)
            self.taken += 1
            return self.taken - 1, batch, self.ended


def run_sequential(source: Iterable[In], process: Callable[[list[In]], Out],
                   sink: Callable[[Out], None], *, batch: int = 1,
                   finish: Callable[[], None] | None = None) -> StageTimes:
    """The same work without threads (a baseline for benchmarks)."""
    times = StageTimes()
    started = time.perf_counter()
    items = iter(source)
    pending: list[In] = []
    while True:
        began = time.perf_counter()
        item = next(items, _END)
        times.decode += time.perf_counter() - began
        if item is not _END:
            pending.append(item)  # type: ignore[arg-type]
        if pending and (len(pending) == batch or item is _END):
            began = time.perf_counter()
            result = process(pending)
            times.model += time.perf_counter() - began
            began = time.perf_counter()
            sink(result)
            times.encode += time.perf_counter() - began
            pending = []
        if item is _END:
            break
    if finish is not None:
        began = time.perf_counter()
        finish()
        times.encode += time.perf_counter() - began
    times.wall = time.perf_counter() - started
    return times


__all__: Sequence[str] = ["Pipeline", "Stage", "StageFailure", "StageTimes", "run_sequential"]
