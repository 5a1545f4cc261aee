"""Texler et al.'s folder layout (``<Name>_train`` / ``<Name>_gen``), both ways.

Texler's files are numbered from 1 with at least three digits (``001.png``);
vidstyle numbers frames from 0 (``000000.png``). Frame index i is Texler's i + 1.
Flows: ``flow_fwd/N`` maps frame N onto frame N-1 and ``flow_bwd/N`` maps N onto
N+1 (as its ``tool_disflow.py`` writes them), in ``.A2V2f`` files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import InputError, UsageError
from ..flow import FlowPreset, video_flows, write_flo
from ..guides import generate_guides, guide_folder_name
from ..io import (atomic_output, check_output, frame_index, frame_name, numbered_images, open_video, read_image_rgb,
                  write_image)
from ..masks import read_mask, read_mask_folder, write_mask
from ..prefilter import temporal_bilateral
from ..progress import progress
from ._flowfile import read_a2v2f, write_a2v2f

FLOW_EXT = ".A2V2f"


def texler_name(index: int) -> str:
    """Texler's file stem for zero-based frame ``index``: 0 -> ``001``."""
    return f"{index + 1:03d}"


def _styled_keyframes(styled: str | Path, keys: list[int], size: tuple[int, int]) -> dict[int, Path]:
    folder = Path(styled)
    found = numbered_images(folder, what="stylized keyframe")
    out = {}
    for key in keys:
        if key not in found:
            raise InputError(f"no stylized keyframe for frame {key} (expected {frame_name(key)})", folder)
        image = read_image_rgb(found[key])
        if (image.shape[1], image.shape[0]) != size:
            raise InputError(f"stylized keyframe is {image.shape[1]}x{image.shape[0]} but the frames are "
                             f"{size[0]}x{size[1]}", found[key])
        out[key] = found[key]
    return out


def export_texler(source: str | Path, output: str | Path, *, name: str, keys: Iterable[int],
                  styled: str | Path, masks: str | Path | None = None, guides: bool = True,
                  radius: float = 10.0, sigma: float = 10.0, prefilter: bool = False,
                  flows: bool = True, preset: FlowPreset | str = FlowPreset.MEDIUM,
                  overwrite: bool = False) -> Path:
    """Write ``output/<name>_train`` and ``output/<name>_gen`` for Texler's tools.

    ``styled`` holds the stylized keyframes named by frame index; ``masks`` the
    training masks of the keys (default: all white), also used as the guide seeds.
    ``prefilter`` fills ``input_filtered`` with the temporal bilateral filter
    (otherwise it is a copy of ``input``). Returns ``output``.
    """
    if not name or any(c in name for c in "/\\"):
        raise UsageError(f"bad project name {name!r}")
    output = check_output(output, [source], overwrite)
    key_list = sorted(set(int(k) for k in keys))
    if not key_list:
        raise UsageError("give at least one key frame (keys)", params=("keys",))
    with open_video(source) as reader:
        size = reader.size
        count = reader.expected_frames
    styled_files = _styled_keyframes(styled, key_list, size)
    key_masks = read_mask_folder(masks, size) if masks is not None else {}
    with atomic_output(output, overwrite=overwrite, is_dir=True) as temp:
        train, gen = temp / f"{name}_train", temp / f"{name}_gen"
        folders = {"train_in": train / "input_filtered", "train_out": train / "output",
                   "train_mask": train / "mask", "gen_in": gen / "input",
                   "gen_filtered": gen / "input_filtered", "gen_mask": gen / "mask"}
        if flows:
            folders.update(fwd=gen / "flow_fwd", bwd=gen / "flow_bwd")
        if guides:
            folders.update(train_guide=train / guide_folder_name(radius, sigma),
                           gen_guide=gen / guide_folder_name(radius, sigma))
        for folder in folders.values():
            folder.mkdir(parents=True)
        filtered = temporal_bilateral(source, preset=preset) if prefilter else None
        seen: list[int] = []
        with progress(count, "export-texler") as bar:
            for frame in open_video(source):
                stem = texler_name(frame.index)
                write_image(folders["gen_in"] / f"{stem}.png", frame.rgb)
                clean = next(filtered).rgb if filtered is not None else frame.rgb
                write_image(folders["gen_filtered"] / f"{stem}.png", clean)
                if frame.index in key_list:
                    write_image(folders["train_in"] / f"{stem}.png", clean)
                    shutil.copyfile(styled_files[frame.index], folders["train_out"] / f"{stem}.png")
                    mask = key_masks.get(frame.index, np.full(frame.rgb.shape[:2], 255, np.uint8))
                    write_mask(folders["train_mask"] / f"{stem}.png", mask)
                    write_mask(folders["gen_mask"] / f"{stem}.png", mask)
                seen.append(frame.index)
                bar.update(1)
        missing = sorted(set(key_list) - set(seen))
        if missing:
            raise InputError(f"key frame {missing[0]} is not in the clip (frames {seen[0]}-{seen[-1]})",
                             source)
        if flows:
            for pair in video_flows(source, preset=preset, backward=True):
                write_a2v2f(folders["bwd"] / f"{texler_name(pair.index)}{FLOW_EXT}", pair.forward)
                write_a2v2f(folders["fwd"] / f"{texler_name(pair.index + 1)}{FLOW_EXT}", pair.backward)
        if guides:
            for index, guide in generate_guides(source, key_list, radius=radius, sigma=sigma,
                                                seed_masks=key_masks or None, preset=preset):
                write_image(folders["gen_guide"] / f"{texler_name(index)}.png", guide)
                if index in key_list:
                    write_image(folders["train_guide"] / f"{texler_name(index)}.png", guide)
    return output


