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
from typing import Callable, Generic, Iterable, Iterator, Sequence, TypeVar

from .._cpu import lower_thread_priority
from ..errors import StageError, VidstyleError

In = TypeVar("In")
Out = TypeVar("Out")

_POLL_S = 0.1
_END = object()


class Stage(enum.Enum):
    DECODE = "decode"
    MODEL = "model"
    ENCODE = "encode"


class StageFailure(StageError):
    """A failure in one pipeline stage: ``stage``, ``video_time`` (seconds) and the cause."""

    def __init__(self, stage: Stage, video_time: float | None, cause: BaseException) -> None:
        self.stage, self.video_time = stage, video_time
        where = "at the start" if video_time is None else f"at {format_time(video_time)}"
        reason = str(cause) if isinstance(cause, VidstyleError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{stage.value} stage failed {where} of the video: {reason}")


def format_time(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:06.3f}" if hours else f"{minutes}:{secs:06.3f}"


@dataclass
class StageTimes:
    """Seconds each stage spent working (not waiting), for the shares report."""

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
            item; runs on the calling thread.
        sink: consumes each output item (on the encode thread).
        time_of: the video time (seconds) of an input item, for error messages.
        batch: items per ``process`` call.
        depth: batches that may wait between two stages.
        finish: called on the encode thread after the last item (e.g. to
            flush the encoder), timed as encoding and inside the wall time.
        io_nice: nice value of the decode and encode threads (0 = unchanged);
            see :func:`vidstyle._cpu.lower_thread_priority`.
    """

    def __init__(self, source: Iterable[In], process: Callable[[list[In]], Out],
                 sink: Callable[[Out], None], *, time_of: Callable[[In], float],
                 out_time: Callable[[Out], float], batch: int = 1, depth: int = 2,
                 finish: Callable[[], None] | None = None, io_nice: int = 0) -> None:
        self.source, self.process, self.sink, self.finish = source, process, sink, finish
        self.io_nice = io_nice
        self.time_of, self.out_time = time_of, out_time
        self.batch, self.depth = batch, depth
        self.times = StageTimes()

    def run(self) -> StageTimes:
        shared = _Shared()
        decoded: queue.Queue[object] = queue.Queue(maxsize=self.batch * self.depth)
        processed: queue.Queue[object] = queue.Queue(maxsize=self.depth)
        threads = [threading.Thread(target=self._decode, args=(decoded, shared), name="vidstyle-decode",
                                    daemon=True),
                   threading.Thread(target=self._encode, args=(processed, shared), name="vidstyle-encode",
                                    daemon=True)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            self._model(decoded, processed, shared)
        except BaseException:
            shared.stop.set()
            raise
        finally:
            for thread in threads:
                thread.join()
            self.times.wall = time.perf_counter() - started
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

    def _model(self, inp: "queue.Queue[object]", out: "queue.Queue[object]", shared: _Shared) -> None:
        finished = False
        while not finished and not shared.stop.is_set():
            batch: list[In] = []
            while len(batch) < self.batch:
                item = _get(inp, shared)
                if item is _END:
                    finished = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            if not batch:
                break
            began = time.perf_counter()
            try:
                result = self.process(batch)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as err:  # noqa: BLE001
                shared.fail(StageFailure(Stage.MODEL, self.time_of(batch[0]), err))
                return
            self.times.model += time.perf_counter() - began
            if not _put(out, result, shared):
                return
        _put(out, _END, shared)

    def _encode(self, inp: "queue.Queue[object]", shared: _Shared) -> None:
        lower_thread_priority(self.io_nice)
        item: object = None
        try:
            while True:
                item = _get(inp, shared)
                if item is _END:
                    if self.finish is not None and not shared.stop.is_set():
                        began = time.perf_counter()
                        self.finish()
                        self.times.encode += time.perf_counter() - began
                    return
                began = time.perf_counter()
                self.sink(item)  # type: ignore[arg-type]
                self.times.encode += time.perf_counter() - began
        except BaseException as err:  # noqa: BLE001
            when = None if item is None or item is _END else self.out_time(item)  # type: ignore[arg-type]
            shared.fail(StageFailure(Stage.ENCODE, when, err))


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


__all__: Sequence[str] = ["Pipeline", "Stage", "StageFailure", "StageTimes", "format_time", "run_sequential"]
