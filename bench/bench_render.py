"""Renderer benchmark: pipelined vs model-only vs sequential vs a plain loop, flat memory, GPU 1080p.

Everything compared is measured side by side in one run (the dev machine is shared
and noisy), alternating the variants when ``--repeats`` > 1 and keeping each best.

    python3 bench/bench_render.py throughput                  # 640x480 footage, CPU
    python3 bench/bench_render.py formats --arch texler       # model precision x memory format, CPU
    python3 bench/bench_render.py plans                       # CPU thread plans for the pipelined render
    python3 bench/bench_render.py workers                     # 1 vs 2 CPU model workers, x264 presets
    python3 bench/bench_render.py presets                     # x264 presets: CPU, size, PSNR vs source
    python3 bench/bench_render.py throughput --device cuda --size 1920x1080 --codec h264_nvenc
    python3 bench/bench_render.py memory                      # 1-min vs 10-min generated input
    python3 bench/bench_render.py stabilize                   # flicker with and without --stabilize

Models have random weights of the chosen architecture (speed does not depend on
the weights); ``--model FILE`` benchmarks a real checkpoint instead.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import HACIENDA, machine, peak_rss_mb  # noqa: E402
from vidstyle.io import Codec, VideoWriter, open_video, parse_size, probe, transcode  # noqa: E402
from vidstyle.io import DEFAULT_CRF  # noqa: E402 - the renderer's encoder defaults
from vidstyle.models import DEFAULT_ARCH, ModelConfig, Stylizer, load_stylizer  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.render import ModelRunner, Numerics, Pipeline, default_preset, render, resolve_runtime  # noqa: E402


def default_arch() -> str:
    """The trainer's default generator design."""
    return DEFAULT_ARCH


def build_model(args: argparse.Namespace, spread: bool = False) -> Stylizer:
    """The model to measure. ``spread``: random fast_neural_style weights give
    near-black frames; rescale its last layer so outputs span [0, 1] (a
    stand-in "style" whose flicker can be measured; speed is unaffected)."""
    if args.model:
        return load_stylizer(args.model)
    torch.manual_seed(0)
    model = Stylizer(ModelConfig(args.arch or default_arch())).eval()
    if spread and model.config.arch == "fast_neural_style":
        with torch.no_grad():
            model.net.deconv3.conv2d.weight.mul_(150)
            model.net.deconv3.conv2d.bias.fill_(128)
    return model


# -- throughput ---------------------------------------------------------------------------
def model_only_fps(runner: ModelRunner, frames: list[np.ndarray], workers: int = 1) -> float:
    """The renderer's model (same preparation: :class:`ModelRunner`) on frames
    already decoded, uploaded and in its memory format, run by ``workers`` model
    workers as the render runs them (:class:`Pipeline` with nothing to decode or
    encode), each with the process's current torch threads."""
    plan = runner.plan
    batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255)
    batch = batch.to(plan.device).contiguous(memory_format=runner.memory_format)
    batches = [batch[i:i + plan.batch] for i in range(0, len(frames), plan.batch)]

    @torch.inference_mode()  # per thread, as in FrameProcessor
    def process(items: list[torch.Tensor]) -> torch.Tensor:
        return runner(items[0])

    process(batches[:1])  # warm-up (first-call fallbacks, cudnn autotune, allocator)
    if plan.is_cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    Pipeline(batches, process, lambda _: None, time_of=lambda _: 0.0, out_time=lambda _: 0.0,
             workers=workers).run()
    if plan.is_cuda:
        torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - started)


