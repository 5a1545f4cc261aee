"""Long recordings: only the frames training needs, decoded by seeking, cached on disk.

A clip longer than ``LONG_CLIP_FRAMES`` frames (or whose frames would not fit in
memory) is not loaded whole. The trainer works on a bounded sample of it, a few
runs of consecutive frames:

* each keyframe with ``KEY_REACH`` frames either side: the keyframe, the frames
  its painting is propagated to (offsets up to 8), pairs and temporal-stage runs
  next to it;
* ``SAMPLE_WINDOWS`` runs of ``WINDOW_FRAMES`` consecutive frames spread evenly
  over the range: the pair loss, the temporal stage's runs, the compound loss and
  the previews draw from them.

Each run is decoded by seeking to it (video at a constant frame rate; a variable
rate video or a frame folder is read in one pass that keeps only these frames),
at the training size, straight into a memory-mapped array in a cache folder on
disk (a temporary folder removed with the clip, unless one is given). Nothing
else of the recording is kept, so peak memory depends on the number of
keyframes and the training size, not on the recording's length.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..errors import InputError
from ..io import SourceKind, open_video
from ..progress import info, progress
from ._data import Clip, fits_in_memory, keyframe_numbers, load_clip

LONG_CLIP_FRAMES = 1200  # above this many frames the trainer samples (40 s at 30 fps)
KEY_REACH = 8            # frames kept either side of each keyframe (the furthest propagation offset)
SAMPLE_WINDOWS = 16      # runs spread over the recording
WINDOW_FRAMES = 8        # frames per run (a temporal-stage run is 5, a long-range pair 5 apart)
CACHE_FILE = "frames.npy"


def load_training_clip(path: str | Path, size: tuple[int, int] | None,
                       keyframes: str | Path | Mapping[int, np.ndarray], *, start: float | None = None,
                       end: float | None = None, sample_above: int | None = None,
                       cache_dir: str | Path | None = None) -> Clip:
    """The frames the trainer works on: every frame of a clip of at most
    ``sample_above`` frames (default ``LONG_CLIP_FRAMES``) that fits in memory
    (:func:`load_clip`), else the sample around ``keyframes`` (a folder of PNGs
    named by frame index, a Texler ``_train`` folder or a mapping by frame index;
    only their names are read here) of :func:`load_sampled_clip`."""
    with open_video(path, size=size, start=start, end=end) as reader:
        count, train_size = reader.expected_frames, reader.size
        limit = LONG_CLIP_FRAMES if sample_above is None else sample_above
        if count is None or (count <= limit and fits_in_memory(count, train_size)):
            return load_clip(path, size, start=start, end=end)
        first = next(iter(reader), None)  # the range's first frame index (one frame decoded)
    if first is None:
        raise InputError("no frames to train on", path)
    numbers, texler = keyframe_numbers(keyframes)
    keys = [first.index + n - 1 for n in numbers] if texler else numbers
    return load_sampled_clip(path, size, keys, first=first.index, count=count, cache_dir=cache_dir,
                             start=start, end=end)


def sample_plan(first: int, count: int, keys: Iterable[int], *, reach: int = KEY_REACH,
                windows: int = SAMPLE_WINDOWS, window: int = WINDOW_FRAMES) -> list[tuple[int, int]]:
    """The runs of frame indices [start, end) to keep of the range ``first`` ..
    ``first + count - 1``: ``reach`` frames around each of ``keys`` and ``windows``
    runs of ``window`` frames spread evenly; overlapping or touching runs merged."""
    end = first + count
    spans = [(max(first, k - reach), min(end, k + reach + 1)) for k in keys if first <= k < end]
    window = min(window, count)
    if windows > 0 and window > 0:
        starts = np.linspace(first, end - window, num=windows).round().astype(int)
        spans += [(int(s), int(s) + window) for s in starts]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def load_sampled_clip(path: str | Path, size: tuple[int, int] | None, keys: Iterable[int], *,
                      first: int, count: int, cache_dir: str | Path | None = None,
                      start: float | None = None, end: float | None = None) -> Clip:
    """Decode the :func:`sample_plan` of ``keys`` (frame indices) over frames
    ``first`` .. ``first + count - 1`` of ``path`` into a memory-mapped
    (N, H, W, 3) uint8 array in ``cache_dir`` (default: a temporary folder removed
    when the clip is). ``start``/``end`` (seconds) are the range the indices come
    from (for the one-pass read of inputs that cannot seek)."""
    plan = sample_plan(first, count, keys)
    planned = sum(b - a for a, b in plan)
    own = cache_dir is None
    folder = Path(tempfile.mkdtemp(prefix="vidstyle-train-frames-") if cache_dir is None else cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    frames: np.memmap | None = None
    indices: list[int] = []
    runs: list[tuple[int, int]] = []
    try:
        with open_video(path, size=size, start=start, end=end) as probe_reader:
            source_info, train_size = probe_reader.info, probe_reader.size
        seekable = source_info.kind is SourceKind.VIDEO and not source_info.is_vfr and bool(
            source_info.nominal_fps or source_info.average_fps)
        frames = np.lib.format.open_memmap(folder / CACHE_FILE, mode="w+", dtype=np.uint8,
                                           shape=(planned, train_size[1], train_size[0], 3))
        with progress(planned, "read frames") as bar:
            for run, (index, rgb) in _decode_plan(path, plan, train_size, seekable, start, end):
                if len(indices) >= planned:
                    break
                frames[len(indices)] = rgb
                if not runs or runs[-1][2] != run:
                    runs.append((len(indices), len(indices), run))
                runs[-1] = (runs[-1][0], len(indices) + 1, run)
                indices.append(index)
                bar.update(1)
        frames.flush()
    except BaseException:
        del frames
        if own:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if not indices:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
        raise InputError("no frames to train on", path)
    clip = Clip(Path(path), frames[:len(indices)], indices, (source_info.width, source_info.height),
                runs=[(a, b) for a, b, _ in runs], span=(first, count), cache=folder)
    if own:
        weakref.finalize(clip, shutil.rmtree, folder, True)
    megabytes = len(indices) * train_size[0] * train_size[1] * 3 / 2**20
    info(f"{path}: {count} frames; training on {len(indices)} of them ({len(runs)} runs around the keyframes "
         f"and spread over the recording, {megabytes:.0f} MB cached in {folder})")
    return clip


def _decode_plan(path: str | Path, plan: list[tuple[int, int]], size: tuple[int, int], seekable: bool,
                 start: float | None, end: float | None) -> Iterable[tuple[int, tuple[int, np.ndarray]]]:
    """(run number, (frame index, RGB)) for the frames of ``plan``, in order."""
    if seekable:
        for number, (a, b) in enumerate(plan):
            with open_video(path, size=size, start_frame=a, end_frame=b) as reader:
                for frame in reader:
                    yield number, (frame.index, frame.rgb)
        return
    bounds = np.asarray([b for _, b in plan])
    with open_video(path, size=size, start=start, end=end) as reader:
        for frame in reader:
            number = int(np.searchsorted(bounds, frame.index, side="right"))
            if number >= len(plan):
                break
            if frame.index >= plan[number][0]:
                yield number, (frame.index, frame.rgb)
