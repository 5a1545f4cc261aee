"""Generator designs, FLOP counter, checkpoints."""

from __future__ import annotations

import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.models import (FastGenerator, ModelConfig, PatchDiscriminator, Stylizer, architecture_names,
                             build_stylizer, flops_per_pixel, flush_negligible_weights, load_stylizer, save_checkpoint)


def test_builtin_designs_registered():
    assert {"fast", "texler"} <= set(architecture_names())


def test_texler_is_faithful_size_and_cost():
    model = build_stylizer(ModelConfig("texler"))
    params = sum(p.numel() for p in model.parameters())
    assert abs(params - 3.27e6) < 0.01e6  # REFERENCE section 1: 3.27 M parameters
    assert flops_per_pixel(model) == pytest.approx(2.05e6, rel=0.01)


def test_fast_design_is_at_least_10x_cheaper():
    fast = flops_per_pixel(build_stylizer(ModelConfig("fast")))
    texler = flops_per_pixel(build_stylizer(ModelConfig("texler")))
    assert fast <= 0.2e6
    assert texler / fast >= 10


def test_flops_counts_guide_channels():
    plain = flops_per_pixel(build_stylizer(ModelConfig("fast")))
    guided = flops_per_pixel(build_stylizer(ModelConfig("fast", guide_channels=3)))
    assert guided > plain


@pytest.mark.parametrize("arch", ["fast", "texler"])
@pytest.mark.parametrize("size", [(37, 29), (16, 16), (1, 5)])
def test_any_frame_size_maps_to_same_size_in_range(arch, size):
    model = build_stylizer(ModelConfig(arch, guide_channels=2)).eval()
    height, width = size
    with torch.no_grad():
        out = model(torch.rand(2, 5, height, width))
    assert out.shape == (2, 3, height, width)
    assert out.min() >= 0 and out.max() <= 1


def test_wrong_channel_count_is_rejected():
    model = build_stylizer(ModelConfig("fast"))
    with pytest.raises(ValueError, match=r"input must be \(B, 3, H, W\), got \(1, 4, 8, 8\)"):
        model(torch.rand(1, 4, 8, 8))


@pytest.mark.parametrize("arch", ["fast", "texler"])
def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, arch):
    model = build_stylizer(ModelConfig(arch, guide_channels=1, train_size=(33, 21)))
    with torch.no_grad():  # non-trivial weights and BatchNorm statistics
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    model.train()
    model(torch.rand(4, 4, 32, 32))
    model.eval()
    path = save_checkpoint(tmp_path / "m.pt", model)
    loaded = load_stylizer(path)
    x = torch.rand(1, 4, 21, 33)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert loaded.config.train_size == (33, 21) and loaded.config.guide_channels == 1


def test_checkpoint_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "vidstyle-model", "config": "{}", "obj": ModelConfig("fast")}, path)
    with pytest.raises(InputError, match="refused: the file holds code"):
        load_stylizer(path)


def test_discriminator_gives_6x6_logits_per_32px_patch():
    assert PatchDiscriminator()(torch.rand(3, 3, 32, 32)).shape == (3, 1, 6, 6)


def test_a_video_is_not_a_model(tmp_path):
    fake = tmp_path / "clip.pt"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        load_stylizer(fake)
    with pytest.raises(InputError, match="is a folder, not a model file"):
        load_stylizer(tmp_path)


def test_negligible_weights_are_flushed_on_load_and_outputs_do_not_change(tmp_path):
    torch.manual_seed(0)
    model = Stylizer(ModelConfig("fast")).eval()
    weight = next(model.net.parameters())
    with torch.no_grad():
        weight.view(-1)[:5] = torch.tensor([1e-30, -1e-25, 1e-21, 0.0, 0.5])
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        before = model(x)
    save_checkpoint(tmp_path / "m.pt", model)
    loaded = load_stylizer(tmp_path / "m.pt")
    assert next(loaded.net.parameters()).view(-1)[:5].tolist() == [0.0, 0.0, 0.0, 0.0, 0.5]
    with torch.no_grad():
        assert torch.equal(loaded(x), before)
    assert flush_negligible_weights(loaded) == 0  # nothing left to flush


