"""Export a video's flows as ``.flo`` / ``.npy`` files, masks, and a colour-wheel video."""

from __future__ import annotations

import enum
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..io import VideoWriter, atomic_output, check_output, frame_name, probe, write_image
from ..progress import progress
from ._cache import FlowCache
from ._dis import FlowPreset
from ._flo import write_flo
from ._video import video_flows
from ._viz import flow_to_color


class FlowFormat(enum.Enum):
    """File format of exported flows."""

    FLO = "flo"  # Middlebury, float32, readable by most flow tools
    NPY = "npy"  # numpy float32 (H, W, 2)

    @classmethod
    def parse(cls, text: "str | FlowFormat") -> "FlowFormat":
        if isinstance(text, FlowFormat):
            return text
        try:
            return cls(text.lower().lstrip("."))
        except ValueError:
            raise UsageError(f"unknown flow format {text!r} (flo, npy)") from None


@dataclass(frozen=True)
class FlowExport:
    """What :func:`export_flows` wrote."""

    folder: Path
    pairs: int
    visualization: Path | None


def export_flows(source: str | Path, folder: str | Path, *, preset: FlowPreset | str = FlowPreset.MEDIUM,
                 size: tuple[int, int] | None = None, start_frame: int | None = None,
                 end_frame: int | None = None, backward: bool = True, masks: bool = False,
                 file_format: FlowFormat | str = FlowFormat.FLO, visualization: str | Path | None = None,
                 max_motion: float | None = None, cache: FlowCache | None = None,
                 overwrite: bool = False) -> FlowExport:
    """Write the flows of ``source`` into ``folder``.

    Layout (N = zero-based source index of frame t)::

        folder/forward/N.flo     flow(t -> t+1)
        folder/backward/N.flo    flow(t+1 -> t), unless backward=False
        folder/mask/N.png        Lai et al.'s validity mask of frame t (white = valid), if masks

    ``visualization`` writes the forward flows as a colour-wheel video with the
    source's timestamps; ``max_motion`` (px, default 1/20 of the frame width)
    is full saturation, fixed for the whole video so colours do not pump.
    The folder and the video are written atomically.
    """
    file_format = FlowFormat.parse(file_format)
    if masks and not backward:
        raise UsageError("validity masks need the flow both ways; drop backward=False", params=("backward",))
    folder = check_output(folder, [source], overwrite)
    outputs = [folder]
    if visualization is not None:
        visualization = check_output(visualization, [source], overwrite)
        outputs.append(visualization)
    if len({p.resolve() for p in outputs}) < len(outputs):
        raise UsageError("the flow folder and the visualization must be different paths")
    info = probe(source)
    width, height = size or (info.width, info.height)
    max_motion = max_motion if max_motion is not None else width / 20
    total = info.frame_count
    if total is not None:
        total = max(0, min(end_frame or total, total) - (start_frame or 0) - 1)
    count = 0
    with ExitStack() as stack:
        temp = stack.enter_context(atomic_output(folder, overwrite=overwrite, is_dir=True))
        for name in ("forward", "backward", "mask"):
            if name == "forward" or (name == "backward" and backward) or (name == "mask" and masks):
                (temp / name).mkdir()
        writer = None
        bar = stack.enter_context(progress(total, "flow", unit="pair"))
        for pair in video_flows(source, preset=preset, size=size, start_frame=start_frame,
                                end_frame=end_frame, backward=backward, cache=cache):
            name = frame_name(pair.index, f".{file_format.value}")
            _save(temp / "forward" / name, pair.forward, file_format)
            if pair.backward is not None:
                _save(temp / "backward" / name, pair.backward, file_format)
            if masks:
                mask = pair.validity_mask().astype(np.uint8) * 255
                write_image(temp / "mask" / frame_name(pair.index), mask)
            if visualization is not None and writer is None:
                # Opened at the first pair so that a trimmed range starts at time 0.
                writer = stack.enter_context(VideoWriter(
                    visualization, width=width, height=height, time_base=info.time_base or Fraction(1, 25),
                    rate=info.nominal_fps, start=pair.time, overwrite=overwrite))
            if writer is not None:
                pts = None if pair.time is None else int(round(pair.time / info.time_base))
                writer.write(flow_to_color(pair.forward, max_motion), pts=pts)
            count += 1
            bar.update(1)
        if count == 0:
            raise UsageError(f"{source}: fewer than two frames in the requested range; no flow to compute")
    return FlowExport(folder=folder, pairs=count, visualization=visualization)


def _save(path: Path, flow: np.ndarray, file_format: FlowFormat) -> None:
    if file_format is FlowFormat.FLO:
        write_flo(path, flow)
    else:
        np.save(path, flow.astype(np.float32), allow_pickle=False)
