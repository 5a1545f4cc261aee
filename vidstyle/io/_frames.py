"""Folders of images named by frame index: ``000120.png`` is frame 120.

vidstyle writes six digits, zero-based (:func:`frame_name`); it reads any zero
padding (``120.png``, ``0120.png``, ``000120.png`` are all frame 120), so folders
written by earlier versions or by hand keep working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ._paths import list_images

FRAME_DIGITS = 6  # 000120.png


def frame_name(index: int, suffix: str = ".png") -> str:
    """The file name of frame ``index`` (zero-based): ``frame_name(120)`` is ``000120.png``."""
    return f"{index:0{FRAME_DIGITS}d}{suffix}"


def frame_index(path: str | Path) -> int | None:
    """The frame index a file's name gives (``0120.png`` -> 120), or None when the stem is not a number."""
    stem = Path(path).stem
    return int(stem) if stem.isdigit() else None


def sequence_indices(files: Sequence[Path]) -> list[int]:
    """Frame indices of an image sequence: the numbers the names give when every
    name is one, else the positions (0, 1, ...) of the files in the order given."""
    numbers = [frame_index(f) for f in files]
    if all(n is not None for n in numbers):
        return numbers  # type: ignore[return-value]
    return list(range(len(files)))


def numbered_images(folder: str | Path, *, what: str = "image") -> dict[int, Path]:
    """The images of ``folder`` by the frame index their names give, in index order.

    Raises a one-line InputError naming ``what`` (``"mask"``, ``"keyframe"``...) when
    the folder does not exist, holds no images, has a name that is not a number, or
    two files name the same frame (``0120.png`` and ``000120.png``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what} folder does not exist", folder)
    files = list_images(folder)
    if not files:
        raise InputError(f"{what} folder holds no PNG images", folder)
    found: dict[int, Path] = {}
    for file in files:
        index = frame_index(file)
        if index is None:
            raise InputError(f"{what} name {file.name!r} is not a frame index (expected e.g. "
                             f"{frame_name(120)}; any zero padding)", file)
        if index in found:
            raise InputError(f"two {what} files for frame {index}: {found[index].name} and {file.name}", folder)
        found[index] = file
    return dict(sorted(found.items()))

