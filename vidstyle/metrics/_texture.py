"""Texture fidelity: how much of a style's detail and texture an output keeps.

PSNR and SSIM against a per-frame reference reward blur (a model that paints
the mean colour of a stroke scores well), and so does E_warp. These two
measures do not:

* **detail ratio**: the gradient energy of the output over that of a
  reference, :math:`D = \\overline{|\\nabla Y_{out}|} / \\overline{|\\nabla Y_{ref}|}`,
  with the mean Sobel gradient magnitude of BT.709 luma (0-255 levels).
  1 keeps the reference's amount of edge and stroke detail, < 1 is blurrier,
  > 1 is sharper or noisier. It ignores where the detail is.
* **texture distance**: the multi-scale sliced Wasserstein distance between
  the distributions of local patches of the two images (Karras et al. 2018,
  "Progressive growing of GANs", section 5: 7x7 neighbourhoods of each level
  of a Laplacian pyramid, random unit projections, sorted and compared). It
  is 0 for identical images, grows when strokes are smeared (the band-pass
  levels lose their spread) or colours change (the coarsest level), and is
  nearly blind to where things are: a shifted copy of a texture scores close
  to 0. No learned weights are involved. Units: [0, 1] RGB levels x 1000.

Both compare distributions, so they also work without an aligned reference:
an output frame against a painted keyframe of the same shot ("style drift").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .._shapes import check_shape
from ._pair import luma

TEXTURE_LEVELS = 4        # Laplacian bands (3) + the coarse Gaussian level
TEXTURE_PATCH = 7         # px, neighbourhood per level (Karras et al.)
TEXTURE_PROJECTIONS = 64  # random directions in the 3 x 7 x 7 patch space
TEXTURE_QUANTILES = 256   # quantiles compared per direction (images may differ in size)
TEXTURE_SAMPLES = 16384   # patch positions per level at most (a fixed, seeded subset beyond that)
TEXTURE_SEED = 0          # fixed, so every figure uses the same directions and positions
TEXTURE_SCALE = 1000.0    # reported in thousandths of the [0, 1] RGB range


def _check_image(image: np.ndarray, name: str) -> None:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name} must be an (H, W, 3) RGB array, got {type(image).__name__}")
    check_shape(image, "H, W, 3", f"{name} (RGB)")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 or float in [0, 1], got {image.dtype}")


def gradient_energy(image: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of BT.709 luma, in 0-255 levels per pixel.

    Args:
        image: (H, W, 3) RGB, uint8 or float in [0, 1].
    """
    _check_image(image, "image")
    y = luma(image)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return float(cv2.mean(cv2.magnitude(gx, gy))[0])


def detail_ratio(output: np.ndarray, reference: np.ndarray) -> float:
    """Gradient energy of ``output`` over that of ``reference`` (see the module docs).

    Args:
        output: (H, W, 3) RGB, uint8 or float in [0, 1].
        reference: (H', W', 3) RGB; need not be aligned with or the size of ``output``.

    Returns:
        The ratio; NaN when the reference is flat (no gradient at all).
    """
    ref = gradient_energy(reference)
    return gradient_energy(output) / ref if ref > 0 else float("nan")


@dataclass(frozen=True)
class _Projections:
    kernels: torch.Tensor  # (P, 3, k, k), unit norm each


_PROJECTIONS: dict[tuple[int, int, int], _Projections] = {}


def _projections(count: int, patch: int, seed: int) -> _Projections:
    key = (count, patch, seed)
    if key not in _PROJECTIONS:
        generator = torch.Generator().manual_seed(seed)
        kernels = torch.randn(count, 3, patch, patch, generator=generator, dtype=torch.float32)
        kernels /= kernels.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        _PROJECTIONS[key] = _Projections(kernels)
    return _PROJECTIONS[key]


def _laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """``levels - 1`` band-pass levels, finest first, then the coarse Gaussian."""
    current = image.astype(np.float32) * np.float32(1 / 255) if image.dtype == np.uint8 else \
        image.astype(np.float32, copy=False)
    bands = []
    for _ in range(levels - 1):
        if min(current.shape[:2]) < 2 * TEXTURE_PATCH:
            break
        down = cv2.pyrDown(current)
        up = cv2.pyrUp(down, dstsize=(current.shape[1], current.shape[0]))
        bands.append(current - up)
        current = down
    bands.append(current)
    return bands