def test_fast_antialias_keeps_strokes_in_place_under_a_one_pixel_shift():
    """The same weights with and without the low-pass before subsampling: shifting the
    input by 1 px moves the output by 1 px far more exactly with it; 4 px is exact for both."""
    torch.manual_seed(0)
    plain = FastGenerator().eval()
    for module in plain.modules():  # residual blocks start as identity; give them something to do
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.15)
    smooth = FastGenerator(antialias=True).eval()
    smooth.load_state_dict(plain.state_dict())
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 32, 40), size=(128, 160), mode="bicubic")
    image = (image + 0.1 * torch.rand(1, 3, 128, 160)).clamp(0, 1)

    def shift_error(net, s):
        with torch.no_grad():
            out, moved = net(image), net(image[..., s:])
        border = 48  # px: the zero padding at the frame's edge reaches this far in
        return (moved[..., border:-border, border:-border] - out[..., border:-border, border + s:-border]).abs().mean().item()

    assert shift_error(plain, 4) < 1e-5 and shift_error(smooth, 4) < 1e-5
    assert shift_error(smooth, 1) < 0.7 * shift_error(plain, 1)


def test_structural_edges_keep_a_scene_edge_and_drop_its_grain():
    """The edge input: a step between two flat areas answers strongly; a grain of 1 px dark
    lines over the same areas (every 4th row), which a plain Sobel of the luma answers as
    strongly, is filtered out by the median."""
    from vidstyle.models._fast import structural_edges
    image = torch.full((96, 96), 0.2)
    image[:, 48:] = 0.7
    image[2::4] -= 0.15
    rgb = image.expand(1, 3, 96, 96)
    edges = structural_edges(rgb)[0, 0]
    assert edges.shape == (96, 96)
    assert edges[8:-8, 48].min() >= 0.8  # the step: about twice the luma step of 0.5
    assert edges[:, :44].max() < 0.01 and edges[:, 52:].max() < 0.01  # the grain, and no edge at the frame's
    from kornia.filters import sobel
    assert (4.0 * sobel(rgb[:, :1]))[0, 0, 8:-8, 8:40].max() >= 0.25  # what the median took away


def test_edge_ridges_thin_a_soft_edge_to_its_crest_in_any_direction():
    """``ridges``: a soft edge (a sigmoid 7 px wide) gives a band of magnitude 7 px and more wide; its
    ridges keep the one or two pixels where the magnitude peaks across it, at the magnitude's value,
    whether the edge runs upright, level or diagonally; flat areas stay 0."""
    from vidstyle.models._fast import structural_edges
    ys, xs = torch.meshgrid(torch.arange(96.0), torch.arange(96.0), indexing="ij")
    for across in (xs - 48, ys - 48, (xs + ys - 96) / 2 ** 0.5, (xs - ys) / 2 ** 0.5):
        rgb = (0.2 + 0.5 * torch.sigmoid(across / 1.5)).expand(1, 3, 96, 96)
        magnitude, ridges = structural_edges(rgb)[0, 0], structural_edges(rgb, ridges=True)[0, 0]
        inner = (slice(12, -12), slice(12, -12))
        band, crest = (magnitude[inner] > 0.05).sum(), (ridges[inner] > 0.05).sum()
        assert band >= 7 * 72 * 0.9 and 0.9 * 72 <= crest <= 2 * 72 * 1.5  # 72 rows or diagonal steps
        kept = ridges[inner] > 0.05
        assert torch.equal(ridges[inner][kept], magnitude[inner][kept])
        assert magnitude[inner][kept].min() > 0.9 * magnitude[inner].max()
        assert ridges[inner][(across.abs() > 8)[inner]].max() < 0.01


