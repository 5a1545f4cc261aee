"""Training on a long recording: a bounded sample of frames, decoded by seeking, cached on disk."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from vidstyle.train import (choose_pairs, load_clip, load_training_clip, propagation_positions, sample_plan,
                            train)
from vidstyle.train import _longclip
from vidstyle.train._fusion import sequence_starts

from ._fixtures_train import simple_style, write_png
from ._media import make_clip

FAST = dict(device="cpu", threads=1, patch_size=16, batch_size=8)
KEYS = (100, 450)
# What the sample may hold: each keyframe with 8 frames either side, and 16 runs of 8 frames.
BOUND = len(KEYS) * (2 * _longclip.KEY_REACH + 1) + _longclip.SAMPLE_WINDOWS * _longclip.WINDOW_FRAMES


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A 600-frame (30 s at 20 fps) 64x48 H.264 file and the same frames decoded in full."""
    root = tmp_path_factory.mktemp("long")
    path = make_clip(root / "long.mp4", frames=600, size=(64, 48), audio=False)
    return path, load_clip(path).frames


def test_sample_plan_is_bounded_and_merges_touching_runs():
    plan = sample_plan(0, 54000, [100, 30000])
    assert sum(b - a for a, b in plan) == BOUND  # the same for 30 minutes ...
    assert sum(b - a for a, b in sample_plan(0, 1800, [100, 1000])) == BOUND  # ... as for one
    assert (92, 109) in plan and (29992, 30009) in plan and plan[0] == (0, 8) and plan[-1] == (53992, 54000)
    assert sample_plan(0, 20, [5], windows=4, window=8) == [(0, 20)]  # overlapping runs merge
    assert sample_plan(0, 100, [0, 99], windows=0) == [(0, 9), (91, 100)]  # clipped to the range


def test_a_long_clip_is_sampled_by_seeking_into_a_bounded_memory_mapped_cache(recording):
    path, frames = recording
    keys = {k: simple_style(frames[k]) for k in KEYS}
    clip = load_training_clip(path, None, keys, sample_above=100)
    assert isinstance(clip.frames, np.memmap) and clip.cache is not None and clip.cache.is_dir()
    assert len(clip.indices) == clip.frames.shape[0] == BOUND < len(frames) / 3  # not every frame
    assert clip.length == 600 and clip.span == (0, 600)
    for position, index in enumerate(clip.indices):  # seeking decodes the very frames a full read does
        assert np.array_equal(clip.frames[position], frames[index]), index
    for a, b in clip.runs:  # runs are consecutive source frames; between runs they are not
        assert clip.indices[a:b] == list(range(clip.indices[a], clip.indices[a] + b - a))
        assert b == len(clip.indices) or clip.indices[b] != clip.indices[b - 1] + 1
    assert all(k in clip.indices for k in KEYS)
    # Pairs, temporal-stage runs and propagation targets never span two runs.
    run = np.zeros(len(clip.indices), int)
    for number, (a, b) in enumerate(clip.runs):
        run[a:b] = number
    assert all(run[a] == run[b] for a, b in choose_pairs(len(clip.indices), 48, runs=clip.runs))
    assert all(run[s] == run[s + 4] for s in sequence_starts(len(clip.indices), 12, 5, runs=clip.runs))
    keys_at = [clip.position(k) for k in KEYS]
    targets = propagation_positions(len(clip.indices), keys_at, runs=clip.runs)
    assert len(targets) == 8 * len(KEYS) and all(run[p] == run[k] for p, k in targets.items())
    folder = clip.cache
    del clip
    gc.collect()
    assert not folder.exists()  # the per-run cache goes with the clip
    short = load_training_clip(path, None, keys, start=0.0, end=5.0, sample_above=100)  # 100 frames: all
    assert short.runs is None and len(short.indices) == 100 and not isinstance(short.frames, np.memmap)


def test_training_on_a_long_recording_decodes_only_the_sample(recording, tmp_path, monkeypatch):
    path, frames = recording
    write_png(tmp_path / "keys" / "0100.png", simple_style(frames[100]))
    write_png(tmp_path / "keys" / "0450.png", simple_style(frames[450]))
    monkeypatch.setattr(_longclip, "LONG_CLIP_FRAMES", 100)
    seen = []
    loader = _longclip.load_training_clip

    def spy(*args, **kwargs):
        seen.append(loader(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr("vidstyle.train._trainer.load_training_clip", spy)
    result = train(path, tmp_path / "keys", tmp_path / "m.pt", steps=8, propagation_weight=0.5, pair_weight=0.5,
                   **FAST)
    assert result.steps == 8 and result.keyframes == list(KEYS)
    assert {"l1", "temporal"} <= set(result.losses) and result.temporal_stage["steps"] >= 1
    assert len(seen[0].indices) == BOUND and seen[0].runs is not None


def test_a_long_frame_folder_is_sampled_in_one_pass_and_texler_numbers_map_to_its_frames(tmp_path):
    import cv2

    from vidstyle.train import load_keyframes

    from ._fixtures_train import moving_scene, write_frames

    frames = moving_scene(200, 48, 32)
    source = write_frames(tmp_path / "frames", frames)  # not seekable: read once, keeping the sample
    texler = tmp_path / "Shot_train"
    (texler / "output").mkdir(parents=True)
    cv2.imwrite(str(texler / "output" / "101.png"), cv2.cvtColor(frames[100], cv2.COLOR_RGB2BGR))  # frame 100
    clip = load_training_clip(source, None, texler, sample_above=50)
    assert len(clip.indices) <= 2 * _longclip.KEY_REACH + 1 + _longclip.SAMPLE_WINDOWS * _longclip.WINDOW_FRAMES
    assert all(np.array_equal(clip.frames[p], frames[i]) for p, i in enumerate(clip.indices))
    assert list(load_keyframes(texler, clip)) == [100]
