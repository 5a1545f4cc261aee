"""Input classification, natural sort, sizes, and output checks."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InputError, OutputExistsError, UsageError, VidstyleError
from ._atomic import check_replaceable, remove_stale
from ._types import SourceKind

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
# Container format names for outputs written under a temporary (.partial) name.
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mkv": "matroska", ".webm": "webm",
                     ".mov": "mov", ".avi": "avi"}

MAX_SIDE = 16384  # px; FFmpeg's scaler and encoders refuse far larger frames with "Invalid argument"
_DIGITS = re.compile(r"(\d+)")


def natural_key(path: Path) -> list[object]:
    """Sort key putting ``frame2.png`` before ``frame10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, in natural order."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=natural_key)


def source_kind(path: str | Path) -> SourceKind:
    """Classify an input path, or raise InputError naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", path)
    if path.is_dir():
        if not list_images(path):
            raise InputError("folder holds no images (png, jpg, webp)", path)
        return SourceKind.IMAGE_FOLDER
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", path)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return SourceKind.IMAGE
    return SourceKind.VIDEO


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"640x480"`` into (width, height); raise UsageError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match or not all(2 <= int(side) <= MAX_SIDE for side in match.groups()):
        raise UsageError(f"bad size {text!r}: expected WIDTHxHEIGHT, e.g. 640x480, each 2-{MAX_SIDE}")
    return int(match[1]), int(match[2])


def scaled_size(width: int, height: int, size: tuple[int, int] | None,
                scale: float | None) -> tuple[int, int]:
    """The output size for ``--size`` or ``--scale`` (at most one given)."""
    if size is not None and scale is not None:
        raise UsageError("give size or scale, not both", params=("size", "scale"))
    if size is not None:
        return size
    if scale is not None:
        if not scale > 0:
            raise UsageError(f"bad scale {scale}: must be positive")
        scaled = round(width * scale), round(height * scale)
        if min(scaled) < 2:
            raise UsageError(f"bad scale {scale}: {width}x{height} would become {scaled[0]}x{scaled[1]}; "
                             "frames need at least 2 px a side")
        if max(scaled) > MAX_SIDE:
            raise UsageError(f"bad scale {scale}: {scaled[0]}x{scaled[1]} is over {MAX_SIDE} px a side")
        return scaled
    return width, height


def check_output(output: str | Path, inputs: list[str | Path], overwrite: bool) -> Path:
    """Refuse to replace an input (or a folder holding one), and an existing output
    unless ``overwrite``."""
    output = Path(output).absolute()
    for item in inputs:
        item = Path(item).absolute()
        if output.resolve() == item.resolve() or output.resolve() in item.resolve().parents:
            raise InputError("output would replace the input; vidstyle never writes over its input",
                             output)
        if item.is_dir() and output.is_file() and output.resolve() in {p.resolve() for p in list_images(item)}:
            raise InputError(f"output would replace a frame of the input folder {item}; vidstyle "
                             "never writes over its input", output)
    if output.exists() and not overwrite:
        raise OutputExistsError(output)
    if output.is_dir():
        check_replaceable(output, is_dir=True)  # -y replaces vidstyle's own folder, never a user's files
    check_writable(output)
    if output.parent.is_dir():
        remove_stale(output)
    return output


def check_writable(output: Path) -> None:
    """Fail before any work when ``output`` cannot be created: its nearest existing
    ancestor is a file, or a folder this process may not write in."""
    ancestor = output.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise VidstyleError(f"cannot write the output: {ancestor} is not a folder", output)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise VidstyleError(f"cannot write the output: {ancestor} is not writable", output)