def test_edge_link_carries_a_contour_strength_along_its_ridge_where_its_contrast_fades():
    """``link``: an edge whose step fades from 0.5 to 0.06 of luma keeps a strong ridge for some
    pixels past the fade, decaying step by step, and its own weak value beyond ``link`` steps; an
    isolated weak edge, and any edge without ``link``, keep their own magnitude."""
    from vidstyle.models._fast import LINK_DECAY, structural_edges
    rows = torch.arange(96.0)[:, None]
    fading = 0.5 - (0.044 * (rows - 40)).clamp(0, 0.44)  # full contrast above row 40, 0.06 from row 50
    luma = torch.where(torch.arange(96)[None] >= 48, 0.2 + fading, torch.tensor(0.2))
    luma[60:, 76:] = 0.32  # a step of 0.06 nothing strong touches
    rgb = luma.expand(1, 3, 96, 96).clone()
    ridges, linked = structural_edges(rgb, ridges=True)[0, 0], structural_edges(rgb, ridges=True, link=16)[0, 0]

    def crest(image: torch.Tensor, row: int, column: int) -> float:
        return float(image[row, column - 2:column + 2].max())

    weak = crest(ridges, 70, 48)
    assert 0.1 <= weak < 0.15 and crest(ridges, 55, 48) == pytest.approx(weak, abs=1e-3)
    assert crest(linked, 55, 48) > 3 * weak  # within reach of the strong part
    assert crest(linked, 52, 48) > crest(linked, 55, 48) > crest(linked, 58, 48)  # decaying along it
    assert crest(linked, 58, 48) <= LINK_DECAY ** 8 * crest(ridges, 30, 48)
    assert crest(linked, 70, 48) == pytest.approx(weak, abs=1e-6)  # out of reach
    assert crest(ridges, 80, 76) > 0.1
    assert crest(linked, 80, 76) == pytest.approx(crest(ridges, 80, 76), abs=1e-6)  # isolated
    assert torch.equal(linked >= 0.1, ridges >= 0.1)  # it strengthens ridges, never makes new ones
    with pytest.raises(ValueError, match="needs ridges=True"):
        structural_edges(rgb, link=4)


def test_fast_edges_build_is_recorded_and_old_checkpoints_keep_theirs(tmp_path):
    """New ``fast`` models see the edge channel (one more input to the first and last
    full-resolution layers); a checkpoint saved without the option rebuilds without it."""
    with_edges = Stylizer(ModelConfig("fast", guide_channels=2, arch_options={"edges": True}))
    assert with_edges.net.enc0.in_channels == 6 and with_edges.net.dec0.in_channels == 16 + 32 + 6
    assert with_edges(torch.rand(1, 5, 20, 28)).shape == (1, 3, 20, 28)
    save_checkpoint(tmp_path / "old.pt", Stylizer(ModelConfig("fast")))
    old = load_stylizer(tmp_path / "old.pt")
    assert old.net.edges is False and old.net.enc0.in_channels == 3
    assert with_edges.net.edge_ridges is False  # built before the ridges: the magnitude, as it was trained
    ridges = Stylizer(ModelConfig("fast", arch_options={"edges": True, "edge_ridges": True}))
    assert ridges.net.edge_ridges is True and ridges(torch.rand(1, 3, 20, 28)).shape == (1, 3, 20, 28)
    with pytest.raises(ValueError, match="needs edges=True"):
        Stylizer(ModelConfig("fast", arch_options={"edge_ridges": True}))
    assert ridges.net.edge_link == 0  # built before the links: the plain ridges
    with pytest.raises(ValueError, match="needs edge_ridges=True"):
        Stylizer(ModelConfig("fast", arch_options={"edges": True, "edge_link": 16}))
    without = Stylizer(ModelConfig("fast", guide_channels=2)).net
    assert 0 < flops_per_pixel(with_edges.net, 5) - flops_per_pixel(without, 5) < 1000  # two layers' extra input


def test_fast_in_channels_last_trains_the_same_whatever_the_batch_layout(monkeypatch):
    """``fast`` trains channels_last on the CPU, its patch batches too, and its upsampled maps
    hand their gradient back in channels_last (for speed): neither changes a number."""
    import vidstyle.models._fast as fast_module

    torch.manual_seed(0)
    net = FastGenerator().train()
    for module in net.modules():  # residual blocks start as identity; give them something to do
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.1)
    net = net.to(memory_format=torch.channels_last)
    image = torch.rand(4, 3, 37, 45)

    def step(layout):
        net.zero_grad()
        x = image.clone().contiguous(memory_format=layout).requires_grad_()
        out = net(x)
        out.square().mean().backward()
        return out.detach(), x.grad, [p.grad.clone() for p in net.parameters()]

    reference = step(torch.contiguous_format)
    batch_channels_last = step(torch.channels_last)
    assert batch_channels_last[1].is_contiguous(memory_format=torch.channels_last)
    monkeypatch.setattr(fast_module, "_upsample", lambda x, like: torch.nn.functional.interpolate(
        x, size=like.shape[-2:], mode="bilinear", align_corners=False))
    plain_upsampling = step(torch.channels_last)
    for other in (batch_channels_last, plain_upsampling):
        torch.testing.assert_close(other[0], reference[0], rtol=0, atol=0)
        torch.testing.assert_close(other[1], reference[1], rtol=0, atol=0)
        for grad, expected in zip(other[2], reference[2]):
            torch.testing.assert_close(grad, expected, rtol=0, atol=0)