def plain_loop(source: Path, output: Path, model: Stylizer, count: int, device: torch.device,
               crf: int, preset: str) -> tuple[float, dict[str, float]]:
    """The loop a user would write: PyAV decode -> ``to_ndarray`` -> the fp32
    model frame by frame in PyTorch's default (contiguous) format -> PyAV
    libx264 at the same CRF and preset, codec threads left to FFmpeg, no audio.
    Returns fps over the whole run (opening to closing) and the busy shares."""
    model = copy.deepcopy(model).to(device).eval()  # untouched by the renderer's preparation
    busy = {"decode": 0.0, "model": 0.0, "encode": 0.0}
    started = time.perf_counter()
    with av.open(str(source)) as inp, av.open(str(output), "w") as out:
        decoded = inp.decode(video=0)
        stream = out.add_stream("libx264", rate=inp.streams.video[0].average_rate)
        stream.width, stream.height = inp.streams.video[0].width, inp.streams.video[0].height
        stream.pix_fmt, stream.options = "yuv420p", {"crf": str(crf), "preset": preset}
        for _ in range(count):
            began = time.perf_counter()
            rgb = next(decoded).to_ndarray(format="rgb24")
            mid = time.perf_counter()
            with torch.no_grad():
                x = torch.from_numpy(rgb).to(device).permute(2, 0, 1)[None].float() / 255
                y = model(x)[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
            end = time.perf_counter()
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(y), format="rgb24")))
            busy["decode"] += mid - began
            busy["model"] += end - mid
            busy["encode"] += time.perf_counter() - end
        began = time.perf_counter()
        out.mux(stream.encode(None))
        busy["encode"] += time.perf_counter() - began
    wall = time.perf_counter() - started
    return count / wall, {k: v / wall for k, v in busy.items()}


