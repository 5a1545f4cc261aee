"""``vidstyle render --ray``: chunks on Ray actors joined into one file, batches of files, faults, errors.

One local Ray instance (2 CPUs) for the module; tiny clips. Skipped without the ``ray`` extra.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vidstyle.errors import UsageError, VidstyleError
from vidstyle.io import Codec
from vidstyle.models import FusionConfig, ModelConfig, Stylizer, TemporalFusion, save_checkpoint
from vidstyle.render import plan_chunks, render, render_many, render_on_ray

from ._fixtures_render import decoded_frames, moving_pattern, psnr, timed_audio_packets, video_pts_seconds
from ._media import make_clip
from .conftest import assert_one_line_error, run_cli

FRAMES, CHUNK = 36, 10
SEAM_PSNR_DB = 40.0  # seam frames of a temporal model vs a one-machine render (measured: 80 dB and up)


def test_without_ray_nothing_imports_it():
    code = ("import sys, vidstyle.render, vidstyle.shots; from vidstyle.cli import build_parser; build_parser(); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def test_chunks_start_at_keyframes_or_cuts_and_cover_every_frame_once():
    chunks = plan_chunks(240, [0, 40, 80, 120, 160, 200], chunk_frames=50, cuts=[130])
    assert [(c.first, c.last, c.warmup) for c in chunks] == [(0, 80, 0), (80, 130, 8), (130, 200, 0), (200, 240, 8)]
    sparse = plan_chunks(50, [0], chunk_frames=10)
    assert sparse[0].first == 0 and sparse[-1].last == 50
    assert all(a.last == b.first for a, b in zip(sparse, sparse[1:]))


def test_several_inputs_render_one_after_another_and_a_bad_one_is_reported(tmp_path):
    clip = make_clip(tmp_path / "clip.mkv", frames=6, size=(32, 24), audio=False)
    (tmp_path / "broken.mp4").write_text("not a video")
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "m.pt", Stylizer(ModelConfig(arch="fast", arch_options={"widths": [4, 4, 4],
                                                                                      "blocks": 1})))
    result = run_cli("render", clip, tmp_path / "broken.mp4", "-m", tmp_path / "m.pt", "-o", tmp_path / "out", "-q")
    assert result.returncode == 2, result.stderr
    assert "broken.mp4" in result.stdout and "error:" in result.stdout and "1 of 2 rendered, 1 failed" in result.stdout
    assert (tmp_path / "out" / "clip.mkv").exists() and not (tmp_path / "out" / "broken.mp4").exists()


ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: pip install -e '.[ray]'")


@pytest.fixture(scope="module")
def cluster():
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        except Exception:  # noqa: BLE001 - Ray gives its raylet 30 s to register; under heavy load once
            ray.shutdown()   # that was too little: one more try
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray")
    clip = make_clip(folder / "clip.mkv", frames=FRAMES, size=(64, 48), make_frame=moving_pattern)
    torch.manual_seed(0)
    model = Stylizer(ModelConfig(arch="fast", arch_options={"widths": [4, 8, 8], "blocks": 1}))
    save_checkpoint(folder / "plain.pt", model)
    fusion = TemporalFusion(FusionConfig(flow_preset="ultrafast"))
    torch.nn.init.normal_(fusion.net[-1].weight, std=0.3)  # a blend weight that depends on the inputs
    model.attach_fusion(fusion)
    save_checkpoint(folder / "temporal.pt", model)
    return folder, clip


def _same_file(a: Path, b: Path) -> None:
    assert video_pts_seconds(a) == video_pts_seconds(b)
    audio = timed_audio_packets(b)
    assert audio and timed_audio_packets(a) == audio


def test_per_frame_model_renders_bit_identical_with_and_without_ray_even_when_a_worker_dies(cluster, media, quiet):
    folder, clip = media
    killed: list[int] = []

    def kill_once(actor, chunk):  # noqa: ANN001 - an actor killed while it renders chunk 1
        if chunk.index == 1 and not killed:
            killed.append(chunk.index)
            threading.Thread(target=lambda: (time.sleep(0.2), ray.kill(actor, no_restart=False))).start()

    single, chunked = folder / "single.mkv", folder / "chunked.mkv"
    render(clip, folder / "plain.pt", single, codec=Codec.FFV1)
    result = render_on_ray(clip, folder / "plain.pt", chunked, codec=Codec.FFV1, chunk_frames=CHUNK,
                           on_submit=kill_once)
    assert killed and len(result.chunks) >= 3 and result.frames == FRAMES
    a, b = decoded_frames(single), decoded_frames(chunked)
    assert len(a) == len(b) == FRAMES
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    _same_file(single, chunked)
    assert not list(folder.glob(".chunked.mkv.chunks-*"))


def test_temporal_stage_seams_stay_close_to_a_single_machine_render(cluster, media, quiet):
    folder, clip = media
    single, chunked = folder / "t_single.mkv", folder / "t_chunked.mkv"
    render(clip, folder / "temporal.pt", single, codec=Codec.FFV1)
    result = render_on_ray(clip, folder / "temporal.pt", chunked, codec=Codec.FFV1, chunk_frames=CHUNK)
    a, b = decoded_frames(single), decoded_frames(chunked)
    assert len(a) == len(b) == FRAMES
    _same_file(single, chunked)
    seams = [c.first for c in result.chunks[1:]]
    assert seams and all(c.warmup > 0 for c in result.chunks[1:])
    assert min(psnr(a[i], b[i]) for s in seams for i in (s, s + 1)) >= SEAM_PSNR_DB


def test_out_of_range_temporal_options_are_refused_before_any_worker_starts(media, quiet):
    folder, clip = media
    for options in ({"hold_stretch": -1.0}, {"stabilize": 1.5}):
        with pytest.raises(UsageError, match=next(iter(options))):
            render_on_ray(clip, folder / "plain.pt", folder / "none.mkv", **options)
        with pytest.raises(UsageError, match=next(iter(options))):
            render_many([clip], folder / "plain.pt", folder / "many", **options)
    assert not (folder / "none.mkv").exists() and not (folder / "many").exists()


def test_model_missing_on_the_cluster_is_one_error_and_no_output(cluster, media, quiet):
    folder, clip = media
    with pytest.raises(VidstyleError, match="absent.pt.*Ray worker") as err:
        render_on_ray(clip, folder / "absent.pt", folder / "none.mkv")
    assert "\n" not in str(err.value)
    assert not (folder / "none.mkv").exists() and not list(folder.glob("*none.mkv*"))


def _damaged_copy(clip: Path, out: Path, frames: range) -> Path:
    """``clip`` with the video payload of ``frames`` overwritten: the container stays intact (every
    packet is still there, so the chunk plan covers them) but those frames do not decode."""
    import av

    with av.open(str(clip)) as container:
        payloads = [bytes(p) for _, p in sorted((p.pts, p) for p in container.demux(video=0) if p.size)]
    data = bytearray(clip.read_bytes())
    for index in frames:
        at = data.find(payloads[index])
        assert at > 0 and data.find(payloads[index], at + 1) < 0
        data[at:at + len(payloads[index])] = b"\xff" * len(payloads[index])
    out.write_bytes(bytes(data))
    return out


def test_a_chunk_that_fails_to_decode_is_one_error_naming_the_file_and_no_output(cluster, media, tmp_path,
                                                                                   capsys):
    from .conftest import run_main

    folder, clip = media
    damaged = _damaged_copy(clip, tmp_path / "damaged.mkv", range(15, 18))
    out = tmp_path / "out.mkv"
    code = run_main(["render", str(damaged), "-m", str(folder / "plain.pt"), "-o", str(out), "--ray",
                     "--chunk-seconds", "0.5", "--codec", "ffv1", "-q"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert str(damaged) in lines[0] and "frames 10-19" in lines[0] and "damaged" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.mkv"]  # no output, no partial, no chunks


def test_many_files_one_task_each_and_a_bad_one_does_not_stop_the_others(cluster, media, quiet):
    folder, clip = media
    broken = folder / "broken.mp4"
    broken.write_text("not a video")
    out = folder / "batch"
    results = render_many([clip, broken], folder / "plain.pt", out, use_ray=True, codec=Codec.FFV1)
    assert results[0].error is None and results[0].frames == FRAMES
    assert results[1].error is not None and "broken.mp4" in results[1].error
    assert (out / "clip.mkv").exists() and not (out / "broken.mp4").exists()


def test_cli_unreachable_address_and_missing_extra_options(media, tmp_path):
    folder, clip = media
    result = run_cli("render", clip, "-m", folder / "plain.pt", "-o", tmp_path / "o.mp4", "--ray", "127.0.0.1:1")
    assert_one_line_error(result, "127.0.0.1:1")
    assert not (tmp_path / "o.mp4").exists()
    assert_one_line_error(run_cli("render", clip, "-m", folder / "plain.pt", "-o", tmp_path / "o.mp4",
                                  "--warmup", "4"), "--ray")