@dataclass(frozen=True)
class TexlerImport:
    """What :func:`import_texler` wrote, relative to its output folder."""

    output: Path
    frames: int
    keyframes: list[int]
    guide_folders: list[str]
    flows: int


def _numbered(folder: Path, ext: str = ".png") -> dict[int, Path]:
    """Texler-numbered files of a folder as {zero-based index: path}."""
    files = {}
    for f in folder.iterdir():
        number = frame_index(f)
        if f.suffix.lower() == ext.lower() and number is not None:
            files[number - 1] = f
    return dict(sorted(files.items()))


def import_texler(tree: str | Path, output: str | Path, *, overwrite: bool = False) -> TexlerImport:
    """Convert a Texler project into vidstyle's layout.

    ``tree`` is the folder holding ``<Name>_train`` (and optionally ``<Name>_gen``),
    or the ``_train`` folder itself. Writes ``output/frames`` (all frames, from
    ``_gen/input``, else ``_train/input_filtered``), ``output/keyframes`` (stylized),
    ``output/masks``, ``output/guides/<guide folder>`` and ``output/flows/forward``
    and ``backward`` as ``.flo`` (forward maps frame i onto i + 1), all named by
    zero-based frame index.
    """
    tree = Path(tree)
    train = tree if tree.name.endswith("_train") else next(iter(sorted(tree.glob("*_train"))), None)
    if train is None or not train.is_dir():
        raise InputError("no <Name>_train folder here (expected a Texler project)", tree)
    gen = train.with_name(train.name[: -len("_train")] + "_gen")
    for needed in ("input_filtered", "output"):
        if not (train / needed).is_dir():
            raise InputError(f"Texler project lacks {needed}/", train)
    keys = _numbered(train / "output")
    if not keys:
        raise InputError("output/ holds no numbered PNGs (001.png ...)", train)
    output = check_output(output, [tree], overwrite)
    frames_from = gen / "input" if (gen / "input").is_dir() else train / "input_filtered"
    guide_names = sorted({p.name for base in (train, gen) if base.is_dir()
                          for p in base.glob("input_gdisko_*") if p.is_dir()})
    flows = 0
    with atomic_output(output, overwrite=overwrite, is_dir=True) as temp:
        frame_files = _numbered(frames_from)
        size = None
        for target, files in (("frames", frame_files), ("keyframes", keys)):
            (temp / target).mkdir()
            for index, path in files.items():
                image = read_image_rgb(path)
                size = size or (image.shape[1], image.shape[0])
                if (image.shape[1], image.shape[0]) != size:
                    raise InputError(f"image is {image.shape[1]}x{image.shape[0]}, the project is "
                                     f"{size[0]}x{size[1]}", path)
                write_image(temp / target / frame_name(index), image)
        (temp / "masks").mkdir()
        if (train / "mask").is_dir():
            for index, path in _numbered(train / "mask").items():
                write_mask(temp / "masks" / frame_name(index), read_mask(path, size))
        for guide in guide_names:
            (temp / "guides" / guide).mkdir(parents=True)
            for base in (train, gen):  # _gen has every frame; _train only keys
                if (base / guide).is_dir():
                    for index, path in _numbered(base / guide).items():
                        write_image(temp / "guides" / guide / frame_name(index), read_image_rgb(path))
        if (gen / "flow_bwd").is_dir() or (gen / "flow_fwd").is_dir():
            for sub, folder, shift in (("forward", gen / "flow_bwd", 0), ("backward", gen / "flow_fwd", -1)):
                (temp / "flows" / sub).mkdir(parents=True)
                if folder.is_dir():
                    for index, path in _numbered(folder, FLOW_EXT).items():
                        # flow_fwd/N maps N onto N-1: vidstyle's backward flow of pair N-1.
                        write_flo(temp / "flows" / sub / frame_name(index + shift, ".flo"), read_a2v2f(path))
                        flows += 1
    return TexlerImport(output, len(frame_files), sorted(keys), guide_names, flows)