def _projected_quantiles(level: np.ndarray, projections: _Projections, quantiles: int,
                         seed: int) -> torch.Tensor:
    """(P, quantiles): the sorted projections of the 7x7 patches of one level, resampled.

    Every patch position is used up to ``TEXTURE_SAMPLES``; beyond that a fixed
    seeded subset (the same for two images of one size, so identical images give 0).
    Projecting all positions of a 640x360 frame cost 2 s; the subset 0.1 s.
    """
    k = TEXTURE_PATCH
    windows = np.lib.stride_tricks.sliding_window_view(level, (k, k), axis=(0, 1))  # (H', W', 3, k, k)
    rows, cols = windows.shape[:2]
    if rows * cols > TEXTURE_SAMPLES:
        picks = np.random.default_rng(seed).choice(rows * cols, TEXTURE_SAMPLES, replace=False)
        patches = windows[picks // cols, picks % cols]
    else:
        patches = windows.reshape(rows * cols, 3, k, k)
    flat = torch.from_numpy(np.ascontiguousarray(patches).reshape(len(patches), -1))
    values = (flat @ projections.kernels.flatten(1).T).T.numpy()  # (P, N)
    # numpy's SIMD sort: 64 x 16384 float32 in 20 ms of CPU against torch's 74 ms; the same values.
    ordered = np.sort(values, axis=1)
    positions = np.linspace(0, ordered.shape[1] - 1, quantiles).round().astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(ordered[:, positions]))


def texture_distance(output: np.ndarray, reference: np.ndarray, *, levels: int = TEXTURE_LEVELS,
                     projections: int = TEXTURE_PROJECTIONS, seed: int = TEXTURE_SEED) -> float:
    """Multi-scale sliced Wasserstein distance between the local patches of two images.

    For each level of a Laplacian pyramid of each image, every 7x7 RGB
    neighbourhood is projected on ``projections`` fixed random unit directions;
    the two sorted sets of projections are compared at 256 quantiles (mean
    absolute difference, the 1-Wasserstein distance per direction); the result
    is the mean over directions and levels, in thousandths of the [0, 1] range.

    Args:
        output: (H, W, 3) RGB, uint8 or float in [0, 1].
        reference: (H', W', 3) RGB; need not be aligned with or the size of ``output``.

    Returns:
        0 for identical images; larger is further apart.
    """
    return signature_distance(texture_signature(output, "output", levels=levels, projections=projections,
                                                seed=seed),
                              texture_signature(reference, "reference", levels=levels, projections=projections,
                                                seed=seed))


def texture_signature(image: np.ndarray, name: str = "image", *, levels: int = TEXTURE_LEVELS,
                      projections: int = TEXTURE_PROJECTIONS, seed: int = TEXTURE_SEED) -> list[torch.Tensor]:
    """One image's half of :func:`texture_distance`: per pyramid level (finest first,
    the coarse Gaussian last), the (projections, 256) sorted-projection quantiles.

    Computed once per image, it lets one keyframe be compared with every frame of a
    clip at half the cost; :func:`signature_distance` of two signatures equals
    :func:`texture_distance` of their images exactly.
    """
    _check_image(image, name)
    if min(image.shape[:2]) < TEXTURE_PATCH:
        raise ValueError(f"{name} must be at least {TEXTURE_PATCH} px on each side, got {image.shape[:2]}")
    directions = _projections(projections, TEXTURE_PATCH, seed)
    with torch.no_grad():
        return [_projected_quantiles(level, directions, TEXTURE_QUANTILES, seed)
                for level in _laplacian_pyramid(image, levels)]


def signature_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """:func:`texture_distance` from two :func:`texture_signature` results."""
    levels = level_distances(a, b)
    return sum(levels) / len(levels)


def level_distances(a: list[torch.Tensor], b: list[torch.Tensor]) -> list[float]:
    """:func:`signature_distance` per pyramid level: the band-pass levels finest first, then the
    coarse Gaussian level (the colours and large shapes), in the same units. Their mean is the
    texture distance; the split says whether two images differ in their strokes or their colours."""
    count = min(len(a), len(b))
    # Pair band with band and the coarse level with the coarse level, should one image be too small for all bands.
    pairs = list(zip(a[:count - 1], b[:count - 1])) + [(a[-1], b[-1])]
    return [float((qa - qb).abs().mean()) * TEXTURE_SCALE for qa, qb in pairs]
