"""The learned temporal stage: the module, its training, checkpoints and the renderer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle._defaults import HOLD_STRETCH
from vidstyle.errors import UsageError
from vidstyle.flow import Motion, warp_numpy
from vidstyle.io import Codec
from vidstyle.metrics import flicker
from vidstyle.models import FusionConfig, TemporalFusion, load_stylizer, restore_detail, save_checkpoint
from vidstyle.render import FrameProcessor, Numerics, SourceFrame, render, resolve_runtime, stylize_clip
from vidstyle.train import ClipFlows, make_settings
from vidstyle.train._fusion import prepare_runs, sequence_starts, train_fusion

from ._fixtures_render import decoded_frames, fp32_only, moving_pattern, toy_model
from ._fixtures_train import moving_scene, psnr
from ._media import make_clip


def test_untrained_stage_is_a_half_blend_and_sees_the_flow_validity():
    fusion = TemporalFusion(FusionConfig(detail_gain=1.0))  # the blend alone, no detail restoration
    styled, previous = torch.rand(2, 3, 9, 11), torch.rand(2, 3, 9, 11)
    frame, previous_frame = torch.rand(2, 3, 9, 11), torch.rand(2, 3, 9, 11)
    flow = torch.zeros(2, 2, 9, 11)
    valid = torch.ones(2, 1, 9, 11)
    out = fusion(styled, previous, frame, previous_frame, flow, valid)
    assert torch.allclose(out, 0.5 * (styled + previous), atol=1e-6)
    torch.nn.init.normal_(fusion.net[-1].weight, std=0.5)  # as if trained: the weight depends on the inputs
    untrusted = fusion(styled, previous, frame, previous_frame, flow, torch.zeros_like(valid))
    assert not torch.allclose(untrusted, fusion(styled, previous, frame, previous_frame, flow, valid))
    with pytest.raises(ValueError, match="valid must be"):
        fusion(styled, previous, frame, previous_frame, flow, valid[:, :, :5])
    assert 5_000 < fusion.flops_per_pixel() < 20_000


def _fine_energy(image: torch.Tensor) -> float:
    return float((image - avg_pool3(image)).square().mean().detach())


def avg_pool3(image: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(image, 3, 1, 1, count_include_pad=False)


def test_restore_detail_gives_a_blend_of_unaligned_strokes_back_their_contrast():
    generator = torch.Generator().manual_seed(0)
    styled, previous = torch.rand(1, 3, 64, 64, generator=generator), torch.rand(1, 3, 64, 64, generator=generator)
    blend = 0.5 * (styled + previous)  # two unrelated textures: the average has half their energy
    restored = restore_detail(blend, styled)
    assert _fine_energy(blend) < 0.6 * _fine_energy(styled)
    assert 0.85 * _fine_energy(styled) < _fine_energy(restored) < 1.15 * _fine_energy(styled)
    # The coarse picture is the blend's: the correction only touches the fine band.
    assert torch.allclose(torch.nn.functional.avg_pool2d(restored, 16), torch.nn.functional.avg_pool2d(blend, 16),
                          atol=0.02)
    # Never above the gain limit, never below 1, nothing to do on aligned or flat images.
    assert _fine_energy(restore_detail(blend, styled, max_gain=1.2)) < 1.2 ** 2 * 1.01 * _fine_energy(blend)
    assert torch.allclose(restore_detail(styled, styled), styled, atol=1e-5)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(restore_detail(flat, flat * 2), flat, atol=1e-5)
    with pytest.raises(ValueError, match="equal"):
        restore_detail(blend, styled[..., :32])


def test_stage_keeps_detail_held_over_frames_that_a_bilinear_blend_loses():
    """Hold a texture still for 12 frames under a sub-pixel pan: the stage keeps it
    (bicubic warps, restored contrast); the stage of old checkpoints (bilinear, no
    restoration) blurs it a little more every frame."""
    generator = torch.Generator().manual_seed(1)
    texture = torch.rand(1, 3, 48, 64, generator=generator)
    flow = torch.full((1, 2, 48, 64), 0.5)
    flow[:, 1] = 0.0
    valid = torch.ones(1, 1, 48, 64)
    kept = {}
    for name, config in {"new": FusionConfig(), "old": FusionConfig.from_dict({"width": 16, "flow_preset": "fast"})}.items():
        fusion = TemporalFusion(config)
        out = texture
        for _ in range(12):
            styled = torch.rand(1, 3, 48, 64, generator=generator)  # the generator's strokes boil
            out = fusion(styled, out, texture, texture, flow, valid).clamp(0, 1)
        kept[name] = _fine_energy(out) / _fine_energy(styled)
    assert config.warp_mode == "bilinear" and config.detail_gain == 1.0  # old checkpoints render as trained
    assert kept["old"] < 0.5 < 0.8 < kept["new"]


def test_stage_lets_go_of_content_stretched_by_a_zoom_but_holds_under_a_pan():
    """limit_hold: a forward zoom of 5 % a frame magnifies what is held, and the
    stage holds less as that distortion accumulates. A pan never stretches."""
    height, width = 40, 48
    ys, xs = torch.meshgrid(torch.arange(height) - height / 2, torch.arange(width) - width / 2, indexing="ij")
    zoom = torch.stack((xs / 1.05 - xs, ys / 1.05 - ys))[None].float()
    pan = torch.zeros(1, 2, height, width)
    pan[:, 0] = 1.5
    alpha = torch.full((1, 1, height, width), 0.9)
    held = {}
    for name, flow in {"zoom": zoom, "pan": pan}.items():
        fusion = TemporalFusion(FusionConfig(stretch_limit=0.5))
        carried, weights = None, []
        for _ in range(20):
            scaled, carried = fusion.limit_hold(alpha, flow, carried)
            weights.append(float(scaled[..., 10:30, 12:36].mean()))
        held[name] = weights
    assert max(abs(w - 0.9) for w in held["pan"]) < 1e-5
    assert held["zoom"][0] == pytest.approx(0.9 * (1 - np.log(1.05) / 0.5), abs=1e-3)
    assert all(b < a for a, b in zip(held["zoom"][:4], held["zoom"][1:5]))  # lets go more as it accumulates
    # It settles where the fresh content mixed in balances the held layer's distortion:
    # u = D + s solves u - s = 0.9 u (1 - u / 0.5), so alpha = 0.9 (1 - u / 0.5) ~ 0.65.
    s = np.log(1.05)
    u = (-0.1 + np.sqrt(0.01 + 4 * 1.8 * s)) / (2 * 1.8)
    assert held["zoom"][-1] == pytest.approx(0.9 * (1 - u / 0.5), abs=0.01)
    off = TemporalFusion(FusionConfig(stretch_limit=0.0))
    assert off.limit_hold(alpha, zoom, None) == (alpha, None)
    assert FusionConfig.from_dict({"width": 16}).stretch_limit == FusionConfig().stretch_limit > 0


def test_sequence_starts_spread_over_the_clip():
    assert sequence_starts(100, 4, 5) == [0, 32, 63, 95]
    assert sequence_starts(6, 12, 5) == [0, 1]
    assert sequence_starts(4, 12, 5) == []


class _Flickering(torch.nn.Module):
    """A per-frame 'generator' whose output jumps in brightness from call to call."""

    def __init__(self) -> None:
        super().__init__()
        self.generator = torch.Generator().manual_seed(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        jump = 0.2 * (torch.rand(x.shape[0], 1, 1, 1, generator=self.generator) - 0.5)
        return (1 - x[:, :3] + jump).clamp(0, 1)


def test_trained_stage_lowers_flicker_and_moves_closer_to_the_steady_style():
    frames = moving_scene(16, 64, 48)
    inputs = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    settings = make_settings("fast", temporal_weight=1.0)
    runs = prepare_runs(ClipFlows(frames), settings)
    fusion, summary = train_fusion(_Flickering(), inputs, runs, settings, seconds=None, steps=60,
                                   clock=lambda: 0.0, device=torch.device("cpu"), rng=np.random.default_rng(0))
    assert fusion is not None and summary["steps"] == 60
    assert fusion.config.flow_preset == settings.fusion_flow == "medium"  # the renderer estimates motion alike
    model = toy_model("test_fusion_flicker", _Flickering())
    model.attach_fusion(fusion)
    steady = 255 - frames
    fused, alone = stylize_clip(model, frames), stylize_clip(model, frames, temporal=False)

    def warp_error(clip):  # against the true motion: the content moves 1 px left per frame
        flow = np.zeros(frames.shape[1:3] + (2,), np.float32)
        flow[..., 0] = -1
        return np.mean([np.abs(clip[t].astype(float) - warp_numpy(clip[t + 1], flow))[:, 2:-2].mean()
                        for t in range(len(clip) - 1)])

    assert warp_error(fused) < 0.6 * warp_error(alone)
    assert np.mean([psnr(f, s) for f, s in zip(fused, steady)]) > np.mean([psnr(a, s) for a, s in zip(alone, steady)])


def test_checkpoint_keeps_the_stage_and_renders_with_and_without_it(tmp_path):
    clip = make_clip(tmp_path / "moving.mp4", frames=12, size=(96, 72), audio=False, make_frame=moving_pattern)

    def jumpy_model(name):
        generator = torch.Generator().manual_seed(1)

        def jumpy(x):
            return (x[:, :3] + 0.15 * (torch.rand(x.shape[0], 1, 1, 1, generator=generator) - 0.5)).clamp(0, 1)

        return toy_model(name, jumpy)

    model = jumpy_model("test_fusion_render")
    model.attach_fusion(TemporalFusion(FusionConfig(flow_preset="ultrafast")))
    save_checkpoint(tmp_path / "m.pt", model)
    loaded = load_stylizer(tmp_path / "m.pt")
    assert loaded.config.fusion == {"width": 16, "flow_preset": "ultrafast", "warp_mode": "bicubic", "detail_gain": 2.0,
                                    "stretch_limit": HOLD_STRETCH}
    for a, b in zip(loaded.fusion.parameters(), model.fusion.parameters()):
        assert torch.equal(a, b)

    fused, per_frame, plain = tmp_path / "fused.mp4", tmp_path / "per_frame.mp4", tmp_path / "plain.mp4"
    # One model worker: the toy's random jumps follow the order of its calls.
    render(clip, model, fused, workers=1)
    render(clip, jumpy_model("test_fusion_render_2"), per_frame, temporal=False, workers=1)
    render(clip, jumpy_model("test_fusion_render_3"), plain, workers=1)
    assert all(np.array_equal(a, b) for a, b in zip(decoded_frames(per_frame), decoded_frames(plain)))
    source = decoded_frames(clip)
    assert len(decoded_frames(fused)) == len(source)
    before = flicker(decoded_frames(plain), source=source, tof=False).warp_error
    after = flicker(decoded_frames(fused), source=source, tof=False).warp_error
    assert after < 0.7 * before
    # A hold limit of almost nothing lets go wherever the flow is not an exact translation: nearly
    # the per-frame output (the stage still holds where the flow's slope is exactly 0).
    let_go = tmp_path / "let_go.mp4"
    render(clip, jumpy_model("test_fusion_render_4"), let_go, workers=1, hold_stretch=1e-6)
    distance = {name: np.mean([np.abs(a.astype(float) - b).mean() for a, b in zip(decoded_frames(path),
                                                                                   decoded_frames(plain))])
                for name, path in (("let_go", let_go), ("fused", fused))}
    assert distance["let_go"] < 0.5 * distance["fused"]
    # In memory, the same override: nothing held, the per-frame output. A generator whose flicker
    # depends only on the frame, so that every call paints the same.
    steady_jumps = toy_model("test_fusion_hold", lambda x: (x[:, :3] + 0.15 * torch.sin(
        1000 * x.mean(dim=(1, 2, 3), keepdim=True))).clamp(0, 1))
    steady_jumps.attach_fusion(model.fusion)
    frames = decoded_frames(clip)
    alone = stylize_clip(steady_jumps, frames, temporal=False).astype(int)
    let_go_here = np.abs(stylize_clip(steady_jumps, frames, hold_stretch=1e-6) - alone).mean()
    held_here = np.abs(stylize_clip(steady_jumps, frames) - alone).mean()
    assert let_go_here < 0.5 * held_here and held_here > 1
    assert model.fusion.config.stretch_limit == HOLD_STRETCH  # the override did not touch the model
    with pytest.raises(UsageError, match="hold_stretch"):
        render(clip, model, tmp_path / "bad.mp4", hold_stretch=-1.0)


def test_two_model_workers_give_the_same_temporal_output_as_one(tmp_path):
    clip = make_clip(tmp_path / "moving.mp4", frames=14, size=(96, 72), audio=False, make_frame=moving_pattern)
    model = toy_model("test_fusion_workers", lambda x: (1.0 - x[:, :3]).clamp(0, 1))
    fusion = TemporalFusion(FusionConfig(flow_preset="ultrafast"))
    torch.nn.init.normal_(fusion.net[-1].weight, std=0.3)  # a weight that depends on the inputs
    model.attach_fusion(fusion)
    one, two = tmp_path / "one.mp4", tmp_path / "two.mp4"
    render(clip, model, one, workers=1, threads=2, stabilize=0.3, codec=Codec.FFV1)
    render(clip, model, two, workers=2, threads=2, stabilize=0.3, codec=Codec.FFV1)
    first, second = decoded_frames(one), decoded_frames(two)
    assert len(first) == len(second) == 14
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_stylize_clip_leaves_the_callers_model_in_its_mode():
    model = toy_model("test_fusion_mode", lambda x: x[:, :3])
    model.attach_fusion(TemporalFusion(FusionConfig(flow_preset="ultrafast")))
    model.train()
    frames = moving_scene(3, 32, 24)
    assert stylize_clip(model, frames).shape == frames.shape
    assert model.training


def test_stage_follows_the_generator_when_it_falls_back_to_fp32(capsys):
    model = toy_model("test_fusion_fp32_only", fp32_only)
    model.attach_fusion(TemporalFusion(FusionConfig(flow_preset="ultrafast")))
    processor = FrameProcessor(model, resolve_runtime("cpu", "bf16", threads=1), work_size=(32, 24),
                               out_size=(32, 24))
    frames = moving_scene(2, 32, 24)
    motion = Motion(flow=np.zeros((24, 32, 2), np.float32), valid=np.ones((24, 32), np.float32))
    for index, (rgb, moved) in enumerate(zip(frames, (None, motion))):
        processor([SourceFrame(index=index, pts=index, time=index / 30, rgb=rgb, fusion_motion=moved)])
    # The generator's first call failed in bf16 and fell back; the stage must not be left in bf16.
    assert "running it in fp32" in capsys.readouterr().err
    assert processor.runner.numerics is Numerics.FP32
    assert all(p.dtype == torch.float32 for p in processor._fusion_runner.net.parameters())


def test_a_tight_time_share_uses_fewer_runs_and_still_trains():
    frames = moving_scene(40, 64, 48)
    inputs = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    settings = make_settings("fast", temporal_weight=1.0)
    runs = prepare_runs(ClipFlows(frames), settings)
    ticks = iter(range(10_000))  # a clock that moves one second per reading
    fusion, summary = train_fusion(_Flickering(), inputs, runs, settings, seconds=12, steps=None,
                                   clock=lambda: float(next(ticks)), device=torch.device("cpu"),
                                   rng=np.random.default_rng(0))
    assert len(runs) > 6 and 1 <= summary["runs"] <= 6  # half the share, one reading per run
    assert fusion is not None and summary["steps"] >= 3
    untimed, summary = train_fusion(_Flickering(), inputs, runs, settings, seconds=None, steps=2, clock=lambda: 0.0,
                                    device=torch.device("cpu"), rng=np.random.default_rng(0))
    assert summary["runs"] == len(runs)
