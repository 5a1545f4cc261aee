"""Training data: clip frames, painted keyframes, masks, guides, patch sampling.

Keyframes, masks and guides are PNG folders named by frame index (``0.png``,
``0120.png``: any zero padding). The index is the one the frame reader gives:
zero-based for videos, the file number for numbered frame folders. A Texler
``<Name>_train`` folder (``output/``, ``mask/``) is accepted as keyframes; its
files count from 1 (``001.png`` is the clip's first frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np

from .._cpu import available_memory
from .._shapes import check_shape
from ..errors import InputError, UsageError
from ..io import frame_name, image_alpha, numbered_images, open_video, read_image_rgb
from ..masks import as_bool, read_mask
from ..progress import progress, warn

MASK_EROSION = 7  # Texler erodes the keyframe mask with a 7x7 box


@dataclass
class Clip:
    """Frames of the input at training size: ``frames`` (N, H, W, 3) uint8,
    ``indices[i]`` the frame index of ``frames[i]``, ``source_size`` (W, H).

    A long recording is sampled (``vidstyle.train._longclip``): ``frames`` then
    holds only some runs of consecutive frames, ``runs`` lists them as clip
    positions [start, end) (None: the frames are one run), ``span`` is (first
    frame index, frame count) of the whole range and ``cache`` the folder the
    memory-mapped frames live in.
    """

    path: Path
    frames: np.ndarray
    indices: list[int]
    source_size: tuple[int, int]
    runs: list[tuple[int, int]] | None = None
    span: tuple[int, int] | None = None
    cache: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.frames.shape[2], self.frames.shape[1]

    @property
    def length(self) -> int:
        """Frames in the range trained on (all of them, not only the ones sampled)."""
        return self.span[1] if self.span is not None else len(self.indices)

    def position(self, index: int) -> int:
        return self.indices.index(index)

    def numbered(self, number: int) -> int:
        """The frame index of the range's ``number``-th frame (from 1, as Texler counts)."""
        return self.span[0] + number - 1 if self.span is not None else self.indices[number - 1]


def run_labels(count: int, runs: list[tuple[int, int]] | None) -> np.ndarray:
    """(count,) int: the run each position belongs to (all 0 when ``runs`` is None);
    two positions are neighbouring frames of the source only within a run."""
    labels = np.zeros(count, np.int64)
    for number, (a, b) in enumerate(runs or []):
        labels[a:b] = number
    return labels


# The rest of training (the temporal stage's runs, the generator at full frame size)
# needs room too, so the frames may take at most this share of the available memory.
MEMORY_SHARE = 0.5


def load_clip(path: str | Path, size: tuple[int, int] | None = None, *, start: float | None = None,
              end: float | None = None) -> Clip:
    """Decode every frame of a video or frame folder (resized to ``size``, within
    [``start``, ``end``) seconds), after checking that they fit in memory."""
    with open_video(path, size=size, start=start, end=end) as reader:
        _check_fits_in_memory(path, reader.expected_frames, reader.size)
        expected = reader.expected_frames or 1
        frames: np.ndarray | None = None
        beyond: list[np.ndarray] = []  # should the estimate of the frame count be short
        indices: list[int] = []
        with progress(reader.expected_frames, "read frames") as bar:
            for frame in reader:
                if frames is None:  # filled in place: stacking a list would hold every frame twice
                    frames = np.empty((expected, *frame.rgb.shape), np.uint8)
                if len(indices) < expected:
                    frames[len(indices)] = frame.rgb
                else:
                    beyond.append(frame.rgb)
                indices.append(frame.index)
                bar.update(1)
        source = (reader.info.width, reader.info.height)
    if frames is None:
        raise InputError("no frames to train on", path)
    frames = frames[:len(indices)]
    if beyond:
        frames = np.concatenate((frames, np.stack(beyond)))
    return Clip(Path(path), frames, indices, source)


def _check_fits_in_memory(path: str | Path, count: int | None, size: tuple[int, int],
                          available: int | None = None) -> None:
    """A one-line error before decoding, instead of the system killing the process
    part-way (load_clip keeps every frame in memory; the trainer samples such clips instead)."""
    available = available_memory() if available is None else available
    if fits_in_memory(count, size, available):
        return
    needed = count * size[0] * size[1] * 3  # type: ignore[operator]
    raise InputError(f"{count} frames at {size[0]}x{size[1]} take {needed / 2**30:.1f} GiB and load_clip keeps "
                     f"them all in memory ({available / 2**30:.1f} GiB available): load part of the clip "
                     "(start, end), at a smaller size, or a sample (load_training_clip)", path,
                     params=("start", "end", "size"))


