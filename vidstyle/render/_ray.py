"""``vidstyle render --ray``: one recording rendered in chunks on Ray actors and joined,
or many recordings as one Ray task each. Ray is imported only here, only when called.

Chunks start at source keyframes (or shot cuts); each actor loads the model once and
renders chunks with :func:`~vidstyle.render.render` (frame range, warm-up frames for
the temporal stage, source timestamps, no audio) and sends the encoded bytes back
through Ray's object store, so workers need the source and the model (shared
storage) but not the output folder. The driver joins the chunks' packets and copies
the audio once (:func:`~vidstyle.io.join_videos`). A chunk whose worker dies is
retried by Ray on the restarted actor.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import StageError, UsageError, VidstyleError
from ..io import CONTAINER_FORMATS, check_output, join_videos, probe
from ..progress import info, progress
from ._chunks import DEFAULT_WARMUP, Chunk, ChunkRenderer, ChunkResult, FileResult, plan_chunks, render_file
from ._chunks import source_keyframes
from ._render import RenderOptions, check_temporal_options

_RETRIES = 3  # restarts of a dead actor, and retries of its chunk, before the render fails
_CONNECT_TIMEOUT_S = 5.0
_CHUNKS_PER_WORKER = 4  # enough chunks that a slow worker does not hold up the end
_MAX_CHUNK_SECONDS = 60.0
# Workers that have not loaded the model by then are an error, not a wait for ever (a node without
# the extra, a cluster whose CPUs are all taken).
_START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class RayRenderResult:
    """A Ray render: the output, frames, the chunks and per-chunk results (timings), the
    workers, and wall seconds in all, for connecting to (or starting) Ray, for starting the
    actors (each loading the model), and for the join."""

    output: Path
    frames: int
    chunks: list[Chunk]
    results: list[ChunkResult]
    workers: int
    wall: float
    connect_seconds: float
    actors_seconds: float
    join_seconds: float


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError("use_ray needs Ray: pip install 'vidstyle[ray]'", params=("use_ray",)) from None
    return ray


def connect(address: str | None) -> tuple[Any, bool]:
    """(ray, whether we started it): an existing connection, the cluster at ``address``, or a
    local instance. An address that does not answer is a one-line error within seconds."""
    if importlib.util.find_spec("ray") is None:
        import_ray()  # the error
    if address and address != "auto" and "ray" not in sys.modules:
        _check_reachable(address)  # before the 2-second import of Ray
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    try:
        ray.init(address=address or None, logging_level=logging.ERROR, log_to_driver=False,
                 configure_logging=True, include_dashboard=False)
    except Exception as err:  # noqa: BLE001 - Ray raises bare Exceptions too (a raylet start timeout)
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise VidstyleError(f"cannot connect to {where}: "
                            f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    return ray, True


def _check_reachable(address: str) -> None:
    """A TCP connection to ``host:port`` (``ray://`` client addresses too), or a one-line error:
    ray.init would otherwise retry for a minute."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=_CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot reach the Ray cluster at {address} ({getattr(err, 'strerror', None) or err}); "
                         "start it with 'ray start --head' or check the address") from None