def throughput(args: argparse.Namespace) -> None:
    source = Path(args.input)
    workdir = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    if args.size:  # e.g. 1080p from the 720p footage, for the GPU figure
        size = parse_size(args.size)
        print(f"scaling {source.name} to {size[0]}x{size[1]} (lossless) ...")
        scaled = workdir / f"input_{size[0]}x{size[1]}.mkv"
        transcode(source, scaled, size=size, codec=None, crf=0, preset="ultrafast")
        source = scaled
    info = probe(source)
    fps = info.nominal_fps or 20.0
    # x264 (medium) holds ~40 frames back for its lookahead and encodes them after the model is
    # done, so a short clip measures that tail more than the steady state.
    end = ((args.frames or 120) - 0.5) / fps
    model = build_model(args)
    with open_video(source, end=end) as reader:
        frames = [frame.rgb for frame in reader]
    plan = resolve_runtime(args.device, args.precision, batch=args.batch, threads=args.threads, model=model,
                           workers=args.workers, independent_frames=not args.compile)
    torch.set_num_threads(plan.torch_threads)
    runner = ModelRunner(model, plan, compile_model=args.compile)
    crf = DEFAULT_CRF if args.crf is None else args.crf
    preset = args.preset or default_preset(args.codec or Codec.H264, plan)  # the renderer's default
    print(f"{source.name}: {info.width}x{info.height}, {len(frames)} frames, arch {model.config.arch}, "
          f"{plan.device} {runner.describe()}, batch {plan.batch}, {plan.torch_threads} torch thread(s) in "
          f"{plan.model_workers} model worker(s), codec threads {plan.decode_threads}/{plan.encode_threads}, "
          f"crf {crf} {preset}; {machine()}")
    # Every variant gets the same torch threads (resolved once: the idle-core sample varies).
    common = dict(device=args.device, precision=args.precision, batch=args.batch, threads=plan.torch_threads,
                  workers=plan.model_workers, codec=args.codec, crf=crf, preset=preset, end=end, overwrite=True,
                  compile=args.compile)
    # Model only in both ways of using the threads (one worker with all, or one worker per
    # thread); the better one is the baseline, whichever the render uses.
    splits = [1] + ([plan.torch_threads] if not plan.is_cuda and plan.torch_threads > 1 and not args.compile
                    else [])
    best: dict[str, float] = {}
    shares: dict[str, dict[str, float]] = {}

    def keep(name: str, value: float, busy: dict[str, float] | None = None) -> None:
        if value > best.get(name, 0.0):
            best[name] = value
            if busy is not None:
                shares[name] = busy

    for _ in range(args.repeats):  # alternate the variants: the machine's load drifts
        for workers in splits:
            torch.set_num_threads(plan.torch_threads // workers)
            keep(f"model only {workers}", model_only_fps(runner, frames, workers))
        torch.set_num_threads(plan.torch_threads)
        keep("plain loop", *plain_loop(source, workdir / "plain.mp4", model, len(frames), plan.device, crf, preset))
        for name, sequential in (("sequential", True), ("pipelined", False)):
            started = time.perf_counter()  # from the call: opening, model preparation, flushing included
            result = render(source, model, workdir / f"{name}.mp4", sequential=sequential, **common)
            if result.frames != len(frames):
                raise SystemExit(f"{name} rendered {result.frames} frames, expected {len(frames)}")
            keep(name, result.frames / (time.perf_counter() - started), result.times.shares())
    labels = {f"model only {w}": f"model only, {w} worker(s) x {plan.torch_threads // w} thread(s)"
              for w in splits}
    labels.update({"plain loop": "plain loop (PyAV, fp32 contiguous, libx264)",
                   "sequential": "sequential (renderer settings)", "pipelined": "pipelined render"})
    best["model only"] = max(best[f"model only {w}"] for w in splits)
    labels["model only"] = "model only, the better of the above (baseline)"
    for name in [*(f"model only {w}" for w in splits), "model only", "plain loop", "sequential", "pipelined"]:
        value = best[name]
        extra = ""
        if name in shares:
            extra = "  busy: " + ", ".join(f"{k} {v:.0%}" for k, v in shares[name].items())
        print(f"  {labels[name]:>51}: {value:6.2f} fps{extra}")
    print(f"  pipelined / model only = {best['pipelined'] / best['model only']:.2f}  (target >= 0.9)")
    print(f"  pipelined / plain loop = {best['pipelined'] / best['plain loop']:.2f}  (target >= 1.3)")
    print(f"  pipelined / sequential = {best['pipelined'] / best['sequential']:.2f}  "
          "(the gain from overlapping the stages alone)")


def formats(args: argparse.Namespace) -> None:
    """Model-only fps of one architecture in each precision and memory format
    (random input at ``--size``, default 640x480), alternating, best of ``--repeats``,
    with PSNR of each output against fp32 contiguous."""
    model = build_model(args)
    width, height = parse_size(args.size or "640x480")
    count = args.frames or 6
    threads = args.threads or resolve_runtime("cpu", model=model).torch_threads
    torch.set_num_threads(threads)
    x = torch.rand(1, model.config.in_channels, height, width, generator=torch.Generator().manual_seed(0))
    variants = {"fp32 contiguous": ("fp32", False, None), "fp32 channels_last": ("fp32", True, None),
                "bf16 converted, contiguous": ("bf16", False, None),
                "bf16 converted, channels_last": ("bf16", True, None),
                "bf16 autocast, channels_last": ("bf16", True, Numerics.AUTOCAST)}
    runners = {name: ModelRunner(model, resolve_runtime("cpu", precision, threads=threads, channels_last=cl),
                                 numerics=numerics) for name, (precision, cl, numerics) in variants.items()}
    with torch.inference_mode():
        outputs = {name: runner(x) for name, runner in runners.items()}
        runs: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, runner in runners.items():
                started = time.perf_counter()
                for _ in range(count):
                    runner(x)
                runs[name].append(count / (time.perf_counter() - started))
    print(f"{model.config.arch} at {width}x{height}, {threads} torch thread(s), {count} frames per run; {machine()}")
    reference = outputs["fp32 contiguous"]
    for name, values in runs.items():
        mse = float(((outputs[name] - reference) ** 2).mean())
        quality = "reference" if name == "fp32 contiguous" else f"PSNR {10 * np.log10(1 / max(mse, 1e-20)):.1f} dB"
        print(f"  {name:>30}: best {max(values):6.2f} fps  ({quality})")


def plans(args: argparse.Namespace) -> None:
    """The pipelined render with one model worker under several CPU thread plans (the
    default before model workers was the first), alternating, best of ``--repeats``."""
    model = build_model(args)
    cores = resolve_runtime(args.device, args.precision, threads=args.threads, model=model).torch_threads
    compare_renders(args, model, {
        f"{cores} torch threads, codecs at nice 0": dict(threads=cores, workers=1),
        f"{cores} torch threads, codecs at nice 19": dict(threads=cores, workers=1, codec_nice=19),
        f"{max(1, cores - 1)} torch thread(s), codecs at nice 0": dict(threads=max(1, cores - 1), workers=1)})


def workers(args: argparse.Namespace) -> None:
    """The pipelined render with one model worker or one per torch thread, for each
    x264 preset in ``--preset`` (default medium,veryfast), alternating, best of ``--repeats``."""
    model = build_model(args)
    cores = resolve_runtime(args.device, args.precision, threads=args.threads, model=model).torch_threads
    compare_renders(args, model, {
        f"{split} worker(s) x {cores // split} thread(s), {preset}":
            dict(threads=cores, workers=split, preset=preset)
        for preset in (args.preset or "medium,veryfast").split(",") for split in sorted({1, cores})})


def compare_renders(args: argparse.Namespace, model: Stylizer, variants: dict[str, dict[str, object]]) -> None:
    """Pipelined renders of the first ``--frames`` (default 120) with each variant's
    options, alternating, printing every run and the best."""
    workdir = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    count = args.frames or 120
    end = (count - 0.5) / (probe(args.input).nominal_fps or 20.0)
    print(f"{Path(args.input).name}, {count} frames, arch {model.config.arch}; {machine()}")
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, options in variants.items():
            started = time.perf_counter()
            result = render(args.input, model, workdir / "out.mp4", end=end, overwrite=True, device=args.device,
                            precision=args.precision, **options)
            runs[name].append(result.frames / (time.perf_counter() - started))
    for name, values in runs.items():
        print(f"  {name:>42}: best {max(values):5.2f} fps  (runs: {' '.join(f'{v:.2f}' for v in values)})")


def presets(args: argparse.Namespace) -> None:
    """libx264 presets at the renderer's CRF on the source's own frames: encode CPU
    time per frame (one encoder thread, as a CPU render runs it), file size, and
    PSNR of the decoded result against the source frames (RGB, mean over frames)."""
    source = Path(args.input)
    info = probe(source)
    count = args.frames or (info.frame_count or 240)
    end = (count - 0.5) / (info.nominal_fps or 20.0)
    with open_video(source, end=end) as reader:
        frames = [(frame.rgb, frame.pts) for frame in reader]
    crf = DEFAULT_CRF if args.crf is None else args.crf
    workdir = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    names = (args.preset or "medium,veryfast").split(",")
    cpu: dict[str, list[float]] = {name: [] for name in names}
    print(f"{source.name}: {info.width}x{info.height}, {len(frames)} frames, libx264 CRF {crf}, 1 encoder "
          f"thread, no audio; {machine()}")
    for _ in range(args.repeats):
        for name in names:
            began = time.process_time()
            with VideoWriter(workdir / f"{name}.mp4", width=info.width, height=info.height,
                             time_base=info.time_base, rate=info.nominal_fps, crf=crf, preset=name,
                             threads=1, overwrite=True) as writer:
                for rgb, pts in frames:
                    writer.write(rgb, pts=pts)
            cpu[name].append(1000 * (time.process_time() - began) / len(frames))
    for name in names:
        out = workdir / f"{name}.mp4"
        with open_video(out) as reader:
            decoded = [frame.rgb for frame in reader]
        mse = [float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
               for (a, _), b in zip(frames, decoded)]
        psnr = float(np.mean([10 * np.log10(255.0 ** 2 / max(m, 1e-10)) for m in mse]))
        print(f"  {name:>10}: encode {min(cpu[name]):6.1f} ms CPU/frame (best of {args.repeats}), "
              f"{out.stat().st_size / 1024:7.0f} KiB, PSNR {psnr:.2f} dB over {len(decoded)} frames")


# -- memory -------------------------------------------------------------------------------
def make_long_clip(path: Path, seconds: int, size: tuple[int, int], fps: int = 20) -> Path:
    """A generated clip (FFmpeg's testsrc2 picture and a sine tone as AAC) of any length."""
    width, height = size
    with av.open(f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}", format="lavfi") as src, \
            av.open(f"sine=frequency=440:sample_rate=48000:duration={seconds}", format="lavfi") as tone, \
            av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "23"}
        audio = out.add_stream("aac", rate=48000)
        for frame in src.decode(video=0):
            frame.pts = None
            out.mux(video.encode(frame.reformat(format="yuv420p")))
        out.mux(video.encode(None))
        for frame in tone.decode(audio=0):
            frame.pts = None
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


_CHILD = """
import sys, torch
sys.path.insert(0, {root!r})
from vidstyle.models import Architecture, ModelConfig, Stylizer, register_architecture
from vidstyle.progress import set_quiet
from vidstyle.render import render
register_architecture(Architecture("bench_tiny", lambda c: torch.nn.Conv2d(3, 3, 3, padding=1)))
set_quiet(True)
result = render({clip!r}, Stylizer(ModelConfig("bench_tiny")), {out!r}, overwrite=True)
print(result.frames, round(result.fps, 1), file=sys.stderr)
"""


def memory(args: argparse.Namespace) -> None:
    size = parse_size(args.memory_size)
    workdir = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    root = str(Path(__file__).resolve().parents[1])
    peaks = {}
    for minutes in (1, args.long_minutes):
        clip = make_long_clip(workdir / f"{minutes}min.mp4", 60 * minutes, size)
        started = time.perf_counter()
        peaks[minutes] = peak_rss_mb(_CHILD.format(root=root, clip=str(clip), out=str(workdir / "out.mp4")))
        frames = probe(workdir / "out.mp4").frame_count
        print(f"  {minutes:>3}-minute input ({frames} frames at {size[0]}x{size[1]}, audio): peak RSS "
              f"{peaks[minutes]:.0f} MiB, {time.perf_counter() - started:.0f} s")
    ratio = peaks[args.long_minutes] / peaks[1]
    print(f"  peak RSS {args.long_minutes} min / 1 min = {ratio:.3f}  (target <= 1.1)")


# -- stabilize ----------------------------------------------------------------------------
def stabilize(args: argparse.Namespace) -> None:
    """E_warp of renders at several --stabilize strengths, with the source's own as the floor."""
    from vidstyle.metrics import flicker

    args.frames = args.frames or 24
    model = build_model(args, spread=True)
    workdir = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    end = args.frames / (probe(args.input).nominal_fps or 20.0)
    print(f"{Path(args.input).name}, {args.frames} frames, arch {model.config.arch}; E_warp by "
          "vidstyle.metrics.flicker (flow on the source, DIS medium, Lai mask, RGB in [0, 1])")
    for strength in (0.0, 0.3, 0.5, 0.7):
        out = workdir / f"s{strength}.mp4"
        result = render(args.input, model, out, stabilize=strength, end=end, overwrite=True,
                        device=args.device, size=parse_size(args.size) if args.size else None)
        report = flicker(out, source=args.input, max_frames=args.frames, tof=False, allow_trim=True)
        floor = report.source.mean_warp_error if report.source else float("nan")
        print(f"  --stabilize {strength:.1f}: E_warp {report.warp_error:.5f} (source {floor:.5f}), "
              f"render {result.fps:.2f} fps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("section", choices=["throughput", "formats", "plans", "workers", "presets", "memory",
                                            "stabilize"])
    parser.add_argument("--input", default=str(HACIENDA))
    parser.add_argument("--arch", help="architecture with random weights (default: the trainer's default)")
    parser.add_argument("--model", help="a model file instead of random weights")
    parser.add_argument("--frames", type=int, help="frames to render (default: 120 throughput and plans, "
                        "24 stabilize, 6 per run formats)")
    parser.add_argument("--size", help="scale the input to WxH first (throughput), model size (stabilize, "
                        "formats)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--workers", type=int, help="model workers of the renders (default: the renderer's)")
    parser.add_argument("--codec", type=lambda t: __import__("vidstyle.io", fromlist=["Codec"]).Codec.parse(t))
    parser.add_argument("--crf", type=int)
    parser.add_argument("--preset", help="encoder preset (presets, workers: a comma-separated list, default "
                        "medium,veryfast)")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--memory-size", default="160x120")
    parser.add_argument("--long-minutes", type=int, default=10)
    args = parser.parse_args()
    set_quiet(True)
    sections = {"throughput": throughput, "formats": formats, "plans": plans, "workers": workers,
                "presets": presets, "memory": memory, "stabilize": stabilize}
    sections[args.section](args)


if __name__ == "__main__":
    main()
