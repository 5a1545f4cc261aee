"""Preview PNGs during training and a contact sheet at the end."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..io import atomic_output


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
