"""The few-shot trainer: learning, sampling, temporal losses, checkpoints, resume, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidstyle._defaults import EDGE_LINK, LINE_ART
from vidstyle.cli import main
from vidstyle.errors import Interrupted, UsageError
from vidstyle.flow import warp
from vidstyle.models import load_stylizer
from vidstyle.train import (ClipFlows, PatchSampler, compound_regularization, eroded_mask, make_settings, mirror_patches,
                            masked_l1, patch_detail, propagate_keyframes, propagation_positions, temporal_loss,
                            train)

from ._fixtures_render import read_frames
from ._fixtures_train import moving_scene, psnr, simple_style, write_frames, write_png


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 6-frame 64x56 clip as a frame folder and one painted keyframe (frame 2)."""
    root = tmp_path_factory.mktemp("scene")
    frames = moving_scene(6, 64, 56)
    source = write_frames(root / "frames", frames)
    keys = root / "keys"
    write_png(keys / "002.png", simple_style(frames[2]))
    return root, source, keys, frames


FAST = dict(temporal_weight=0.5, device="cpu", threads=1, patch_size=16, batch_size=8)
STEPS = 160


@pytest.fixture(scope="module")
def trained(scene):
    root, source, keys, frames = scene
    result = train(source, keys, root / "model.pt", steps=STEPS, **FAST)
    return result


