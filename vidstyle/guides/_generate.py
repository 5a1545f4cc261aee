"""Streaming guide generation over a clip, and writing guide folders."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np

from ..errors import InputError, UsageError
from ..flow import DEFAULT_FLOW_PRESET, FlowCache, FlowPair, FlowPreset, SpillStack, video_flows, warp_numpy
from ..io import FolderWriter, VideoWriter, check_output, clip_indices, probe
from ..masks import as_bool, read_mask_folder
from ..progress import progress
from ._points import PointSet, advect, poisson_disk, reseed
from ._render import blob_reach, render_stream


@dataclass(frozen=True)
class GuideSettings:
    """How guides are made. ``radius`` is the Poisson-disk spacing (px), ``sigma`` the
    blob size (px); ``check_flow`` drops points that fail the forward-backward test
    and refills holes (off: Texler's behaviour, points are never removed)."""

    radius: float = 10.0
    sigma: float = 10.0
    seed: int = 0
    check_flow: bool = True
    preset: FlowPreset = DEFAULT_FLOW_PRESET

    def __post_init__(self) -> None:
        if not self.radius >= 2:
            raise UsageError(f"guide radius must be at least 2 px (got {self.radius})")
        if not self.sigma > 0:
            raise UsageError(f"guide sigma must be positive (got {self.sigma})")


def guide_folder_name(radius: float, sigma: float) -> str:
    """Texler's folder name for a guide, e.g. ``input_gdisko_gauss_r10_s10``."""
    return f"input_gdisko_gauss_r{radius:g}_s{sigma:g}"


def generate_guides(source: str | Path, keys: Iterable[int], *, radius: float = 10.0,
                    sigma: float = 10.0, seed_masks: Mapping[int, np.ndarray] | str | Path | None = None,
                    seed: int = 0, check_flow: bool = True, preset: FlowPreset | str = DEFAULT_FLOW_PRESET,
                    size: tuple[int, int] | None = None,
                    cache: FlowCache | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, (H, W, 3) uint8 guide) for every frame of ``source``, in order.

    Points are Poisson-disk seeded on each key frame inside its seed mask, carried
    forward and backward by optical flow and drawn as fixed-colour Gaussian blobs.
    A frame shows the layers of the nearest key at or before it and the nearest key
    at or after it, the nearer key on top. Only one key-to-key segment of point
    positions is held at a time and flows for the backward pass are spilled to a
    temporary folder, so memory stays bounded on long clips. Same inputs and
    ``seed``, same output.

    Args:
        source: video or image folder.
        keys: key frame indices.
        radius, sigma, seed, check_flow: see :class:`GuideSettings`.
        seed_masks: per key index an (H, W) mask (white = seed here), or a folder of
            mask PNGs named by frame index; keys without one are seeded everywhere.
        preset: DIS preset for the flow.
        size: (width, height) to work at.
        cache: a :class:`~vidstyle.flow.FlowCache`: flows computed before are read
            from it, new ones stored (repeated runs skip the flow).

    Raises:
        InputError: a key is not a frame of the clip, or a seed mask is empty or of
            the wrong size.
    """
    settings = GuideSettings(radius, sigma, seed, check_flow, FlowPreset.parse(preset))
    info = probe(source)
    width, height = size or (info.width, info.height)
    points = guide_points(source, keys, seed_masks=seed_masks, settings=settings, size=size, cache=cache)
    yield from render_stream(points, width, height, sigma=settings.sigma, seed=settings.seed)


def guide_points(source: str | Path, keys: Iterable[int], *,
                 seed_masks: Mapping[int, np.ndarray] | str | Path | None = None,
                 settings: GuideSettings = GuideSettings(), size: tuple[int, int] | None = None,
                 cache: FlowCache | None = None) -> Iterator[tuple[int, list[PointSet]]]:
    """The points behind :func:`generate_guides`: (frame index, point sets in painter's
    order) per frame. Each :class:`PointSet` has positions, stable ids (colours come
    from :func:`point_colours`) and its key."""
    indices = clip_indices(source)
    info = probe(source)
    width, height = size or (info.width, info.height)
    key_list = _check_keys(keys, indices, source)
    masks = _seed_masks(seed_masks, key_list, (width, height), source)
    walker = _GuideWalker(settings, key_list, masks, width, height)
    with progress(len(indices), "guides") as bar:
        for index, layers in walker.run(indices, video_flows(source, preset=settings.preset, size=size,
                                                                   backward=True, cache=cache)):
            yield index, layers
            bar.update(1)


def guides_along_flows(pairs: Iterable[FlowPair], indices: list[int], keys: Iterable[int], *,
                       size: tuple[int, int], settings: GuideSettings = GuideSettings()
                       ) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`generate_guides` over flows computed before, seeded everywhere: ``pairs`` are the
    forward and backward flows between consecutive frames ``indices`` (as
    ``video_flows(..., backward=True)`` yields them), ``size`` (width, height) theirs."""
    key_list = sorted(set(int(k) for k in keys))
    walker = _GuideWalker(settings, key_list, {k: None for k in key_list}, *size)
    yield from render_stream(walker.run(indices, iter(pairs)), size[0], size[1], sigma=settings.sigma,
                             seed=settings.seed)


def write_guides(source: str | Path, output: str | Path, keys: Iterable[int], *,
                 preview: str | Path | None = None, overwrite: bool = False,
                 **options: object) -> int:
    """Write guides of every frame to the folder ``output`` (``000120.png`` for frame
    120), and optionally a preview video of them. ``options`` go to
    :func:`generate_guides`. Returns the frames written."""
    output = check_output(output, [source], overwrite)
    if preview is not None:
        preview = check_output(preview, [source], overwrite)
    info = probe(source)
    size = options.get("size") or (info.width, info.height)
    rate = info.nominal_fps or 30.0
    time_base = Fraction(1, 1000)
    with FolderWriter(output, overwrite=overwrite) as folder:
        video = (VideoWriter(preview, width=size[0], height=size[1], time_base=time_base, rate=rate,
                             overwrite=overwrite) if preview is not None else None)
        try:
            for index, guide in generate_guides(source, keys, **options):  # type: ignore[arg-type]
                folder.write(guide, index=index)
                if video is not None:
                    video.write(guide, pts=int(round(index * 1000 / rate)))
        except BaseException as err:
            if video is not None:
                video.__exit__(type(err), err, None)
            raise
        if video is not None:
            video.__exit__(None, None, None)
        return folder.frames_written


def _check_keys(keys: Iterable[int], indices: list[int], source: str | Path) -> list[int]:
    key_list = sorted(set(int(k) for k in keys))
    if not key_list:
        raise UsageError("give at least one key frame (keys)", params=("keys",))
    known = set(indices)
    for key in key_list:
        if key not in known:
            raise InputError(f"key frame {key} is not in the clip (frames {indices[0]}-{indices[-1]})",
                             source)
    return key_list


def _seed_masks(seed_masks: Mapping[int, np.ndarray] | str | Path | None, keys: list[int],
                size: tuple[int, int], source: str | Path) -> dict[int, np.ndarray | None]:
    if seed_masks is None:
        return {k: None for k in keys}
    folder = None
    if isinstance(seed_masks, (str, Path)):
        folder = Path(seed_masks)
        seed_masks = read_mask_folder(folder, size)
    out: dict[int, np.ndarray | None] = {}
    for key in keys:
        mask = seed_masks.get(key)
        if mask is None:
            out[key] = None
            continue
        if mask.shape != (size[1], size[0]):
            raise InputError(f"seed mask for frame {key} is {mask.shape[1]}x{mask.shape[0]} but the "
                             f"frames are {size[0]}x{size[1]}", folder or source)
        region = as_bool(mask)
        if not region.any():
            raise InputError(f"seed mask for frame {key} is empty (no white pixels)", folder or source)
        out[key] = None if region.all() else region
    return out


class _GuideWalker:
    """Walks the clip's flow pairs once, segment by segment between keys."""

    def __init__(self, settings: GuideSettings, keys: list[int], masks: dict[int, np.ndarray | None],
                 width: int, height: int) -> None:
        self.s = settings
        self.keys = keys
        self.masks = masks
        self.width, self.height = width, height
        self.reach = blob_reach(settings.sigma)

    def seeds(self, key: int) -> PointSet:
        rng = np.random.default_rng([self.s.seed, key])
        pattern = poisson_disk(self.width, self.height, self.s.radius, rng)
        region = self.masks[key]
        points = PointSet(key, np.zeros((0, 2), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int32),
                          pattern=pattern)
        chosen = pattern
        if region is not None:
            chosen = pattern[region[pattern[:, 1].astype(int), pattern[:, 0].astype(int)]]
        points.add(chosen, self.reach)
        return points

    def step(self, points: PointSet, region: np.ndarray | None, flow: np.ndarray,
             reverse: np.ndarray) -> np.ndarray | None:
        """Advect ``points`` in place; returns the seed region carried along."""
        advect(points, flow, reverse, check=self.s.check_flow, merge_distance=self.s.radius / 2)
        if region is not None:  # the region on the new frame: sample the old one backwards
            region = warp_numpy(region.astype(np.uint8), reverse) > 0
        if self.s.check_flow:
            reseed(points, region, self.s.radius, self.reach)
        return region

    def draw(self, *layers: tuple[int, PointSet | None]) -> list[PointSet]:
        """Layers as (distance to their key, points) in painter's order: the farthest
        key first, the nearest on top."""
        present = sorted(((d, n, p) for n, (d, p) in enumerate(layers) if p is not None),
                         key=lambda item: (-item[0], item[1]))
        return [p for _, _, p in present]

    def run(self, indices: list[int], pairs: Iterator[FlowPair]) -> Iterator[tuple[int, list[PointSet]]]:
        keys = self.keys
        position = {index: n for n, index in enumerate(indices)}
        key_positions = [position[k] for k in keys]
        forward: PointSet | None = None  # the previous key's points, on the current frame
        forward_region: np.ndarray | None = None
        forward_key = -1
        tracked: list[PointSet] = []  # forward points per frame since the previous key
        pair_iter = iter(pairs)
        with SpillStack() as spill:
            start = 0
            for key, key_pos in zip(keys, key_positions):
                # Walk from `start` to the key, spilling flows for the backward pass.
                for _ in range(start, key_pos):
                    pair = next(pair_iter)
                    spill.push(forward=pair.forward, backward=pair.backward)
                    if forward is not None:
                        forward_region = self.step(forward, forward_region, pair.forward, pair.backward)
                        tracked.append(forward.copy())
                # Backward pass from this key to `start`.
                key_seeds = self.seeds(key)
                backward = key_seeds.copy()
                region = self.masks[key]
                behind: list[PointSet] = [backward.copy()]
                for item in spill.pop_all():
                    region = self.step(backward, region, item["backward"], item["forward"])
                    behind.append(backward.copy())
                behind.reverse()  # behind[i] is frame start + i (the first may be the previous key)
                for offset, pos in enumerate(range(start, key_pos + 1)):
                    if pos == key_pos:
                        yield indices[pos], self.draw((0, behind[-1]))
                        continue
                    if forward_key >= 0 and pos == position[forward_key]:
                        continue  # the previous key itself was drawn already
                    ahead = tracked[pos - position[forward_key] - 1] if forward_key >= 0 else None
                    yield indices[pos], self.draw(
                        (pos - position[forward_key] if forward_key >= 0 else 0, ahead),
                        (key_pos - pos, behind[offset]))
                forward, forward_region, forward_key = key_seeds, self.masks[key], key
                tracked = []
                start = key_pos
            # After the last key: forward only, streamed frame by frame.
            for pos in range(start + 1, len(indices)):
                pair = next(pair_iter)
                forward_region = self.step(forward, forward_region, pair.forward, pair.backward)
                yield indices[pos], self.draw((pos - start, forward.copy()))
