"""Shared fixtures for the pipeline and report tests: a tiny real clip and a fake StepApi.

The fake stands in for the trainer, renderer and metric *in tests only*: it does
cheap, deterministic real work (posterize every frame, mean squared frame
differences) and counts its calls, so tests can see what the cache saved.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from vidstyle.io import Frame, transcode
from vidstyle.pipeline import ClipFlicker, FlickerNumbers, TrainingSummary

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "hacienda_320x240.mp4"


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 frames of the real sample at 64x48, with its audio."""
    path = tmp_path_factory.mktemp("clip") / "tiny.mp4"
    transcode(SAMPLE, path, size=(64, 48), start=1.0, end=1.5, preset="ultrafast", desc="fixture")
    return path


def posterize(rgb: np.ndarray) -> np.ndarray:
    return ((rgb // 64) * 64 + 32).astype(np.uint8)


class FakeApi:
    """A :class:`vidstyle.pipeline.StepApi` for tests; ``calls`` counts each method."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.last: dict[str, Any] = {}

    def check(self, recipe: Any) -> None:
        self.calls["check"] += 1

    def paint(self, rgb: np.ndarray, style: str) -> np.ndarray:
        self.calls["paint"] += 1
        return posterize(rgb)

    def compute_flows(self, clip: Path, cache_dir: Path, preset: str) -> dict[str, Any]:
        self.calls["compute_flows"] += 1
        return {"pairs": 9, "preset": preset}

    def hud_mask(self, clip: Path) -> np.ndarray:
        self.calls["hud_mask"] += 1
        from vidstyle.io import probe

        info = probe(clip)
        mask = np.zeros((info.height, info.width), bool)
        mask[: info.height // 6, : info.width // 4] = True
        return mask

    def keyframe_mask(self, frame: np.ndarray, painted: np.ndarray) -> np.ndarray:
        self.calls["keyframe_mask"] += 1
        return np.abs(frame.astype(int) - painted).sum(-1) > 0

    def color_key_mask(self, rgb: np.ndarray, hsv_range: str) -> np.ndarray:
        self.calls["color_key_mask"] += 1
        return np.ones(rgb.shape[:2], bool)

    def generate_guides(self, clip: Path, keys: list[int], output: Path, **options: Any) -> None:
        self.calls["generate_guides"] += 1
        output.mkdir()
        (output / "000000.png").write_bytes(b"")

    def train(self, clip: Path, keyframes: Path, model: Path, **options: Any) -> TrainingSummary:
        self.calls["train"] += 1
        self.last["train"] = options
        model.write_text(json.dumps({"keyframes": sorted(p.name for p in keyframes.iterdir())}))
        losses = [1.0 / (step + 1) for step in range(20)]
        return TrainingSummary({"l1": losses, "adversarial": [0.5] * 20}, list(range(0, 200, 10)),
                               {"design": "fake", "steps": 200})

    def render(self, clip: Path, model: Path, output: Path, *, settings: Any, device: str,
               hud_mask: Path | None, guides: Path | None) -> None:
        self.calls["render"] += 1
        self.last["render"] = {"model": model, "hud_mask": hud_mask, "guides": guides}

        def paint_all(frames: Iterator[Frame]) -> Iterator[Frame]:
            for frame in frames:
                yield Frame(frame.index, frame.pts, frame.time_base, posterize(frame.rgb))

        transcode(clip, output, transform=paint_all, crf=settings.crf, preset="ultrafast",
                  audio=settings.audio, overwrite=True, desc="fake render")

    def flicker(self, video: Path, source: Path, *, reference: Path | None, preset: str,
                max_frames: int | None, flow_cache: Path, keyframes: Path | None = None) -> FlickerNumbers:
        self.calls["flicker"] += 1
        from vidstyle.io import read_frames

        def per_pair(path: Path) -> list[float]:
            frames = [f.rgb.astype(np.float64) / 255 for f in read_frames(path)]
            return [float(((b - a) ** 2).mean()) for a, b in zip(frames, frames[1:])]

        clips = {"source": per_pair(source), "output": per_pair(video)}
        if reference is not None:
            clips["reference"] = per_pair(reference)
        return FlickerNumbers(
            times=[i / 20 for i in range(len(clips["output"]))],
            clips={role: ClipFlicker(float(np.mean(v)), v) for role, v in clips.items()},
            psnr=30.0 if reference is not None else None, ssim=0.9 if reference is not None else None,
            protocol=["fake: mean squared frame difference, no flow"])


def read_frames(path: Path) -> list[np.ndarray]:
    from vidstyle.io import read_frames as read

    return [frame.rgb for frame in read(path)]