def _worker_plan(ray: Any, workers: int | None, options: RenderOptions) -> tuple[int, dict[str, float], RenderOptions]:
    """(actors, resources per actor, render options per actor): one GPU each where the
    cluster has GPUs, else one CPU each with one torch thread."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return workers or gpus, {"num_gpus": 1}, options
    count = workers or max(1, int(resources.get("CPU", 1)))
    return count, {"num_cpus": 1}, replace(options, threads=options.threads or 1, workers=options.workers or 1)


def render_on_ray(source: str | Path, model: str | Path, output: str | Path, options: RenderOptions | None = None,
                  *, address: str | None = None, workers: int | None = None, chunk_frames: int | None = None,
                  warmup: int = DEFAULT_WARMUP, on_submit: Callable[[Any, Chunk], None] | None = None,
                  **overrides: Any) -> RayRenderResult:
    """Render ``source`` with the model file ``model`` into the video file ``output`` on Ray.

    ``workers`` actors (default: one per GPU of the cluster, else one per CPU) each load
    the model once; ``chunk_frames`` (default: about four chunks per worker, at most a
    minute each) is snapped to source keyframes or ``options.cuts``. ``on_submit(actor,
    chunk)`` is called as each chunk is handed out (tests use it to kill an actor).
    """
    options = replace(options or RenderOptions(), **overrides)
    check_temporal_options(options)
    started = time.perf_counter()
    source, model = Path(source).resolve(), Path(model)
    output = check_output(output, [source] + ([model] if model.exists() else []), options.overwrite)
    if output.suffix.lower() not in CONTAINER_FORMATS:
        raise UsageError("use_ray writes video files (.mp4, .mkv, ...), not PNG folders or images", output,
                         params=("use_ray",))
    if options.start is not None or options.end is not None or options.frame_range is not None:
        raise UsageError("use_ray renders whole recordings (no start, end or frame_range); trim first with "
                         "'vidstyle convert'",
                         params=("use_ray", "start", "end"))
    if options.guides is not None:
        raise UsageError("use_ray does not take guides folders (each worker would need them)",
                         params=("use_ray", "guides"))
    frames, keyframes = source_keyframes(source)
    if frames == 0:
        raise UsageError("no frames to render", source)
    ray, started_ray = connect(address)
    connect_seconds = time.perf_counter() - started
    actors: list[Any] = []
    parts_dir = Path(tempfile.mkdtemp(prefix=f".{output.name}.chunks-", dir=output.parent))
    try:
        count, resources, worker_options = _worker_plan(ray, workers, options)
        info_ = probe(source)
        rate = info_.nominal_fps or info_.average_fps or 30.0
        target = chunk_frames or max(1, min(round(_MAX_CHUNK_SECONDS * rate),
                                            -(-frames // (count * _CHUNKS_PER_WORKER))))
        chunks = plan_chunks(frames, keyframes, chunk_frames=target, cuts=options.cuts, warmup=warmup)
        count = min(count, len(chunks))
        actor_class = ray.remote(max_restarts=_RETRIES, max_task_retries=_RETRIES, **resources)(ChunkRenderer)
        actors_started = time.perf_counter()
        actors = [actor_class.remote(str(model if model.is_absolute() else model.resolve()), worker_options)
                  for _ in range(count)]
        try:
            reasons = ray.get([a.ready.remote() for a in actors], timeout=_START_TIMEOUT_SECONDS)
        except ray.exceptions.RayError as err:
            raise VidstyleError(f"a Ray worker could not start within {_START_TIMEOUT_SECONDS:g} s "
                                f"({type(err).__name__}); is the same vidstyle with the ray extra installed on "
                                "every node, and a CPU (or GPU) free for each worker?") from None
        for why in reasons:
            if why is not None:
                raise UsageError(why)
        actors_seconds = time.perf_counter() - actors_started
        info(f"rendering {frames} frames in {len(chunks)} chunk(s) on {count} Ray worker(s) "
             f"({'1 GPU' if 'num_gpus' in resources else '1 CPU'} each); warm-up {warmup} frame(s) per chunk")
        results = _run_chunks(ray, actors, chunks, str(source), output.suffix, parts_dir, on_submit)
        join_started = time.perf_counter()
        has_audio = options.audio and bool(info_.audio)
        join_videos([parts_dir / f"{c.index:05d}{output.suffix}" for c in chunks], output,
                    audio_from=source if has_audio else None, overwrite=options.overwrite)
        join_seconds = time.perf_counter() - join_started
    finally:
        for actor in actors:
            ray.kill(actor)
        shutil.rmtree(parts_dir, ignore_errors=True)
        if started_ray:
            ray.shutdown()
    return RayRenderResult(output=output, frames=sum(r.frames for r in results), chunks=chunks, results=results,
                           workers=count, wall=time.perf_counter() - started, connect_seconds=connect_seconds,
                           actors_seconds=actors_seconds, join_seconds=join_seconds)


def _run_chunks(ray: Any, actors: list[Any], chunks: list[Chunk], source: str, suffix: str, parts_dir: Path,
                on_submit: Callable[[Any, Chunk], None] | None) -> list[ChunkResult]:
    """Hand chunks to idle actors until all are back; each part is written to ``parts_dir``."""
    pending = list(reversed(chunks))
    running: dict[Any, tuple[Any, Chunk]] = {}
    idle = list(actors)
    results: list[ChunkResult] = []
    with progress(sum(c.frames for c in chunks), "render (ray)") as bar:
        while pending or running:
            while pending and idle:
                actor, chunk = idle.pop(), pending.pop()
                running[actor.render.remote(source, chunk, suffix)] = (actor, chunk)
                if on_submit is not None:
                    on_submit(actor, chunk)
            done, _ = ray.wait(list(running), num_returns=1)
            actor, chunk = running.pop(done[0])
            result = _chunk_result(ray, done[0], chunk, source)
            (parts_dir / f"{chunk.index:05d}{suffix}").write_bytes(result.data)
            result.data = b""
            results.append(result)
            idle.append(actor)
            bar.update(result.frames)
    return sorted(results, key=lambda r: r.index)


def _chunk_result(ray: Any, ref: Any, chunk: Chunk, source: str) -> ChunkResult:
    where = f"chunk {chunk.index} (frames {chunk.first}-{chunk.last - 1})"
    try:
        result: ChunkResult = ray.get(ref)
    except ray.exceptions.RayActorError as err:
        raise StageError(f"{source}: the Ray worker rendering {where} died {_RETRIES + 1} times "
                         f"({type(err).__name__})") from None
    except ray.exceptions.RayError as err:
        cause = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise StageError(f"{source}: {where} failed on Ray: {cause}") from None
    if result.error is not None:
        raise VidstyleError(f"{where}: {result.error}")
    if result.frames != chunk.frames:
        raise StageError(f"{source}: {where} decoded {result.frames} of {chunk.frames} frames on Ray worker "
                         f"node {result.node}; the file is damaged there or differs between machines")
    return result


def render_many(sources: Sequence[str | Path], model: str | Path, folder: str | Path,
                options: RenderOptions | None = None, *, ray_address: str | None = None, use_ray: bool = False,
                **overrides: Any) -> list[FileResult]:
    """Render each of ``sources`` into ``folder/NAME.mp4`` (``.mkv`` etc. kept from the source's
    suffix when it is a video container): one Ray task per file with ``use_ray``, else one after
    the other here. A file that fails is reported in its result and does not stop the others."""
    options = replace(options or RenderOptions(), **overrides)
    check_temporal_options(options)
    folder = Path(folder)
    if folder.suffix.lower() in CONTAINER_FORMATS:
        raise UsageError("several inputs render into a folder: give -o DIR", folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [Path(s).stem + (Path(s).suffix.lower() if Path(s).suffix.lower() in CONTAINER_FORMATS else ".mp4")
             for s in sources]
    if len(set(names)) != len(names):
        raise UsageError("two inputs have the same name; their outputs would collide", folder)
    jobs = [(str(Path(s).resolve()), str(Path(model).resolve()), str(folder / n)) for s, n in zip(sources, names)]
    if not use_ray:
        return [render_file(*job, options) for job in jobs]
    ray, started_ray = connect(ray_address)
    try:
        resources = {"num_gpus": 1} if ray.cluster_resources().get("GPU") else {"num_cpus": 1}
        task = ray.remote(max_retries=_RETRIES, **resources)(render_file)
        refs = [task.remote(*job, options, True) for job in jobs]
        results = []
        for job, ref in zip(jobs, refs):
            try:
                results.append(ray.get(ref))
            except ray.exceptions.RayError as err:
                results.append(FileResult(Path(job[0]), Path(job[2]), error=f"failed on Ray: {type(err).__name__}"))
        return results
    finally:
        if started_ray:
            ray.shutdown()
