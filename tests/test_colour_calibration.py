"""Colour calibration: the keyframe colour map fitted after training and folded into the generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.models import ModelConfig, Stylizer, build_stylizer
from vidstyle.train import calibrate_colours, gaussian_colour_map
from vidstyle.train._colour import COLOUR_GAIN_LIMITS


def _random_fast(seed: int = 0) -> Stylizer:
    torch.manual_seed(seed)
    model = build_stylizer(ModelConfig("fast"))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.05)
    return model.eval()


def test_map_carries_mean_and_covariance_onto_the_target() -> None:
    rng = np.random.default_rng(0)
    source = rng.random((6000, 3)) * 0.6 + 0.2
    mixing = np.array([[1.3, 0.2, 0.0], [0.1, 0.8, 0.0], [0.0, 0.1, 1.1]])
    target = rng.permutation(source @ mixing.T - 0.1)  # unpaired: only the distribution counts
    matrix, shift = gaussian_colour_map(source, target)
    mapped = source @ matrix.T + shift
    np.testing.assert_allclose(mapped.mean(0), target.mean(0), atol=1e-6)
    np.testing.assert_allclose(np.cov(mapped.T), np.cov(target.T), atol=2e-4)
    assert np.allclose(matrix, matrix.T)  # the optimal-transport map between Gaussians is symmetric


def test_map_is_the_identity_for_the_same_distribution_and_its_gains_are_limited() -> None:
    rng = np.random.default_rng(1)
    colours = rng.random((4000, 3))
    matrix, shift = gaussian_colour_map(colours, rng.permutation(colours))
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(shift, 0.0, atol=1e-6)
    flat = colours * 0.01 + 0.5  # a nearly flat source: the exact map would multiply by ~100
    gains = np.linalg.eigvalsh(gaussian_colour_map(flat, colours)[0])
    assert gains.max() <= COLOUR_GAIN_LIMITS[1] + 1e-9 and gains.min() >= COLOUR_GAIN_LIMITS[0] - 1e-9
    with pytest.raises(ValueError, match="source"):
        gaussian_colour_map(colours[:, :2], colours)


def test_fold_equals_the_map_applied_to_the_output() -> None:
    net = _random_fast().net.train()  # linear output (no clamp) while training
    x = torch.rand(2, 3, 30, 44)
    before = net(x).detach()
    matrix = torch.tensor([[1.1, 0.05, 0.0], [0.05, 0.9, 0.02], [0.0, 0.02, 1.2]])
    shift = torch.tensor([0.02, -0.01, 0.03])
    net.fold_colour_map(matrix, shift)
    expected = torch.einsum("ij,bjhw->bihw", matrix, before) + shift.view(1, 3, 1, 1)
    torch.testing.assert_close(net(x).detach(), expected, atol=1e-5, rtol=0)


def _colour_stats(image: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    pixels = image.permute(1, 2, 0).reshape(-1, 3).double().numpy()
    return pixels.mean(0), np.cov(pixels.T)


def test_calibration_gives_the_keyframe_output_the_paintings_colours() -> None:
    """A generator whose keyframe output is too dark and flat gets the painting's statistics."""
    model = _random_fast(2)
    frames = torch.randint(0, 256, (3, 3, 48, 64), dtype=torch.uint8)
    with torch.no_grad():
        output = model(frames[1:2].float() / 255)[0]
    # The painting: the output brighter and with 1.4x its contrast (and its pixels shuffled within
    # the frame: the calibration compares distributions, not pixels).
    painting = ((output - output.mean()) * 1.4 + output.mean() + 0.08).clamp(0, 1)
    painting = painting.flatten(1)[:, torch.randperm(48 * 64)].view(3, 48, 64)
    record = calibrate_colours(model, frames, {7: (painting * 255).round().byte()}, {7: 1},
                               {7: np.ones((48, 64), bool)})
    assert "matrix" in record and len(record["shift"]) == 3
    brighter = _colour_stats(painting)[0] - _colour_stats(output)[0]
    assert brighter.min() > 0.05
    np.testing.assert_allclose(record["mean_change"], brighter, atol=0.01)
    with torch.no_grad():
        calibrated = model(frames[1:2].float() / 255)[0]
    mean, cov = _colour_stats(calibrated)
    want_mean, want_cov = _colour_stats(painting)
    np.testing.assert_allclose(mean, want_mean, atol=0.01)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(want_cov)), rtol=0.08)
    before_mean, _ = _colour_stats(output)
    assert np.abs(before_mean - want_mean).max() > 0.05  # it did have something to correct


def test_strength_zero_changes_nothing_and_a_masked_keyframe_uses_its_painted_pixels_only() -> None:
    model = _random_fast(3)
    frames = torch.randint(0, 256, (1, 3, 40, 40), dtype=torch.uint8)
    painting = torch.full((3, 40, 40), 255, dtype=torch.uint8)
    painting[:, :, :20] = torch.randint(0, 256, (3, 40, 20), dtype=torch.uint8)
    x = frames.float() / 255
    with torch.no_grad():
        before = model(x)
    calibrate_colours(model, frames, {0: painting}, {0: 0}, {0: np.ones((40, 40), bool)}, strength=0.0)
    with torch.no_grad():
        assert torch.equal(model(x), before)
    mask = np.zeros((40, 40), bool)
    mask[:, :20] = True  # the white half is not painted: it must not pull the colours to white
    calibrate_colours(model, frames, {0: painting}, {0: 0}, {0: mask})
    with torch.no_grad():
        after = model(x)[0]
    assert after.mean().item() < 0.7


def test_designs_without_a_linear_output_are_skipped_and_tiny_masks_too() -> None:
    texler = build_stylizer(ModelConfig("texler")).eval()
    frames = torch.zeros((1, 3, 32, 32), dtype=torch.uint8)
    painting = torch.zeros((3, 32, 32), dtype=torch.uint8)
    record = calibrate_colours(texler, frames, {0: painting}, {0: 0}, {0: np.ones((32, 32), bool)})
    assert "linear output layer" in record["skipped"]
    mask = np.zeros((32, 32), bool)
    mask[:4, :4] = True
    record = calibrate_colours(_random_fast(), frames, {0: painting}, {0: 0}, {0: mask})
    assert "only 16 painted pixels" in record["skipped"]


def test_strength_outside_zero_to_one_is_a_usage_error() -> None:
    from vidstyle.errors import UsageError
    from vidstyle.train import make_settings

    assert make_settings("fast").colour_calibration == 1.0 and make_settings("texler").colour_calibration == 0.0
    with pytest.raises(UsageError, match="colour_calibration must be in"):
        make_settings("fast", colour_calibration=1.5)
