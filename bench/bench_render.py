"""Renderer benchmark: pipelined vs model-only vs sequential, flat memory, GPU 1080p.

Everything compared is measured side by side in one run (the dev machine is shared
and noisy), alternating the variants when ``--repeats`` > 1 and keeping each best.

    python3 bench/bench_render.py throughput                  # 640x480 footage, CPU
    python3 bench/bench_render.py throughput --device cuda --size 1920x1080 --codec h264_nvenc
    python3 bench/bench_render.py memory                      # 1-min vs 10-min generated input
    python3 bench/bench_render.py stabilize                   # flicker with and without --stabilize

Models have random weights of the chosen architecture (speed does not depend on
the weights); ``--model FILE`` benchmarks a real checkpoint instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import HACIENDA, machine, peak_rss_mb  # noqa: E402
from vidstyle.io import open_video, parse_size, probe, transcode  # noqa: E402
from vidstyle.models import DEFAULT_ARCH, ModelConfig, Stylizer, load_stylizer  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.render import render, resolve_runtime  # noqa: E402


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
def model_only_fps(model: Stylizer, frames: list[np.ndarray], args: argparse.Namespace) -> float:
    """The model alone on frames already decoded and on the device."""
    plan = resolve_runtime(args.device, args.precision, batch=args.batch, threads=args.threads)
    torch.set_num_threads(plan.torch_threads)
    model = model.to(plan.device)
    memory_format = torch.channels_last if plan.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255)
    batch = batch.to(plan.device).contiguous(memory_format=memory_format)
    autocast = torch.autocast(plan.device.type, dtype=plan.precision.dtype,
                              enabled=plan.precision.value != "fp32")
    with torch.inference_mode(), autocast:
        model(batch[:plan.batch])  # warm-up (cudnn autotune, allocator)
        if plan.is_cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        for i in range(0, len(frames), plan.batch):
            model(batch[i:i + plan.batch])
        if plan.is_cuda:
            torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - started)


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
    end = args.frames / fps
    model = build_model(args)
    with open_video(source, end=end) as reader:
        frames = [frame.rgb for frame in reader]
    plan = resolve_runtime(args.device, args.precision, batch=args.batch, threads=args.threads)
    print(f"{source.name}: {info.width}x{info.height}, {len(frames)} frames, arch {model.config.arch}, "
          f"{plan.device} {plan.precision.value} batch {plan.batch}, {plan.torch_threads} torch thread(s), "
          f"codec threads {plan.decode_threads}/{plan.encode_threads}; {machine()}")
    common = dict(device=args.device, precision=args.precision, batch=args.batch, threads=args.threads,
                  codec=args.codec, preset=args.preset, end=end, overwrite=True, compile=args.compile)
    best: dict[str, float] = {}
    shares: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        best["model only"] = max(best.get("model only", 0.0), model_only_fps(model, frames, args))
        for name, sequential in (("sequential", True), ("pipelined", False)):
            result = render(source, model, workdir / f"{name}.mp4", sequential=sequential, **common)
            if result.fps > best.get(name, 0.0):
                best[name], shares[name] = result.fps, result.times.shares()
    for name, value in best.items():
        extra = ""
        if name in shares:
            extra = "  busy: " + ", ".join(f"{k} {v:.0%}" for k, v in shares[name].items())
        print(f"  {name:>11}: {value:7.2f} fps{extra}")
    print(f"  pipelined / model only = {best['pipelined'] / best['model only']:.2f}  (target >= 0.9)")
    print(f"  pipelined / sequential = {best['pipelined'] / best['sequential']:.2f}  (target >= 1.3)")


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
    parser.add_argument("section", choices=["throughput", "memory", "stabilize"])
    parser.add_argument("--input", default=str(HACIENDA))
    parser.add_argument("--arch", help="architecture with random weights (default: the trainer's default)")
    parser.add_argument("--model", help="a model file instead of random weights")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", help="scale the input to WxH first (throughput), model size (stabilize)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--codec", type=lambda t: __import__("vidstyle.io", fromlist=["Codec"]).Codec.parse(t))
    parser.add_argument("--preset")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--memory-size", default="160x120")
    parser.add_argument("--long-minutes", type=int, default=10)
    args = parser.parse_args()
    set_quiet(True)
    {"throughput": throughput, "memory": memory, "stabilize": stabilize}[args.section](args)


if __name__ == "__main__":
    main()
