"""Preview PNGs during training and a contact sheet at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import cv2
import numpy as np
import torch

from ..errors import UsageError
from ..io import atomic_output
from ..models import Stylizer
from ._data import Clip


def write_png(path: Path, rgb: np.ndarray) -> Path:
    """Write an RGB image atomically (a half-written preview never appears)."""
    with atomic_output(path, overwrite=True) as temp:
        ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError(f"could not encode {path}")
        temp.write_bytes(data.tobytes())
    return path


@torch.no_grad()
def stylize_frames(model: torch.nn.Module, inputs: torch.Tensor, positions: list[int],
                   device: torch.device) -> list[np.ndarray]:
    """Run ``model`` (in eval mode) on whole frames of the (N, C, H, W) uint8
    ``inputs``; returns (H, W, 3) uint8 RGB images."""
    was_training = model.training
    model.eval()
    try:
        out = []
        for position in positions:
            x = inputs[position:position + 1].to(device).float().div_(255)
            y = model(x)[0].float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
            out.append(y)
        return out
    finally:
        model.train(was_training)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    image = image.copy()
    scale = max(0.35, image.shape[1] / 900)
    cv2.putText(image, text, (4, int(16 * scale / 0.5)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (4, int(16 * scale / 0.5)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return image


def contact_sheet(rows: list[list[tuple[str, np.ndarray]]], max_width: int = 1600) -> np.ndarray:
    """A grid of labelled images (each row: (label, RGB image) cells, equal sizes),
    scaled so the sheet is at most ``max_width`` wide."""
    columns = max(len(row) for row in rows)
    height, width = rows[0][0][1].shape[:2]
    scale = min(1.0, max_width / (columns * width))
    cell = (max(1, int(width * scale)), max(1, int(height * scale)))
    sheet = np.full((cell[1] * len(rows), cell[0] * columns, 3), 32, np.uint8)
    for r, row in enumerate(rows):
        for c, (text, image) in enumerate(row):
            small = cv2.resize(image, cell, interpolation=cv2.INTER_AREA)
            sheet[r * cell[1]:(r + 1) * cell[1], c * cell[0]:(c + 1) * cell[0]] = _label(small, text)
    return sheet


def preview_positions(clip: Clip, painted: Mapping[int, np.ndarray], chosen: list[int] | None) -> list[int]:
    """Clip positions to preview: the chosen frame indices, or up to three keyframes, the middle and the last."""
    if chosen:
        for index in chosen:
            if index not in clip.indices:
                raise UsageError(f"preview frame {index} is not a frame of {clip.path}")
        return [clip.position(i) for i in chosen]
    positions = [clip.position(i) for i in sorted(painted)][:3]
    others = [p for p in (len(clip.indices) // 2, len(clip.indices) - 1) if p not in positions]
    return positions + others[:2]


def preview_dir(output: str | Path) -> Path:
    """``MODEL_previews`` beside the model file."""
    output = Path(output)
    return output.with_name(output.stem + "_previews")


def write_previews(model: Stylizer, inputs: torch.Tensor, positions: list[int], clip: Clip,
                   output: str | Path, step: int, device: torch.device) -> list[Path]:
    """``MODEL_previews/stepNNNNNN_frameNNNNNN.png`` for each position."""
    folder = preview_dir(output)
    images = stylize_frames(model, inputs, positions, device)
    return [write_png(folder / f"step{step:06d}_frame{clip.indices[p]:06d}.png", image)
            for p, image in zip(positions, images)]


def write_contact_sheet(model: Stylizer, inputs: torch.Tensor, positions: list[int], clip: Clip,
                        painted: Mapping[int, np.ndarray], output: str | Path, device: torch.device) -> Path:
    """``MODEL_contact.png``: input, model output and (for keyframes) the painting, a row per position."""
    images = stylize_frames(model, inputs, positions, device)
    rows = []
    for position, image in zip(positions, images):
        index = clip.indices[position]
        row = [(f"input {index}", clip.frames[position]), (f"model {index}", image)]
        if index in painted:
            row.append((f"painted {index}", painted[index]))
        rows.append(row)
    output = Path(output)
    return write_png(output.with_name(output.stem + "_contact.png"), contact_sheet(rows))