def fits_in_memory(count: int | None, size: tuple[int, int], available: int | None = None) -> bool:
    """Whether ``count`` frames of ``size`` (W, H) take at most ``MEMORY_SHARE`` of the
    available memory (True when either is unknown)."""
    available = available_memory() if available is None else available
    if not count or available is None:
        return True
    return count * size[0] * size[1] * 3 <= MEMORY_SHARE * available


def _fit(image: np.ndarray, clip: Clip, file: Path | str, what: str, *, nearest: bool = False) -> np.ndarray:
    """Resize an image to the training size, warning when it matched neither
    the source frames nor the training size."""
    height, width = image.shape[:2]
    if (width, height) == clip.size:
        return image
    if (width, height) != clip.source_size:
        warn(f"{file}: {what} is {width}x{height} but the frames are "
             f"{clip.source_size[0]}x{clip.source_size[1]}; resizing it to {clip.size[0]}x{clip.size[1]}")
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(image, clip.size, interpolation=interpolation)


def texler_layout(folder: Path) -> dict[str, Path] | None:
    """The subfolders of a Texler ``_train`` folder, or None if it is not one."""
    if (folder / "output").is_dir():
        parts = {"keyframes": folder / "output"}
        if (folder / "mask").is_dir():
            parts["masks"] = folder / "mask"
        return parts
    return None


def _indexed_images(folder: Path, what: str, clip: Clip | None = None) -> dict[int, Path]:
    """Images of a folder by frame index; with ``clip``, the folder is Texler-numbered
    (``001.png`` is the clip's first frame) and names are mapped to the clip's indices."""
    files = numbered_images(folder, what=what)
    if clip is None:
        return files
    by_index: dict[int, Path] = {}
    for number, file in files.items():  # Texler counts frames from 1
        if not 1 <= number <= clip.length:
            raise InputError(f"Texler-numbered {what} {file.name} is outside the clip's "
                             f"{clip.length} frames (001..{clip.length:03d})", file)
        by_index[clip.numbered(number)] = file
    return by_index


def keyframe_numbers(source: str | Path | Mapping[int, np.ndarray]) -> tuple[list[int], bool]:
    """The keyframes' frame indices from their names (or keys), without reading
    the images; for a Texler ``_train`` folder their numbers from 1 and True."""
    if isinstance(source, Mapping):
        return sorted(int(index) for index in source), False
    folder = Path(source)
    layout = texler_layout(folder) if folder.is_dir() else None
    return sorted(_indexed_images(layout["keyframes"] if layout else folder, "keyframe")), layout is not None


def _check_index(index: int, clip: Clip, where: Path | str, what: str) -> None:
    if index not in clip.indices:
        last = clip.indices[-1]
        first = clip.indices[0]
        if index > last or index < first:
            side = "past the end of" if index > last else "before"
            raise InputError(f"{what} for frame {index} is {side} the frames trained on, {first}..{last} of "
                             f"{clip.path}", where)
        raise InputError(f"{what} for frame {index}: no such frame in {clip.path}", where)


def load_keyframes(source: str | Path | Mapping[int, np.ndarray], clip: Clip) -> dict[int, np.ndarray]:
    """Painted keyframes at training size, by frame index: from a folder of
    PNGs named by index, a Texler ``_train`` folder, or a mapping of arrays."""
    if isinstance(source, Mapping):
        keyframes = {}
        for index, image in source.items():
            _check_index(int(index), clip, "keyframes", "keyframe")
            image = np.asarray(image)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise UsageError(f"keyframe {index} must be an (H, W, 3) uint8 RGB array, got "
                                 f"{image.shape} {image.dtype}")
            keyframes[int(index)] = _fit(image, clip, f"keyframe {index}", "keyframe")
        if not keyframes:
            raise UsageError("no keyframes given")
        return dict(sorted(keyframes.items()))
    folder = Path(source)
    layout = texler_layout(folder) if folder.is_dir() else None
    if layout is not None:
        folder = layout["keyframes"]
    keyframes = {}
    transparent = []
    for index, file in _indexed_images(folder, "keyframe", clip if layout else None).items():
        _check_index(index, clip, file, "keyframe")
        keyframes[index] = _fit(read_image_rgb(file), clip, file, "keyframe")
        if image_alpha(file) is not None:
            transparent.append(file.name)
    if transparent:
        warn(f"{folder}: keyframe(s) {', '.join(transparent[:3])}{' ...' if len(transparent) > 3 else ''} have "
             "transparent pixels; alpha is ignored and every pixel's colour is learned (to leave parts out, "
             "give masks=DIR, white = learn here)", params=("masks",))
    return keyframes


