"""The streaming renderer: fidelity to the source file, options, failures, fallbacks."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vidstyle.errors import InputError, OutputExistsError, UsageError
from vidstyle.io import probe
from vidstyle.metrics import flicker
from vidstyle.render import (Pipeline, RenderOptions, StageFailure, rgb_to_yuv420, render,
                             resolve_runtime, working_size)

from ._fixtures_render import (moving_pattern, psnr, read_frames, timed_audio_packets, toy_model,
                               video_pts_seconds)
from ._media import make_clip

needs_cuda = pytest.mark.needs_cuda


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "vfr_audio.mp4", frames=30, vfr=True,
                     make_frame=moving_pattern)


@pytest.fixture(scope="module")
def identity():
    return toy_model("test_identity", lambda x: x[:, :3])


def test_render_keeps_frames_timestamps_audio_and_colour(vfr_clip, identity, tmp_path):
    out = tmp_path / "out.mp4"
    # Default CRF 18 at x264 medium: this checks the pipeline's fidelity, not the CPU default
    # preset's (veryfast, ~1.4 dB lower PSNR at the same CRF; docs/BENCHMARKS.md).
    result = render(vfr_clip, identity, out, preset="medium")
    assert out.exists() and not list(tmp_path.glob("*.partial"))
    source_pts, out_pts = video_pts_seconds(vfr_clip), video_pts_seconds(out)
    assert result.frames == len(source_pts) == len(out_pts) == 30
    assert max(abs(a - b) for a, b in zip(source_pts, out_pts)) < 1e-3  # VFR spacing kept
    assert timed_audio_packets(out) == timed_audio_packets(vfr_clip)  # packet for packet, bytes identical
    assert min(psnr(a, b) for a, b in zip(read_frames(vfr_clip), read_frames(out))) >= 40.0
    info = probe(out)
    assert info.color.matrix.value == "bt709" and info.color.range.value == "limited"
    assert result.times.wall > 0 and set(result.times.shares()) == {"decode", "model", "encode"}


def test_trimmed_render_cuts_video_and_audio(vfr_clip, identity, tmp_path):
    out = tmp_path / "trim.mp4"
    result = render(vfr_clip, identity, out, start=0.5, end=1.0)
    source = [t for t in video_pts_seconds(vfr_clip) if 0.5 - 1e-6 <= t < 1.0 - 1e-6]
    assert result.frames == len(source) == len(video_pts_seconds(out))
    shifted = [t - 0.5 for t in source]
    assert max(abs(a - b) for a, b in zip(shifted, video_pts_seconds(out))) < 1e-3
    kept = [data for t, data in timed_audio_packets(vfr_clip) if 0.5 <= t < 1.0]
    assert [data for _, data in timed_audio_packets(out)] == kept


def test_no_audio_and_output_size(vfr_clip, identity, tmp_path):
    out = tmp_path / "small.mkv"
    render(vfr_clip, identity, out, audio=False, output_size=(32, 24))
    info = probe(out)
    assert (info.width, info.height) == (32, 24) and info.audio == ()


def test_existing_output_needs_overwrite_and_input_is_never_replaced(vfr_clip, identity, tmp_path):
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        render(vfr_clip, identity, out)
    assert out.read_bytes() == b"old"
    with pytest.raises(InputError):
        render(vfr_clip, identity, vfr_clip, overwrite=True)


def test_model_runs_at_working_size_and_output_at_source_size(vfr_clip, tmp_path):
    seen = []

    def record(x):
        seen.append(tuple(x.shape[-2:]))
        return x

    model = toy_model("test_recorder", record)
    model.config.train_size = (32, 24)
    out = tmp_path / "sized.mp4"
    result = render(vfr_clip, model, out, end=0.3)
    assert set(seen) == {(24, 32)} and result.work_size == (32, 24)
    assert (probe(out).width, probe(out).height) == (64, 48)
    assert working_size(model, (1280, 720)) == (42, 24)  # trained height, source aspect
    assert working_size(model, (1280, 720), (320, 180)) == (320, 180)


def test_model_failure_names_stage_and_time_and_leaves_no_output(vfr_clip, tmp_path):
    calls = []

    def explode(x):
        calls.append(1)
        if len(calls) > 5:
            raise RuntimeError("out of memory")
        return x

    out = tmp_path / "fail.mp4"
    with pytest.raises(StageFailure, match=r"model stage failed at 0:00\.\d+ of the video.*out of memory"):
        render(vfr_clip, toy_model("test_exploding", explode), out)
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_keep_hud_puts_source_pixels_back(vfr_clip, tmp_path):
    import cv2

    mask = np.zeros((48, 64), np.uint8)
    mask[4:20, 40:60] = 255  # a "minimap"
    cv2.imwrite(str(tmp_path / "hud.png"), mask)
    grey = toy_model("test_grey", lambda x: torch.full_like(x[:, :3], 0.5))
    out = tmp_path / "hud.mp4"
    render(vfr_clip, grey, out, keep_hud=tmp_path / "hud.png", end=0.3, preset="medium")  # as above
    source, styled = read_frames(vfr_clip, end=0.3), read_frames(out)
    for src, sty in zip(source, styled):
        assert psnr(src[6:18, 42:58], sty[6:18, 42:58]) > 35  # HUD kept
        assert np.abs(sty[30:, :30].astype(int) - 128).max() <= 3  # elsewhere stylized
    with pytest.raises(InputError, match="no such mask file"):
        render(vfr_clip, grey, tmp_path / "x.mp4", keep_hud=tmp_path / "missing.png")


def test_stabilize_reduces_flicker(tmp_path):
    clip = make_clip(tmp_path / "moving.mp4", frames=16, size=(96, 72), audio=False,
                     make_frame=moving_pattern)
    generator = torch.Generator().manual_seed(1)

    def jumpy(x):  # a per-frame brightness jump, the typical flicker of an unstable model
        return (x[:, :3] + 0.15 * (torch.rand(x.shape[0], 1, 1, 1, generator=generator) - 0.5)).clamp(0, 1)

    model = toy_model("test_flicker", jumpy)
    plain, steady = tmp_path / "plain.mp4", tmp_path / "steady.mp4"
    render(clip, model, plain)
    render(clip, model, steady, stabilize=0.7)
    source = read_frames(clip)
    before = flicker(read_frames(plain), source=source, tof=False).warp_error
    after = flicker(read_frames(steady), source=source, tof=False).warp_error
    assert after < 0.6 * before
    with pytest.raises(UsageError, match="stabilize"):
        render(clip, model, tmp_path / "bad.mp4", stabilize=1.5)


def test_guides_from_folder(vfr_clip, tmp_path):
    import cv2

    folder = tmp_path / "guides"
    folder.mkdir()
    for index in range(30):
        cv2.imwrite(str(folder / f"{index:06d}.png"), np.full((48, 64), 8 * index, np.uint8))
    echo = toy_model("test_guide_echo", lambda x: x[:, 3:4].expand(-1, 3, -1, -1), guide_channels=1)
    out = tmp_path / "guided.mp4"
    render(vfr_clip, echo, out, guides=folder, end=0.5)
    for index, frame in enumerate(read_frames(out)):
        assert abs(float(frame.mean()) - 8 * index) < 2
    with pytest.raises(UsageError, match="guide channel"):
        render(vfr_clip, echo, tmp_path / "none.mp4")


def test_pipeline_memory_is_bounded():
    threads_before = threading.active_count()
    produced = []

    def source():
        for i in range(60):
            produced.append(i)
            yield i

    consumed = []

    def slow_sink(batch):
        time.sleep(0.002)
        # Decode may run ahead of the encoder by at most the two queues (2 batches of 4
        # each), the model's batch, the encoder's batch and the one item the decoder holds.
        assert len(produced) - len(consumed) <= 2 * 4 + 4 + 2 * 4 + 4 + 1
        consumed.extend(batch)

    Pipeline(source(), lambda batch: list(batch), slow_sink, time_of=float, out_time=lambda b: b[0],
             batch=4, depth=2).run()
    assert consumed == list(range(60))
    assert threading.active_count() <= threads_before  # its threads are gone (not: few threads in the process)


def test_the_gpu_yuv_output_path_encodes_what_the_rgb_path_does(vfr_clip, identity, tmp_path):
    """On CUDA the processor converts to YUV 4:2:0 on the GPU and the encoder takes the planes
    (``write_frame``); run that path on the CPU against the usual RGB path, losslessly encoded."""
    import av

    from vidstyle.io import open_video, open_writer
    from vidstyle.progress import progress
    from vidstyle.render import FrameProcessor, SourceFrame
    from vidstyle.render._render import _Sink

    info = probe(vfr_clip)
    size = (info.width, info.height)
    planes = {}
    for yuv in (False, True):
        processor = FrameProcessor(identity, resolve_runtime("cpu", "fp32", threads=1), work_size=size,
                                   out_size=size, yuv_output=yuv)
        out = tmp_path / f"yuv_{yuv}.mp4"
        with open_video(vfr_clip) as reader, progress(None, "test") as bar, \
                open_writer(out, width=size[0], height=size[1], time_base=info.time_base, rate=info.nominal_fps,
                            crf=0, preset="ultrafast") as writer:
            sink = _Sink(writer, bar, info.nominal_fps)
            for frame in reader:
                batch = processor([SourceFrame(index=frame.index, pts=frame.pts, time=frame.time, rgb=frame.rgb)])
                assert batch.is_yuv is yuv
                sink(batch)
        with av.open(str(out)) as container:
            planes[yuv] = [(f.pts, f.to_ndarray()) for f in container.decode(video=0)]
    assert [pts for pts, _ in planes[True]] == [pts for pts, _ in planes[False]]
    assert len(planes[True]) == 30
    luma = size[1]
    for (_, ours), (_, swscale) in zip(planes[True], planes[False]):
        assert np.abs(ours[:luma].astype(int) - swscale[:luma]).max() <= 1
        assert np.abs(ours[luma:].astype(int) - swscale[luma:]).mean() < 1.0


def test_rgb_to_yuv420_matches_swscale_bt709():
    import av
    from av.video.reformatter import ColorRange, Colorspace

    rgb = moving_pattern(3, 64, 48)
    ours = rgb_to_yuv420(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)[0].numpy()
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG).to_ndarray()
    assert ours.shape == theirs.shape == (72, 64)
    assert np.abs(ours[:48].astype(int) - theirs[:48]).max() <= 1  # luma
    assert np.abs(ours[48:].astype(int) - theirs[48:]).mean() < 1.0  # chroma (filters differ slightly)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_cuda_request_falls_back_to_cpu_with_one_line(capsys):
    plan = resolve_runtime("cuda", "fp16")
    assert plan.device.type == "cpu" and plan.precision.value == "fp32" and plan.batch == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("vidstyle: warning:") for line in lines)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests a machine without a GPU")
def test_one_device_choice_for_render_train_and_recipes():
    from vidstyle.pipeline import Device as RecipeDevice
    from vidstyle.render import Device
    from vidstyle.train import resolve_device

    assert RecipeDevice is Device and Device.parse("CUDA:1") is Device.CUDA
    assert resolve_device("auto").type == "cpu" and resolve_device(torch.device("cpu")).type == "cpu"
    with pytest.raises(UsageError, match="device cuda: PyTorch sees no CUDA GPU"):
        resolve_device("cuda:0")  # the trainer refuses; the renderer falls back (above)
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        resolve_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the fallback without NVENC")
def test_nvenc_request_falls_back_to_libx264(vfr_clip, identity, tmp_path, capsys):
    from vidstyle.io import Codec

    out = tmp_path / "nvenc.mp4"
    render(vfr_clip, identity, out, codec=Codec.H264_NVENC, end=0.3)
    assert probe(out).codec == "h264"
    assert "NVENC encode unavailable" in capsys.readouterr().err


@needs_cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_render_matches_cpu(vfr_clip, tmp_path):
    from vidstyle.models import ModelConfig, Stylizer

    torch.manual_seed(0)
    model = Stylizer(ModelConfig("fast_neural_style"))
    with torch.no_grad():  # random weights give ~0 everywhere; spread outputs over [0, 1]
        model.net.deconv3.conv2d.weight.mul_(150)
        model.net.deconv3.conv2d.bias.fill_(128)
    cpu_out, gpu_out = tmp_path / "cpu.mp4", tmp_path / "gpu.mp4"
    render(vfr_clip, model, cpu_out, device="cpu")
    result = render(vfr_clip, model, gpu_out, device="cuda", precision="fp16", batch=4, compile=True)
    assert result.device.startswith("cuda") and result.frames == 30
    assert video_pts_seconds(gpu_out) == pytest.approx(video_pts_seconds(cpu_out), abs=1e-3)
    assert timed_audio_packets(gpu_out) == timed_audio_packets(vfr_clip)
    assert min(psnr(a, b) for a, b in zip(read_frames(cpu_out), read_frames(gpu_out))) > 30


@needs_cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_yuv_matches_cpu_conversion():
    rgb = torch.rand(2, 3, 48, 64)
    assert torch.equal(rgb_to_yuv420(rgb), rgb_to_yuv420(rgb.cuda()).cpu())


def test_render_options_are_a_dataclass_with_user_defaults():
    options = RenderOptions()
    assert options.stabilize == 0.0 and options.audio and options.keep_hud is None


def test_keep_hud_auto_detects_the_hud_of_real_footage(tmp_path):
    import cv2

    from vidstyle.masks import detect_hud_timeline

    sample = Path(__file__).resolve().parent.parent / "samples" / "hacienda_320x240.mp4"
    grey = toy_model("test_grey_auto", lambda x: torch.full_like(x[:, :3], 0.5))
    out = tmp_path / "auto.mp4"
    render(sample, grey, out, keep_hud="auto", end=0.25)
    hud = detect_hud_timeline(sample, size=(320, 240)).at(0).astype(np.uint8)  # the first frame's HUD
    assert 0.01 < hud.mean() < 0.3
    inside = cv2.erode(hud, np.ones((5, 5), np.uint8)).astype(bool)
    outside = ~cv2.dilate(hud, np.ones((9, 9), np.uint8)).astype(bool)
    source, styled = read_frames(sample, end=0.25)[0], read_frames(out)[0]
    assert psnr(source[inside], styled[inside]) > 30  # the HUD came back
    assert np.abs(styled[outside].astype(int) - 128).mean() < 3  # the scene is stylized


def test_frames_are_decoded_at_the_model_size_only_when_nothing_needs_the_full_frame(vfr_clip, identity, tmp_path):
    from vidstyle.render._render import decode_size

    assert decode_size((320, 180), (1280, 720), needs_source=False) == (320, 180)
    assert decode_size((320, 180), (1280, 720), needs_source=True) == (1280, 720)  # --keep-hud, --stabilize
    assert decode_size((1280, 720), (640, 360), needs_source=False) == (640, 360)  # a model bigger than the output
    info = probe(vfr_clip)
    small = (info.width // 2 // 2 * 2, info.height // 2 // 2 * 2)
    result = render(vfr_clip, identity, tmp_path / "out.mp4", size=small)
    frames = read_frames(tmp_path / "out.mp4")
    assert result.work_size == small and len(frames) == 30
    assert frames[0].shape == (info.height, info.width, 3)
    assert psnr(frames[5], read_frames(vfr_clip)[5]) > 25  # shrunk and grown back, not garbage
