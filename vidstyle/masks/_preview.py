"""Preview videos: masks overlaid in colour on the frames they belong to."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..io import numbered_images, open_video, open_writer
from ..progress import progress
from ._ops import as_bool, as_uint8, read_mask

PREVIEW_COLOUR = (255, 0, 200)  # magenta: rare in game scenery


def overlay_mask(rgb: np.ndarray, mask: np.ndarray, *, colour: tuple[int, int, int] = PREVIEW_COLOUR,
                 opacity: float = 0.45) -> np.ndarray:
    """(H, W, 3) uint8 frame with ``mask`` tinted in ``colour`` and its outline drawn.

    Soft masks tint in proportion to their value.
    """
    mask8 = as_uint8(mask)
    if mask8.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask8.shape} does not match frame {rgb.shape[:2]}")
    alpha = (mask8.astype(np.float32) / 255.0 * opacity)[..., None]
    tinted = rgb.astype(np.float32) * (1.0 - alpha) + np.array(colour, np.float32) * alpha
    out = np.clip(np.rint(tinted), 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(as_bool(mask8).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, colour, 1)
    return out


def write_mask_preview(source: str | Path, mask_folder: str | Path, output: str | Path, *,
                       size: tuple[int, int] | None = None, overwrite: bool = False,
                       desc: str = "preview") -> int:
    """Write ``output`` (video, or folder of PNGs) showing each frame of ``source`` with
    its mask from ``mask_folder`` (``000120.png`` for frame 120, any zero padding) overlaid;
    frames without a mask are shown plain. Source timestamps and audio are kept. Returns frames written."""
    masks = numbered_images(mask_folder, what="mask")
    with open_video(source, size=size) as reader:
        width, height = reader.size
        options: dict[str, object] = {"overwrite": overwrite}
        if Path(output).suffix:
            options.update(rate=reader.info.nominal_fps, audio_from=source if reader.info.audio else None)
        with open_writer(output, width=width, height=height, time_base=reader.info.time_base,
                         **options) as writer, progress(reader.expected_frames, desc) as bar:
            for frame in reader:
                path = masks.get(frame.index)
                rgb = frame.rgb
                if path is not None:
                    rgb = overlay_mask(rgb, read_mask(path, (width, height)))
                writer.write(rgb, pts=frame.pts, index=frame.index)
                bar.update(1)
            return writer.frames_written