def load_masks(folder: str | Path | None, keyframes: Mapping[int, np.ndarray], clip: Clip, *,
               texler_numbered: bool = False) -> dict[int, np.ndarray]:
    """(H, W) bool masks (white = learn here, :func:`vidstyle.masks.as_bool`) per keyframe; all
    True where no mask folder is given. ``texler_numbered``: names count from 1."""
    full = {index: np.ones(clip.size[::-1], dtype=bool) for index in keyframes}
    if folder is None:
        return full
    files = _indexed_images(Path(folder), "mask", clip if texler_numbered else None)
    masks = {}
    for index in keyframes:
        if index not in files:
            raise InputError(f"no mask for keyframe {index} (expected e.g. {frame_name(index)})", folder)
        masks[index] = as_bool(_fit(read_mask(files[index]), clip, files[index], "mask", nearest=True))
        if not masks[index].any():
            raise InputError("mask is entirely black: nothing to learn from this keyframe", files[index])
    return masks


def load_guides(folder: str | Path, clip: Clip) -> np.ndarray:
    """(N, H, W, 3) uint8 guide images, one per clip frame, from a folder of
    PNGs named by frame index (as ``vidstyle guides`` writes them)."""
    files = _indexed_images(Path(folder), "guide")
    missing = [index for index in clip.indices if index not in files]
    if missing:
        raise InputError(f"no guide image for frame {missing[0]} ({len(missing)} frames missing)", folder)
    return np.stack([_fit(read_image_rgb(files[index]), clip, files[index], "guide")
                     for index in clip.indices])


