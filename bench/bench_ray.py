"""``vidstyle render --ray`` benchmark: Ray with N local workers vs the single-process renderer on the
same cores, the join's cost, per-chunk figures for docs/scaling.md, and E_warp at seams vs the interior.

    python3 bench/bench_ray.py --footage ../shared/footage            # random-weight models, CPU
    python3 bench/bench_ray.py --model demo/model.pt                  # a trained model (its temporal stage)

The input is the 640x480 benchmark clip played ``--loops`` times (re-encoded, x264 veryfast,
a keyframe every 2 s as in the footage). The Ray instance is started once before the runs
(its start-up is reported apart: a cluster runs for many renders); each Ray render includes
starting its actors and loading the model in each.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import FOOTAGE, HACIENDA, machine  # noqa: E402
from vidstyle.io import open_video, probe  # noqa: E402
from vidstyle.metrics import flicker  # noqa: E402
from vidstyle.models import FusionConfig, ModelConfig, Stylizer, TemporalFusion, save_checkpoint  # noqa: E402
from vidstyle.progress import set_quiet  # noqa: E402
from vidstyle.render import render, render_on_ray  # noqa: E402


def make_input(path: Path, footage: Path, loops: int) -> int:
    """The clip ``loops`` times over, x264 veryfast, a keyframe every 40 frames (2 s, as the footage)."""
    frames = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=20)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18", "g": "40"}
        for _ in range(loops):
            for frame in open_video(footage / HACIENDA.name):
                video = av.VideoFrame.from_ndarray(frame.rgb, format="rgb24")
                video.pts = frames
                container.mux(stream.encode(video))
                frames += 1
        container.mux(stream.encode(None))
    return frames


def make_models(folder: Path) -> tuple[Path, Path]:
    """A random-weight default generator at 320x240 (as trained models run), with and without a
    temporal stage whose blend leans on the previous frame (sigmoid(1.5) = 0.82 where it trusts the flow)."""
    torch.manual_seed(0)
    model = Stylizer(ModelConfig(arch="fast", train_size=(320, 240)))
    save_checkpoint(folder / "plain.pt", model)
    fusion = TemporalFusion(FusionConfig(flow_preset="fast"))
    torch.nn.init.normal_(fusion.net[-1].weight, std=0.05)
    torch.nn.init.constant_(fusion.net[-1].bias, 1.5)
    model.attach_fusion(fusion)
    save_checkpoint(folder / "temporal.pt", model)
    return folder / "plain.pt", folder / "temporal.pt"


def cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def seam_report(source: Path, single_path: Path, chunked: Path, seams: list[int], single: bool = True) -> None:
    """E_warp of the pairs across a seam vs all other pairs, in the Ray render and the single one."""
    for name, path in (("single-process", single_path), ("ray", chunked))[0 if single else 1:]:
        report = flicker(path, source=source, preset="fast", tof=False, desc="flicker")
        errors = report.stylized.warp_error
        seam_pairs = [int(np.flatnonzero(report.indices == s - 1)[0]) for s in seams]
        interior = np.delete(errors, seam_pairs)
        print(f"  E_warp {name:>14}: seams {np.nanmean(errors[seam_pairs]):.5f} ({len(seams)} pairs), "
              f"interior {np.nanmean(interior):.5f}, all {report.stylized.mean_warp_error:.5f}")
    a = [f.rgb for f in open_video(single_path)]
    b = [f.rgb for f in open_video(chunked)]
    diffs = [float(np.abs(a[s].astype(int) - b[s]).mean()) for s in seams]
    print(f"  seam frames vs the single-process render: mean |diff| {np.mean(diffs):.2f} levels "
          f"(max {max(diffs):.2f}); encoder noise between the two files elsewhere: "
          f"{np.mean([float(np.abs(a[i].astype(int) - b[i]).mean()) for i in range(5, len(a), 17)]):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", type=Path, default=FOOTAGE)
    parser.add_argument("--loops", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternating single/Ray throughput runs")
    parser.add_argument("--model", type=Path, help="a trained checkpoint (default: random weights)")
    parser.add_argument("--skip-seams", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--chunk-frames", type=int, help="chunk length for the seam runs (default: the render's)")
    args = parser.parse_args()
    import ray

    set_quiet(True)
    print(f"machine: {machine()}, ray {ray.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "input.mp4"
        frames = make_input(source, args.footage, args.loops)
        plain, temporal = make_models(folder)
        if args.model:
            plain = temporal = args.model
        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        print(f"input: {frames} frames 640x480 ({frames / 20:.0f} s); Ray start {time.perf_counter() - started:.1f} s")

        if not args.skip_throughput:
            throughput(args, source, plain, folder, frames)
        if not args.skip_seams:
            seams(args, source, temporal, folder)
        ray.shutdown()


def throughput(args: argparse.Namespace, source: Path, plain: Path, folder: Path, frames: int) -> None:
    """Side by side: the single-process renderer and the Ray render, per-frame (the model's stage off),
    alternating ``--repeats`` times; the ratio of the medians is reported (a shared machine's load
    shifts between runs)."""
    single_walls, ray_walls, single_cpus = [], [], []
    for _ in range(args.repeats):
        cpu, wall = cpu_seconds(), time.perf_counter()
        single = render(source, plain, folder / "single.mp4", temporal=False, overwrite=True)
        single_walls.append(time.perf_counter() - wall)
        single_cpus.append(cpu_seconds() - cpu)
        wall = time.perf_counter()
        chunked = render_on_ray(source, plain, folder / "ray.mp4", workers=args.workers, temporal=False,
                                overwrite=True)
        ray_walls.append(time.perf_counter() - wall)
        print(f"  run: single {single_walls[-1]:.1f} s, ray {ray_walls[-1]:.1f} s "
              f"(actors {chunked.actors_seconds:.1f} s) -> {single_walls[-1] / ray_walls[-1]:.2f}x", flush=True)
    single_wall, ray_wall = float(np.median(single_walls)), float(np.median(ray_walls))
    print(f"single-process: {single.frames / single_wall:.2f} fps (median {single_wall:.1f} s wall of "
          f"{args.repeats}, {np.median(single_cpus):.0f} CPU s)")
    print(f"ray, {chunked.workers} workers: {chunked.frames / ray_wall:.2f} fps (median {ray_wall:.1f} s wall, "
          f"{len(chunked.chunks)} chunks; actors started and model loaded in {chunked.actors_seconds:.1f} s)  "
          f"-> ratio {single_wall / ray_wall:.2f}x")
    results = chunked.results
    per = {k: sum(r.busy[k] for r in results) / chunked.frames * 1000 for k in ("decode", "model", "encode")}
    chunk_wall = sum(r.seconds for r in results) / chunked.frames * 1000
    size = (folder / "ray.mp4").stat().st_size
    print(f"per chunk, per frame (busy ms): decode {per['decode']:.1f}, model {per['model']:.1f}, "
          f"encode {per['encode']:.1f}; chunk wall {chunk_wall:.1f} ms/frame on one worker; "
          f"chunk = {np.mean([c.frames for c in chunked.chunks]):.0f} frames")
    hour = 3600 / (frames / 20)
    print(f"join: {chunked.join_seconds:.3f} s for {size / 1e6:.1f} MB ({frames / 20:.0f} s of video) "
          f"-> {chunked.join_seconds * hour:.1f} s per hour of footage at this bitrate "
          f"({size / 1e6 / max(chunked.join_seconds, 1e-9):.0f} MB/s)")
    assert probe(folder / "ray.mp4").frame_count == frames


def seams(args: argparse.Namespace, source: Path, temporal: Path, folder: Path) -> None:
    """E_warp at the seams vs the interior, with the model's temporal stage, warm-up 8 and 0."""
    single_t = folder / "single_t.mp4"
    render(source, temporal, single_t)
    for warmup in (8, 0):
        wall = time.perf_counter()
        out = folder / f"ray_t{warmup}.mp4"
        chunked_t = render_on_ray(source, temporal, out, workers=args.workers, warmup=warmup,
                                  chunk_frames=args.chunk_frames)
        print(f"temporal stage, warm-up {warmup}: ray {chunked_t.frames / (time.perf_counter() - wall):.2f} fps")
        # A seam on the loop point (the clip starting over: a cut) would measure the cut, not the seam.
        loop = probe(args.footage / HACIENDA.name).frame_count or 0
        seams_ = [c.first for c in chunked_t.chunks[1:] if not loop or c.first % loop]
        seam_report(source, single_t, out, seams_, single=warmup == 8)


if __name__ == "__main__":
    main()
