"""``find_shots``: shots and keyframe suggestions for a recording, and writing them out
(keyframe PNGs in the ``vidstyle extract`` layout, a contact sheet, ``shots.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..io import FolderWriter, atomic_output, check_output, open_video
from ._detect import CutOptions, Shot, Transition, detect_cuts, shots_from_cuts
from ._keyframes import DEFAULT_RADIUS, Keyframe, suggest_keyframes
from ._scan import Scan, scan

KEYFRAME_FOLDER = "keyframes"
SHEET_NAME = "contact_sheet.png"
JSON_NAME = "shots.json"
_SHEET_COLUMNS = 4
_SHEET_WIDTH = 320  # pixels per thumbnail on the contact sheet


@dataclass(frozen=True)
class ShotReport:
    """The shots of ``path`` and the suggested keyframes (frame order)."""

    path: Path
    fps: float
    frames: int
    shots: list[Shot]
    keyframes: list[Keyframe]
    scan: Scan | None = field(default=None, repr=False, compare=False)

    @property
    def cuts(self) -> list[int]:
        """The first frame of every shot but the first."""
        return [shot.start for shot in self.shots[1:]]

    def to_dict(self) -> dict[str, object]:
        return {"source": str(self.path), "fps": self.fps, "frames": self.frames,
                "shots": [s.to_dict() for s in self.shots], "keyframes": [k.to_dict() for k in self.keyframes]}


def find_shots(path: str | Path, *, max_keyframes: int | None = None, radius: float = DEFAULT_RADIUS,
               cut_options: CutOptions | None = None) -> ShotReport:
    """Scan ``path`` once: its shots (hard cuts and fades) and keyframe suggestions."""
    measured = scan(path)
    cut_options = cut_options or CutOptions()
    shots = shots_from_cuts(measured, detect_cuts(measured, cut_options))
    keys = suggest_keyframes(measured, shots, max_keyframes=max_keyframes, radius=radius,
                             flat_std=cut_options.flat_std)
    return ShotReport(path=Path(path), fps=measured.fps, frames=measured.frames, shots=shots, keyframes=keys,
                      scan=measured)


def load_shots(path: str | Path) -> ShotReport:
    """A ``shots.json`` written by :func:`write_shots` (or ``vidstyle shots --json``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        shots = [Shot(index=s["index"], start=s["start_frame"], end=s["end_frame"], start_time=s["start_time"],
                      end_time=s["end_time"], transition=Transition(s["transition"])) for s in data["shots"]]
        keys = [Keyframe(frame=k["frame"], time=k["time"], shot=k["shot"], covers=k["covers"])
                for k in data.get("keyframes", [])]
        return ShotReport(path=Path(data["source"]), fps=float(data["fps"]), frames=int(data["frames"]),
                          shots=shots, keyframes=keys)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"not a shots file from 'vidstyle shots' ({type(err).__name__}: {err})", path) from None


def write_shots(report: ShotReport, output: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``output/`` with ``shots.json``, ``keyframes/000123.png`` (full size, named
    by source frame index) and ``contact_sheet.png``; as ``output.partial`` until complete."""
    output = check_output(output, [report.path], overwrite)
    with atomic_output(output, overwrite=overwrite, is_dir=True) as temp:
        (temp / JSON_NAME).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        images = _extract(report.path, [k.frame for k in report.keyframes], temp / KEYFRAME_FOLDER)
        labels = [f"#{k.frame}  {k.time:.2f}s  shot {k.shot}" for k in report.keyframes]
        cv2.imwrite(str(temp / SHEET_NAME), cv2.cvtColor(contact_sheet(images, labels), cv2.COLOR_RGB2BGR))
    return output


def _extract(source: Path, frames: list[int], folder: Path) -> list[np.ndarray]:
    """Decode ``frames`` (source indices) at full size into ``folder``; returns them."""
    images = []
    with FolderWriter(folder) as writer:
        for frame in frames:
            with open_video(source, start_frame=frame, end_frame=frame + 1) as reader:
                got = next(iter(reader), None)
            if got is None:
                raise InputError(f"frame {frame} could not be decoded again", source)
            writer.write(got.rgb, index=frame)
            images.append(got.rgb)
    return images


def contact_sheet(images: list[np.ndarray], labels: list[str], *, columns: int = _SHEET_COLUMNS,
                  width: int = _SHEET_WIDTH) -> np.ndarray:
    """Thumbnails of (H, W, 3) uint8 ``images`` in a grid, each captioned; (H', W', 3) uint8."""
    if not images:
        return np.zeros((16, width, 3), np.uint8)
    height = max(2, round(images[0].shape[0] * width / images[0].shape[1]))
    caption = 22
    rows = -(-len(images) // columns)
    sheet = np.full((rows * (height + caption), min(columns, len(images)) * width, 3), 24, np.uint8)
    for i, (image, label) in enumerate(zip(images, labels)):
        y, x = (i // columns) * (height + caption), (i % columns) * width
        sheet[y:y + height, x:x + width] = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        cv2.putText(sheet, label, (x + 6, y + height + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1,
                    cv2.LINE_AA)
    return sheet