class PatchSampler:
    """Texler's sampling: patch centres from the keyframe masks eroded by a 7x7
    box (and kept a half patch from the border), drawn without replacement,
    keyframes round-robin within a batch.

    ``weights`` (default 1 each) set each key's share of the patches; the
    order is a smooth weighted round-robin, so equal weights alternate.

    ``emphasis`` > 0 with ``paintings`` (each key's (H, W, 3) uint8 target) draws that
    share of a key's patches in proportion to the painting's gradient energy under
    the patch, within its mask (:func:`patch_detail`), and the rest uniformly, with replacement: the
    strokes and ink lines get the steps that flat areas, learned in a few, do not need.
    """

    def __init__(self, masks: Mapping[int, np.ndarray], patch_size: int, rng: np.random.Generator,
                 weights: Mapping[int, float] | None = None, *, emphasis: float = 0.0,
                 paintings: Mapping[int, np.ndarray] | None = None) -> None:
        if not 0 <= emphasis <= 1 or (emphasis > 0 and paintings is None):
            raise ValueError(f"emphasis must be in [0, 1] and needs the paintings (got {emphasis:g})")
        self.patch_size = patch_size
        self.rng = rng
        self.keys = list(masks)
        self.weights = {key: float((weights or {}).get(key, 1.0)) for key in self.keys}
        if any(w <= 0 for w in self.weights.values()):
            raise ValueError("sampling weights must be positive")
        self._credit = dict.fromkeys(self.keys, 0.0)
        self.centres: dict[int, np.ndarray] = {}
        self._order: dict[int, np.ndarray] = {}
        self._cursor: dict[int, int] = {}
        half = patch_size // 2
        for key, mask in masks.items():
            height, width = mask.shape
            if height < patch_size or width < patch_size:
                raise UsageError(f"training frames ({width}x{height}) are smaller than a {patch_size}px patch")
            eroded = eroded_mask(mask)
            inside = np.zeros_like(eroded)
            inside[half:height - patch_size + half + 1, half:width - patch_size + half + 1] = True
            ys, xs = np.nonzero(eroded & inside)
            if len(ys) == 0:
                raise InputError(f"mask of keyframe {key} leaves no room for a {patch_size}px patch "
                                 "after erosion; paint a larger white area")
            self.centres[key] = np.stack((ys, xs), axis=1)
            self._order[key] = rng.permutation(len(ys))
            self._cursor[key] = 0
        # Per key, the cumulative distribution of the centres (None: drawn without replacement).
        self._cumulative: dict[int, np.ndarray | None] = dict.fromkeys(self.keys)
        for key in self.keys if emphasis > 0 else ():
            ys, xs = self.centres[key].T
            detail = patch_detail(paintings[key], patch_size, masks[key])[ys, xs].astype(np.float64)  # type: ignore[index]
            total = detail.sum()
            if total > 0:
                chance = (1 - emphasis) / len(detail) + emphasis * detail / total
                self._cumulative[key] = np.cumsum(chance / chance.sum())

    def sample(self, batch: int) -> list[tuple[int, int, int]]:
        """``batch`` (keyframe, top, left) corners, keys in smooth weighted round-robin."""
        half = self.patch_size // 2
        out = []
        total = sum(self.weights.values())
        for _ in range(batch):
            for name in self.keys:
                self._credit[name] += self.weights[name]
            key = max(self.keys, key=self._credit.__getitem__)  # first of equals: keeps the order
            self._credit[key] -= total
            cumulative = self._cumulative[key]
            if cumulative is not None:
                y, x = self.centres[key][min(int(np.searchsorted(cumulative, self.rng.random(), side="right")),
                                             len(cumulative) - 1)]
                out.append((key, int(y) - half, int(x) - half))
                continue
            if self._cursor[key] >= len(self._order[key]):  # all drawn: reshuffle
                self._order[key] = self.rng.permutation(len(self._order[key]))
                self._cursor[key] = 0
            y, x = self.centres[key][self._order[key][self._cursor[key]]]
            self._cursor[key] += 1
            out.append((key, int(y) - half, int(x) - half))
        return out

    def state(self) -> dict:
        return {"cursor": dict(self._cursor), "credit": dict(self._credit),
                "order": {k: v.tolist() for k, v in self._order.items()}}

    def load_state(self, state: dict) -> None:
        self._cursor = {int(k): int(v) for k, v in state["cursor"].items()}
        self._credit = {int(k): float(v) for k, v in state.get("credit", {}).items()} or self._credit
        self._order = {int(k): np.asarray(v, dtype=np.int64) for k, v in state["order"].items()}


def patch_detail(painting: np.ndarray, patch_size: int, mask: np.ndarray | None = None) -> np.ndarray:
    """(H, W) float32: the painting's gradient energy in the ``patch_size`` square centred on
    each pixel (3x3 Sobel magnitude of each RGB channel, summed, then box-summed).

    Args:
        painting: (H, W, 3) uint8 RGB.
        mask: (H, W) bool, the pixels that count (a keyframe's mask, a propagated
            target's trusted pixels); the gradient at and next to any other pixel is
            left out, so a mask's edge adds no energy of its own. None: all count.
    """
    sizes = check_shape(painting, "H, W, 3", "painting", dtype=np.uint8)
    image = np.ascontiguousarray(painting, dtype=np.float32)
    magnitude = cv2.magnitude(cv2.Sobel(image, cv2.CV_32F, 1, 0, borderType=cv2.BORDER_REFLECT),
                              cv2.Sobel(image, cv2.CV_32F, 0, 1, borderType=cv2.BORDER_REFLECT)).sum(axis=2)
    if mask is not None:
        check_shape(mask, "H, W", "mask", **sizes)
        # The 3x3 Sobel reads one pixel around; the frame's edge is not the mask's (erode's default border).
        magnitude *= cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return cv2.boxFilter(magnitude, -1, (patch_size, patch_size), normalize=False, borderType=cv2.BORDER_CONSTANT)


def eroded_mask(mask: np.ndarray, size: int = MASK_EROSION) -> np.ndarray:
    """Erode an (H, W) bool mask with a ``size`` x ``size`` box (outside counts as black)."""
    kernel = np.ones((size, size), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
