"""The texture loss: a patch-distribution term that keeps stroke detail where L1 alone blurs it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vidstyle.metrics import detail_ratio
from vidstyle.train import PatchSlicedWasserstein, patch_sliced_wasserstein, train

from ._fixtures_train import write_frames, write_png


def test_zero_for_identical_and_for_rearranged_patches_small_for_a_shift() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 32, 32)
    generator = torch.Generator().manual_seed(0)
    assert patch_sliced_wasserstein(target, target, generator=generator).item() == 0.0
    shifted = target.roll(5, dims=3)
    blurred = torch.nn.functional.avg_pool2d(target, 3, 1, 1)
    shift_loss = patch_sliced_wasserstein(shifted, target, generator=torch.Generator().manual_seed(1))
    blur_loss = patch_sliced_wasserstein(blurred, target, generator=torch.Generator().manual_seed(1))
    assert blur_loss > 2 * shift_loss


def test_the_mean_colour_is_not_a_minimum() -> None:
    """L1's minimiser for unpredictable strokes (their mean) keeps a large texture loss."""
    torch.manual_seed(1)
    target = (torch.rand(4, 1, 32, 32) > 0.5).float().expand(4, 3, 32, 32)
    mean = torch.full_like(target, 0.5, requires_grad=True)
    loss = patch_sliced_wasserstein(mean, target, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert loss.item() > 0.1
    assert mean.grad is not None and mean.grad.abs().sum() > 0


def _reference_loss(output: torch.Tensor, target: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One scale of the loss with torch.sort."""
    kernels = torch.randn(32, 3, 5, 5, generator=generator)
    kernels = kernels / kernels.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    a = torch.nn.functional.conv2d(output, kernels).flatten(2).sort(dim=-1).values
    b = torch.nn.functional.conv2d(target, kernels).flatten(2).sort(dim=-1).values
    return (a - b).abs().mean()


def test_loss_and_gradient_match_torch_sort() -> None:
    """The CPU path (numpy's sort for the target, a 16-bit radix order for the output) gives
    torch.sort's loss, and its gradient but where near-ties (within 1/65535 of the range) swap."""
    reference = _reference_loss
    torch.manual_seed(4)
    output, target = torch.rand(5, 3, 16, 16, requires_grad=True), torch.rand(5, 3, 16, 16)
    ours = patch_sliced_wasserstein(output, target, scales=1, generator=torch.Generator().manual_seed(7))
    (ours_grad,) = torch.autograd.grad(ours, output)
    theirs = reference(output, target, torch.Generator().manual_seed(7))
    (theirs_grad,) = torch.autograd.grad(theirs, output)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    assert ((ours_grad - theirs_grad).abs().sum() / theirs_grad.abs().sum()).item() < 0.02  # 0.004 measured


def test_an_outlier_or_a_nan_does_not_break_the_order() -> None:
    """The 16-bit order is per row of projections, so one wild pixel coarsens only its rows;
    a NaN falls back to the exact order (and gives a NaN loss, as torch.sort does)."""
    torch.manual_seed(5)
    output, target = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    output[0, :, 3, 3] = 1000.0
    output.requires_grad_(True)
    ours = patch_sliced_wasserstein(output, target, scales=1, generator=torch.Generator().manual_seed(2))
    theirs = _reference_loss(output, target, torch.Generator().manual_seed(2))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-4)
    broken = output.detach().clone()
    broken[1, 0, 0, 0] = float("nan")
    assert torch.isnan(patch_sliced_wasserstein(broken.requires_grad_(True), target, scales=1))


def test_module_draws_fresh_directions_and_checks_shapes() -> None:
    loss = PatchSlicedWasserstein(seed=3)
    a, b = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    assert loss(a, b).item() != loss(a, b).item()  # new directions each call
    with pytest.raises(ValueError, match="B, 3, H, W"):
        loss(a[:, :2], b[:, :2])


def _smooth_clip() -> np.ndarray:
    """3 frames of 48x40: smooth colour blobs panning 1 px per frame (nothing a stroke could follow)."""
    rng = np.random.default_rng(2)
    base = cv2.resize(rng.integers(40, 220, (4, 5, 3), dtype=np.uint8), (56, 40), interpolation=cv2.INTER_CUBIC)
    return np.stack([base[:, t:t + 48] for t in range(3)])


def _stroked(frame: np.ndarray, seed: int) -> np.ndarray:
    """A painting of ``frame``: its colours under short dark strokes that the input does not predict."""
    rng = np.random.default_rng(seed)
    painted = frame.copy()
    height, width = frame.shape[:2]
    for _ in range(height * width // 12):
        y, x = int(rng.integers(0, height)), int(rng.integers(0, width - 3))
        painted[y, x:x + 3] = painted[y, x:x + 3] // 3
    return painted


def test_texture_loss_keeps_detail_that_l1_alone_blurs(tmp_path) -> None:
    frames = _smooth_clip()
    source = write_frames(tmp_path / "frames", frames)
    painted = _stroked(frames[1], seed=5)
    write_png(tmp_path / "keys" / "0001.png", painted)
    ratios = {}
    for weight in (0.0, 5.0):
        result = train(source, tmp_path / "keys", None, steps=200, texture_weight=weight, temporal_weight=0,
                       device="cpu", threads=1, patch_size=32, batch_size=4, seed=0, precision="fp32",
                       colour_calibration=0)  # the loss alone: the colour map would add contrast to both
        with torch.no_grad():
            x = torch.from_numpy(frames[1]).permute(2, 0, 1)[None].float() / 255
            out = (result.model(x)[0] * 255).round().byte().permute(1, 2, 0).numpy()
        ratios[weight] = detail_ratio(out, painted)
    print(f"detail ratio: L1 alone {ratios[0.0]:.3f}, with the texture loss {ratios[5.0]:.3f}")
    # Measured (seed 0, fp32, 1 thread): 0.287 and 0.441.
    assert ratios[0.0] < 0.35 < ratios[5.0]
