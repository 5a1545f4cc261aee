"""Colour calibration: give the trained generator the keyframes' colour statistics.

A few minutes of training leave the generator's colours biased in a way that
holds on every frame, the keyframes included: on SuperTuxKart Snow Mountain with
a neural painting style, 3 CPU minutes of the default recipe painted the
keyframes themselves 2.8 L* darker and with 10 % less luma contrast than the
painting (docs/BENCHMARKS.md, "Colour calibration"). The texture distance is
sensitive to exactly that: a 10 % contrast deficit alone roughly doubled the
distance of every band.

After the generator's steps, :func:`calibrate_colours` runs the generator on
each painted keyframe, and fits the affine colour map that carries the
distribution of its output pixels onto the painting's. The map is the optimal
transport map between the two distributions' Gaussian fits (mean and 3x3
covariance in RGB; Pitié & Kokaram 2007, "The linear Monge-Kantorovitch linear
colour mapping for example-based colour transfer"): unlike a least-squares
regression it keeps the painting's spread instead of shrinking towards the
mean. It is measured on the training data only, so it corrects the model's own
bias and assumes nothing about frames the model has not seen; a model that
already matches its keyframes gets the identity. The map is folded into the
generator's last layer (``fold_colour_map``), so every renderer, ONNX export
and Ray worker gets it at no cost; the temporal stage is trained after it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from .._shapes import check_shape
from ..models import Stylizer

# A map's eigenvalues (its gains along the colour distribution's principal axes) are kept in this range:
# a keyframe with a nearly flat colour axis must not blow the generator's output up along it.
COLOUR_GAIN_LIMITS = (0.5, 2.0)
MIN_CALIBRATION_PIXELS = 1024  # fewer painted pixels than this: no map (too few for a covariance)
_COVARIANCE_FLOOR = 1e-4       # added to each covariance's diagonal: a std of 0.01 ([0, 1] RGB)


def gaussian_colour_map(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map ``y = M x + t`` carrying ``source``'s colour Gaussian onto ``target``'s.

    Args:
        source: (N, 3) RGB colours, [0, 1].
        target: (M, 3) RGB colours, [0, 1]; need not be paired with ``source``.

    Returns:
        ``M`` (3, 3), symmetric, gains clipped to :data:`COLOUR_GAIN_LIMITS`, and ``t`` (3,).
    """
    check_shape(source, "N, 3", "source")
    check_shape(target, "M, 3", "target")
    source, target = source.astype(np.float64), target.astype(np.float64)
    mean_s, mean_t = source.mean(0), target.mean(0)
    floor = _COVARIANCE_FLOOR * np.eye(3)
    cov_s, cov_t = np.cov(source.T) + floor, np.cov(target.T) + floor
    root_s = _sqrtm(cov_s)
    inverse_root_s = np.linalg.inv(root_s)
    matrix = inverse_root_s @ _sqrtm(root_s @ cov_t @ root_s) @ inverse_root_s
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    matrix = (vectors * np.clip(values, *COLOUR_GAIN_LIMITS)) @ vectors.T
    return matrix, mean_t - matrix @ mean_s


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.maximum(values, 0.0))) @ vectors.T


@torch.no_grad()
def calibrate_colours(model: Stylizer, inputs: torch.Tensor, painted: Mapping[int, torch.Tensor],
                      positions: Mapping[int, int], masks: Mapping[int, np.ndarray], *, strength: float = 1.0,
                      device: torch.device | str = "cpu") -> dict[str, object]:
    """Fit the colour map on the painted keyframes and fold it into ``model``'s generator.

    Args:
        model: the trained :class:`Stylizer`; its generator must have ``fold_colour_map``.
        inputs: (N, C, H, W) uint8 input frames (RGB, then any guide channels).
        painted: {frame index: (3, H, W) uint8 painting}.
        positions: {frame index: position of its input in ``inputs``}.
        masks: {frame index: (H, W) bool, where the painting is to be learned}.
        strength: 1 applies the map, 0 leaves the model as it is; in between, a
            blend of the two maps' matrices and shifts.

    Returns:
        What was done, for the checkpoint's record: ``matrix`` and ``shift`` (the
        applied map, rounded) and ``mean_change`` (how far it moved the keyframes'
        mean colour, RGB in [0, 1]), or ``skipped`` with the reason.
    """
    if strength <= 0:
        return {"skipped": "strength 0"}
    fold = getattr(model.net, "fold_colour_map", None)
    if fold is None:
        return {"skipped": f"the {model.config.arch} design has no linear output layer to fold a colour map into"}
    outputs, targets = [], []
    was_training = model.training
    model.eval()
    try:
        for index, image in painted.items():
            frame = inputs[positions[index]][None].to(device).float().div_(255)
            output = model(frame)[0].float().cpu()
            keep = torch.from_numpy(np.asarray(masks[index], dtype=bool))
            outputs.append(output.permute(1, 2, 0)[keep].numpy())
            targets.append(image.permute(1, 2, 0)[keep].float().div_(255).numpy())
    finally:
        model.train(was_training)
    source, target = np.concatenate(outputs), np.concatenate(targets)
    if len(source) < MIN_CALIBRATION_PIXELS:
        return {"skipped": f"only {len(source)} painted pixels (at least {MIN_CALIBRATION_PIXELS})"}
    matrix, shift = gaussian_colour_map(source, target)
    matrix = np.eye(3) + strength * (matrix - np.eye(3))
    shift = strength * shift
    fold(torch.from_numpy(matrix).float(), torch.from_numpy(shift).float())
    mean = source.mean(0)
    return {"matrix": np.round(matrix, 4).tolist(), "shift": np.round(shift, 4).tolist(),
            "mean_change": np.round(matrix @ mean + shift - mean, 4).tolist()}