def test_loss_falls_and_keyframe_is_reproduced(scene, trained):
    _, _, _, frames = scene
    first = np.mean([row["l1"] for row in trained.history[:10]])
    last = np.mean([row["l1"] for row in trained.history[-10:]])
    assert last < first / 3
    with torch.no_grad():
        x = torch.from_numpy(frames[2]).permute(2, 0, 1)[None].float() / 255
        out = (trained.model(x)[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    keyframe_psnr = psnr(out, simple_style(frames[2]))
    print(f"keyframe PSNR {keyframe_psnr:.2f} dB after {STEPS} steps")
    # The texture loss trades some PSNR for texture: 27.7 dB here at 160 steps (L1 alone: 30+).
    assert keyframe_psnr >= 26.5
    assert trained.losses == ["l1", "texture"]  # fast: texture loss and a temporal stage, no pair loss
    assert trained.model.fusion is not None
    assert trained.temporal_stage["steps"] == 29  # 15 % of the run: ceil(160 * 0.15 / 0.85)
    assert trained.steps == STEPS and len(trained.history) == STEPS
    assert trained.contact_sheet is not None and trained.contact_sheet.is_file()


def test_checkpoint_round_trip_is_identical_at_odd_size(scene, trained):
    root, _, _, frames = scene
    loaded = load_stylizer(root / "model.pt")
    assert loaded.config.arch == "fast" and loaded.config.train_size == (64, 56)
    assert loaded.config.arch_options == {}  # fast's build options: the design's defaults
    assert loaded.config.info["steps"] == STEPS
    colour = loaded.config.info["colour_map"]  # fitted on the keyframe and folded in (fast's default)
    assert len(colour["matrix"]) == 3 and len(colour["shift"]) == 3
    x = torch.rand(1, 3, 23, 37)  # odd size, never seen in training
    with torch.no_grad():
        assert torch.equal(loaded(x), trained.model(x))


def test_resume_continues_step_count(scene, trained, tmp_path):
    root, source, keys, _ = scene
    model = tmp_path / "m.pt"
    model.write_bytes((root / "model.pt").read_bytes())
    result = train(source, keys, model, steps=STEPS + 3, resume=True, **FAST)
    assert result.steps == STEPS + 3 and len(result.history) == STEPS + 3
    assert result.history[STEPS - 1] == trained.history[STEPS - 1]
    assert load_stylizer(model).config.info["steps"] == STEPS + 3
    assert len(load_stylizer(model).config.info["colour_map"]["matrix"]) == 3  # calibrated again


def test_resume_without_steps_keeps_the_colour_map_record(scene, trained, tmp_path):
    root, source, keys, _ = scene
    model = tmp_path / "m.pt"
    model.write_bytes((root / "model.pt").read_bytes())
    before = load_stylizer(model).config.info["colour_map"]
    train(source, keys, model, steps=STEPS, resume=True, **FAST)  # the budget is used up: no step, no new map
    assert load_stylizer(model).config.info["colour_map"] == before


def test_resume_keeps_the_build_options_the_run_started_with(scene, trained, tmp_path):
    """A run resumes with the build options it started with, not the design's defaults."""
    root, source, keys, _ = scene
    model = tmp_path / "m.pt"
    saved = torch.load(root / "model.pt", weights_only=False)
    config = json.loads(saved["config"])
    config["arch_options"] = {"antialias": True}
    saved["config"] = json.dumps(config)
    torch.save(saved, model)
    train(source, keys, model, steps=STEPS + 2, resume=True, **FAST)
    resumed = load_stylizer(model)
    assert resumed.config.arch_options == {"antialias": True} and resumed.net.antialias is True


def test_edges_build_a_model_with_the_edge_input_and_say_where_they_do_not_apply(scene, trained, tmp_path):
    """``edges`` gives a new fast model the edge channel (recorded, so it renders the same);
    with another design, or to resume a model built without it, it is a one-line error."""
    root, source, keys, frames = scene
    result = train(source, keys, tmp_path / "e.pt", steps=3, edges=True, **FAST)
    loaded = load_stylizer(tmp_path / "e.pt")
    assert loaded.config.arch_options == {"edges": True, "edge_ridges": True, "edge_link": EDGE_LINK}
    assert loaded.net.enc0.in_channels == 4 and loaded.net.edge_link == EDGE_LINK > 0
    assert result.model.net.edges is True and loaded.net.edge_ridges is True
    with pytest.raises(UsageError, match="edges .* fast design, not texler"):
        train(source, keys, tmp_path / "t.pt", steps=3, edges=True, arch="texler", **FAST)
    model = tmp_path / "m.pt"
    model.write_bytes((root / "model.pt").read_bytes())
    with pytest.raises(UsageError, match="built without the edge input"):
        train(source, keys, model, steps=STEPS + 2, resume=True, edges=True, **FAST)


def test_line_art_is_the_edge_input_with_its_settings_where_not_given(scene, tmp_path):
    """``line_art``: the edge input, and LINE_ART's texture weight and detail sampling unless given;
    with another design it is a one-line error naming it."""
    _, source, keys, _ = scene
    result = train(source, keys, tmp_path / "l.pt", steps=3, line_art=True, **FAST)
    assert result.model.net.edges is True
    assert (result.settings.texture_weight, result.settings.detail_sampling, result.settings.mirror) == \
        (LINE_ART["texture_weight"], LINE_ART["detail_sampling"], LINE_ART["mirror"])
    assert LINE_ART["texture_weight"] != make_settings("fast").texture_weight  # the preset changes something
    given = train(source, keys, None, steps=2, line_art=True, texture_weight=2.0, detail_sampling=0.0, mirror=0.0,
                  **FAST)
    assert (given.settings.texture_weight, given.settings.detail_sampling, given.settings.mirror) == (2.0, 0.0, 0.0)
    with pytest.raises(UsageError, match="line_art") as error:
        train(source, keys, tmp_path / "t.pt", steps=3, line_art=True, arch="texler", **FAST)
    assert error.value.params[0] == "line_art"


def test_ctrl_c_keeps_a_resumable_checkpoint(scene, tmp_path, capsys, monkeypatch):
    _, source, keys, _ = scene
    model = tmp_path / "m.pt"

    def interrupt_at_step_3(record):
        if record["step"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match=f"saved the model at step 3 to {model}") as caught:
        train(source, keys, model, steps=6, callback=interrupt_at_step_3, **FAST)
    assert str(caught.value).endswith("(continue with resume=True)")  # a Python caller's words
    assert load_stylizer(model).config.info["steps"] == 3
    assert train(source, keys, model, steps=6, resume=True, **FAST).steps == 6

    # The CLI says what was kept, in one line, with its flag, and exits 130.
    def interrupted_train(*args, **kwargs):
        raise caught.value

    monkeypatch.setattr("vidstyle.train.train", interrupted_train)
    code = main(["train", str(source), "--keyframes", str(keys), "-o", str(tmp_path / "n.pt"), "--steps", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    assert err[-1] == f"vidstyle: interrupted; saved the model at step 3 to {model} (continue with --resume)"


def test_same_seed_same_model_on_cpu(scene, tmp_path):
    _, source, keys, _ = scene
    runs = [train(source, keys, None, steps=4, seed=7, **FAST) for _ in range(2)]
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        assert torch.equal(a, b)


def test_odd_frame_size_trains_with_texler_and_masks(tmp_path):
    frames = moving_scene(3, 41, 35, seed=3)
    source = write_frames(tmp_path / "f", frames)
    keys = write_png(tmp_path / "k" / "0.png", simple_style(frames[0])).parent
    mask = np.zeros((35, 41), np.uint8)
    mask[:, :30] = 255
    masks = write_png(tmp_path / "m" / "0000.png", mask).parent
    result = train(source, keys, tmp_path / "t.pt", masks=masks, arch="texler", steps=2, temporal_weight=0,
                   device="cpu", threads=1, batch_size=4)
    with torch.no_grad():
        out = load_stylizer(tmp_path / "t.pt")(torch.rand(1, 3, 35, 41))
    assert out.shape == (1, 3, 35, 41) and result.losses == ["l1", "gan"]
    assert result.model.fusion is None and load_stylizer(tmp_path / "t.pt").fusion is None  # temporal off


def test_patch_centres_stay_in_eroded_mask_and_keyframes_alternate():
    masks = {}
    for key, (top, left) in {3: (5, 5), 9: (20, 30)}.items():
        mask = np.zeros((60, 80), bool)
        mask[top:top + 30, left:left + 40] = True
        mask[top + 10, left + 10] = False  # a hole: erosion must avoid it
        masks[key] = mask
    sampler = PatchSampler(masks, 16, np.random.default_rng(0))
    picks = sampler.sample(400)
    assert [k for k, _, _ in picks[:6]] == [3, 9, 3, 9, 3, 9]
    for key, top, left in picks:
        assert eroded_mask(masks[key])[top + 8, left + 8]
        assert 0 <= top and top + 16 <= 60 and 0 <= left and left + 16 <= 80
    centres = [(t, l) for k, t, l in picks if k == 3]
    assert len(set(centres)) == len(centres)  # without replacement until exhausted


def _shifted_sequence(shift: int = 2):
    rng = np.random.default_rng(1)
    base = torch.from_numpy(rng.random((1, 3, 40, 60), dtype=np.float32))
    base = torch.nn.functional.avg_pool2d(base, 3, 1, 1)
    flow = torch.zeros(1, 2, 40, 40)
    flow[:, 0] = shift  # frame a(x) = frame b(x + shift)
    a = base[..., 10:50]
    b = base[..., 10 - shift:50 - shift]
    return a, b, flow


def test_temporal_loss_zero_for_exact_warp_and_grows_with_flicker():
    a, b, flow = _shifted_sequence()
    inside = torch.ones(1, 1, 40, 40)
    inside[..., 38:] = 0  # these pixels move out of frame b
    assert temporal_loss(a, b, flow, inside).item() < 1e-6
    assert temporal_loss(a, b, flow).item() > 1e-4  # without the mask the border counts
    gen = torch.Generator().manual_seed(0)
    losses = [temporal_loss(a, (b + amount * torch.randn(b.shape, generator=gen)).clamp(0, 1), flow,
                            inside).item() for amount in (0.01, 0.05, 0.2)]
    assert losses[0] > 1e-3 and losses[0] < losses[1] < losses[2]
    assert temporal_loss(a, b + 0.1, flow, inside).item() == pytest.approx(0.1, abs=1e-4)


def test_temporal_loss_ignores_masked_pixels():
    a, b, flow = _shifted_sequence()
    b = b.clone()
    b[..., :, 20:] += 0.5
    mask = torch.ones(1, 1, 40, 40)
    mask[..., :, 17:] = 0  # where the shifted b is changed (and the out-of-frame border)
    assert masked_l1(a, warp(b, flow), mask).item() < 1e-6
    assert temporal_loss(a, b, flow, mask).item() < 1e-6


def test_compound_regularization_zero_for_pointwise_generator():
    x = torch.rand(2, 3, 32, 32)
    identity = torch.nn.Identity()
    assert compound_regularization(identity, x, noise=0.0).item() < 1e-5
    assert compound_regularization(lambda t: (t * 7).sin(), x, noise=0.05).item() > 1e-3


@pytest.mark.parametrize("setup, message", [
    ("name", "is not a frame index"),
    ("past", "past the end"),
    ("broken", "not a readable image"),
    ("mask", "no mask for keyframe"),
    ("blackmask", "entirely black"),
])
def test_bad_keyframe_and_mask_inputs_exit_2_with_one_line(scene, tmp_path, capsys, setup, message):
    _, source, keys, frames = scene
    painted = simple_style(frames[0])
    bad = tmp_path / "bad"
    args = ["train", str(source), "--keyframes", str(bad), "-o", str(tmp_path / "m.pt"), "--steps", "1", "-q"]
    if setup == "name":
        write_png(bad / "key.png", painted)
    elif setup == "past":
        write_png(bad / "0099.png", painted)
    elif setup == "broken":
        bad.mkdir()
        (bad / "0001.png").write_bytes(b"not a png")
    else:
        write_png(bad / "0001.png", painted)
        masks = tmp_path / "masks"
        write_png(masks / ("0003.png" if setup == "mask" else "0001.png"), np.zeros((56, 64), np.uint8))
        args += ["--masks", str(masks)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("vidstyle: error:") and message in err
    assert not (tmp_path / "m.pt").exists()


def test_negative_temporal_term_weight_exits_2_with_one_line(scene, tmp_path, capsys):
    _, source, keys, _ = scene
    assert main(["train", str(source), "--keyframes", str(keys), "-o", str(tmp_path / "m.pt"), "--steps", "1",
                 "--fusion-weight", "-1", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "vidstyle: error: --fusion-weight must not be negative (got -1)"
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "-1", "--lr must be positive (got -1)"),
    ("--lr", "0", "--lr must be positive (got 0)"),
    ("--batch-size", "0", "--batch-size must be at least 1 (got 0)"),
    ("--gan-weight", "-1", "--gan-weight must not be negative (got -1)"),
])
def test_bad_optimiser_settings_exit_2_with_one_line(scene, tmp_path, capsys, option, value, message):
    _, source, keys, _ = scene
    assert main(["train", str(source), "--keyframes", str(keys), "-o", str(tmp_path / "m.pt"), "--steps", "1",
                 option, value, "-q"]) == 2
    assert capsys.readouterr().err.strip() == f"vidstyle: error: {message}"
    assert not (tmp_path / "m.pt").exists()


def test_keyframe_of_other_size_is_resized_with_warning(scene, tmp_path, capsys):
    _, source, _, frames = scene
    keys = write_png(tmp_path / "k" / "1.png", simple_style(np.repeat(np.repeat(frames[1], 2, 0), 2, 1))).parent
    assert main(["train", str(source), "--keyframes", str(keys), "-o", str(tmp_path / "m.pt"), "--steps", "1",
                 "--temporal-weight", "0", "--threads", "1", "-q"]) == 0
    assert "resizing it to 64x56" in capsys.readouterr().err


def test_existing_output_needs_overwrite(scene, tmp_path, capsys):
    _, source, keys, _ = scene
    (tmp_path / "m.pt").write_bytes(b"x")
    assert main(["train", str(source), "--keyframes", str(keys), "-o", str(tmp_path / "m.pt"), "--steps", "1",
                 "-q"]) == 2
    assert "overwrite" in capsys.readouterr().err


@pytest.mark.needs_cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_cuda_and_checkpoint_loads_on_cpu(scene, tmp_path):
    _, source, keys, _ = scene
    result = train(source, keys, tmp_path / "g.pt", steps=3, device="cuda", patch_size=16, batch_size=8)
    assert result.steps == 3
    with torch.no_grad():
        assert load_stylizer(tmp_path / "g.pt", "cpu")(torch.rand(1, 3, 20, 30)).shape == (1, 3, 20, 30)


def test_texler_train_folder_counts_from_one(scene, tmp_path):
    _, source, _, frames = scene
    project = tmp_path / "Clip_train"
    write_png(project / "output" / "004.png", simple_style(frames[3]))  # Texler's 004 = frame 3
    mask = np.full((56, 64), 255, np.uint8)
    write_png(project / "mask" / "004.png", mask)
    result = train(source, project, None, steps=1, device="cpu", threads=1, temporal_weight=0,
                   patch_size=16, batch_size=4)
    assert result.keyframes == [3]


def test_sampler_weights_set_each_keys_share():
    masks = {key: np.ones((40, 40), bool) for key in (1, 5, 9)}
    sampler = PatchSampler(masks, 16, np.random.default_rng(0), weights={5: 2.0, 9: 0.5})
    counts = {key: 0 for key in masks}
    for key, _, _ in sampler.sample(140):
        counts[key] += 1
    assert counts == {1: 40, 5: 80, 9: 20}


def _half_painted(height: int = 60, width: int = 120) -> np.ndarray:
    """Flat grey on the left, black and white stripes 4 px wide on the right."""
    painting = np.full((height, width, 3), 128, np.uint8)
    stripes = (np.arange(width // 2) // 4 % 2 * 255).astype(np.uint8)
    painting[:, width // 2:] = stripes[None, :, None]
    return painting


def test_patch_detail_is_the_gradient_energy_under_each_patch():
    painting = _half_painted()
    detail = patch_detail(painting, 16)
    assert detail.shape == (60, 120) and detail.dtype == np.float32
    assert detail[30, 20] == 0  # the patch lies in the flat half
    assert detail[30, 100] > 2 * detail[30, 56] > 0  # among the stripes; a patch that reaches only their edge
    assert patch_detail(np.zeros((20, 20, 3), np.uint8), 8).max() == 0
    with pytest.raises(ValueError, match="painting"):
        patch_detail(painting[..., 0], 16)


def test_patch_detail_counts_only_the_masked_pixels():
    # A propagated target is black where its flow was not trusted: that edge is not a stroke.
    painting = np.full((60, 120, 3), 200, np.uint8)
    painting[:, 80:] = 0
    valid = np.ones((60, 120), bool)
    valid[:, 80:] = False
    assert patch_detail(painting, 16)[30, 80] > 0
    assert patch_detail(painting, 16, valid).max() == 0
    striped = _half_painted()
    assert patch_detail(striped, 16, valid)[30, 68] == patch_detail(striped, 16)[30, 68] > 0  # clear of the edge
    everywhere = np.ones((60, 120), bool)
    np.testing.assert_array_equal(patch_detail(striped, 16, everywhere), patch_detail(striped, 16))
    with pytest.raises(ValueError, match="mask"):
        patch_detail(painting, 16, valid[:, :100])


def test_detail_sampling_draws_where_the_painting_has_strokes():
    painting = _half_painted()
    masks = {0: np.ones(painting.shape[:2], bool)}

    def striped_share(emphasis: float) -> float:
        sampler = PatchSampler(masks, 16, np.random.default_rng(0), emphasis=emphasis, paintings={0: painting})
        picks = sampler.sample(2000)
        for _, top, left in picks:
            assert 0 <= top <= 60 - 16 and 0 <= left <= 120 - 16
        return float(np.mean([left + 16 >= 60 for _, _, left in picks]))  # the patch holds or borders stripes

    uniform, half, full = striped_share(0.0), striped_share(0.5), striped_share(1.0)
    assert 0.5 < uniform < 0.65  # 61 of the 105 patch positions across
    assert full == 1.0  # no patch of flat grey is drawn
    assert uniform + 0.15 < half < full  # the other half of the draws stays uniform
    with pytest.raises(UsageError, match="detail_sampling must be in"):
        make_settings("fast", detail_sampling=1.5)
    assert make_settings("fast", detail_sampling=0.5).detail_sampling == 0.5


def test_mirror_patches_flips_the_chosen_patches_with_their_painting_and_mask():
    source, painting = torch.rand(3, 4, 8, 8), torch.rand(3, 3, 8, 8)
    mask = torch.rand(3, 1, 8, 8) > 0.5
    x, y, m, none = mirror_patches(np.array([True, False, True]), source, painting, mask, None)
    for i, flipped in enumerate((True, False, True)):
        for got, given in ((x, source), (y, painting), (m, mask)):
            assert torch.equal(got[i], given[i].flip(-1) if flipped else given[i])
    assert none is None and not torch.equal(source[0], source[0].flip(-1))


def test_mirror_share_sets_how_many_training_patches_are_mirrored(scene, monkeypatch):
    """``mirror``: each step mirrors about that share of its patches (every one at 1, none at 0,
    the call skipped); the run's settings record it; out of [0, 1] is a one-line error."""
    import vidstyle.train._step as step
    _, source, keys, _ = scene
    shares: list[float] = []

    def spy(flip, *batches):
        shares.append(float(np.mean(flip)))
        return mirror_patches(flip, *batches)

    monkeypatch.setattr(step, "mirror_patches", spy)
    assert train(source, keys, None, steps=3, mirror=1.0, **FAST).settings.mirror == 1.0
    assert shares == [1.0, 1.0, 1.0]
    shares.clear()
    train(source, keys, None, steps=3, **FAST)
    assert shares == [] and make_settings("fast").mirror == 0.0
    train(source, keys, None, steps=30, mirror=0.5, **FAST)
    assert 0.3 < np.mean(shares) < 0.7 and len(shares) == 30
    with pytest.raises(UsageError, match="mirror must be in"):
        make_settings("fast", mirror=1.5)


def test_propagation_plan_takes_nearer_keyframe_and_skips_keyframes():
    plan = propagation_positions(20, [4, 8], offsets=(1, 2, 4))
    assert plan[5] == 4 and plan[7] == 8 and plan[6] == 4  # equidistant: the first keyframe
    assert 4 not in plan and 8 not in plan
    assert plan[0] == 4 and plan[12] == 8 and 13 not in plan and 1 not in plan


def test_propagated_keyframe_is_the_painting_moved_with_the_content():
    frames = moving_scene(10, 64, 48, seed=3)  # pans 1 px per frame
    painted = {4: simple_style(frames[4])}
    flows = ClipFlows(frames)
    items = propagate_keyframes(flows, painted, {4: np.ones((48, 64), bool)}, offsets=(1, 4))
    assert sorted(item.position for item in items) == [0, 3, 5, 8]
    for item in items:
        truth = simple_style(frames[item.position])  # what painting that frame would give
        assert item.valid.mean() > 0.5
        inner = item.valid.copy()
        inner[:, :6] = inner[:, -6:] = False
        error = np.abs(item.target.astype(int) - truth.astype(int))[inner]
        assert np.median(error) <= 2 and error.mean() < 8


def test_training_precision_follows_the_hardware_and_can_be_forced(monkeypatch):
    from vidstyle.errors import UsageError
    from vidstyle.train import _settings

    cpu = torch.device("cpu")
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(_settings, "cpu_has_native_bf16", lambda native=native: native)
        chosen, autocast, channels_last = _settings.training_numerics(cpu, "auto")
        assert chosen.value == expected and channels_last is (expected == "bf16")
    chosen, autocast, channels_last = _settings.training_numerics(cpu, "bf16")
    with autocast:
        out = torch.nn.functional.conv2d(torch.rand(1, 3, 8, 8), torch.rand(4, 3, 3, 3))
    assert out.dtype == torch.bfloat16 and channels_last
    chosen, autocast, channels_last = _settings.training_numerics(cpu, "fp32")
    with autocast:
        out = torch.nn.functional.conv2d(torch.rand(1, 3, 8, 8), torch.rand(4, 3, 3, 3))
    assert out.dtype == torch.float32 and not channels_last
    with pytest.raises(UsageError, match="unknown precision 'fp8'"):
        _settings.training_numerics(cpu, "fp8")
    with pytest.raises(UsageError, match="not fp16"):
        _settings.training_numerics(cpu, "fp16")


def test_fp32_and_bf16_training_both_learn(scene):
    _, source, keys, frames = scene
    for precision in ("fp32", "bf16"):
        result = train(source, keys, None, steps=60, precision=precision, **FAST)
        first, last = (np.mean([row["l1"] for row in rows]) for rows in (result.history[:5], result.history[-5:]))
        assert last < 0.6 * first, precision
        assert next(result.model.parameters()).dtype == torch.float32


def test_a_clip_too_big_for_memory_is_refused_before_decoding(tmp_path):
    from vidstyle.errors import InputError
    from vidstyle.train._data import _check_fits_in_memory

    _check_fits_in_memory(tmp_path / "a.mp4", 100, (640, 360), available=2**30)  # 69 MB of frames: fine
    with pytest.raises(InputError, match=r"36000 frames at 1920x1080 take 208.6 GiB .*\(start, end\)"):
        _check_fits_in_memory(tmp_path / "a.mp4", 36000, (1920, 1080), available=16 * 2**30)
    _check_fits_in_memory(tmp_path / "a.mp4", None, (1920, 1080), available=2**30)  # unknown length: no guess


def test_training_on_part_of_a_clip_keeps_source_frame_indices(scene, tmp_path):
    from vidstyle.errors import InputError
    from ._media import make_clip

    clip = make_clip(tmp_path / "c.mp4", frames=30, size=(64, 48), audio=False)
    frames = read_frames(clip)
    keys = tmp_path / "keys"
    write_png(keys / "0020.png", simple_style(frames[20]))
    model = tmp_path / "m.pt"
    result = train(clip, keys, model, start=0.5, end=1.25, steps=6, **FAST)  # frames 10..24 at 20 fps
    assert result.keyframes == [20]
    assert load_stylizer(model).config.info["range"] == [0.5, 1.25]
    assert train(clip, keys, model, steps=8, resume=True, **FAST).steps == 8
    assert load_stylizer(model).config.info["range"] == [0.5, 1.25]  # the resumed run kept its frames
    with pytest.raises(InputError, match="past the end of the frames trained on, 0..9"):
        train(clip, keys, None, end=0.5, steps=2, **FAST)


def test_load_clip_keeps_every_frame_when_the_count_estimate_is_off(scene, monkeypatch):
    from vidstyle.io import FrameReader
    from vidstyle.train import load_clip

    _, source, _, frames = scene
    for estimate in (2, 50, None):
        monkeypatch.setattr(FrameReader, "expected_frames", property(lambda self, e=estimate: e))
        clip = load_clip(source)
        assert clip.frames.shape == frames.shape and np.array_equal(clip.frames, frames)
        assert clip.indices == sorted(clip.indices) and len(clip.indices) == len(frames)
