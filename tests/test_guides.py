"""Guides: exact advection under translation, fixed colours, determinism, seeding, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from tests._fixtures_masks import waves, write_folder
from vidstyle.cli import main
from vidstyle.guides import (GuideSettings, generate_guides, guide_points, point_colours, poisson_disk,
                             render_guide)

SHIFT = np.array([1.5, -0.75])
SIZE = (160, 120)


pytestmark = pytest.mark.usefixtures("quiet")


@pytest.fixture(scope="module")
def translating(tmp_path_factory):
    width, height = SIZE
    frames = [np.clip(waves(height, width, seed=5, dx=SHIFT[0] * t, dy=SHIFT[1] * t), 0, 255).astype(np.uint8)
              for t in range(11)]
    return write_folder(tmp_path_factory.mktemp("guides") / "clip", frames)


def test_poisson_disk_spacing_and_coverage():
    points = poisson_disk(200, 150, 10.0, np.random.default_rng(3))
    distances, _ = cKDTree(points).query(points, k=2)
    assert distances[:, 1].min() >= 10.0
    ys, xs = np.mgrid[0:150:3, 0:200:3]
    gaps, _ = cKDTree(points).query(np.stack([xs.ravel(), ys.ravel()], axis=1))
    assert gaps.max() < 20.0


def test_blob_centres_move_exactly_with_a_known_translation(translating):
    key = 5
    settings = GuideSettings(radius=20, sigma=3)
    frames = dict(guide_points(translating, [key], settings=settings))
    assert sorted(frames) == list(range(11))
    seeds = frames[key][0]
    start = dict(zip(seeds.ids.tolist(), seeds.positions))
    checked = 0
    for index, layers in frames.items():
        points = layers[0]
        expected_shift = SHIFT * (index - key)
        for pid, position in zip(points.ids.tolist(), points.positions):
            origin = start.get(pid)
            if origin is None:
                continue  # a point re-seeded into a hole
            inner = (12 <= position[0] <= SIZE[0] - 12) and (12 <= position[1] <= SIZE[1] - 12)
            if inner:  # DIS is least sure at the frame border
                assert np.abs(position - (origin + expected_shift)).max() <= 0.5, (index, pid)
                checked += 1
    assert checked > 150
    # A point keeps its colour: colours depend on (seed, key, id) only, and the image shows it.
    guide = dict(generate_guides(translating, [key], radius=20, sigma=3))
    points = frames[8][0]
    colours = point_colours(0, key, points.ids)
    for position, colour in zip(points.positions, colours):
        x, y = np.rint(position).astype(int)
        if 3 <= x < SIZE[0] - 3 and 3 <= y < SIZE[1] - 3:
            assert np.abs(guide[8][y, x].astype(int) - colour * 255).max() <= 16


def test_same_seed_same_guides_other_seed_other_guides(translating):
    first = dict(generate_guides(translating, [0, 10], seed=7))
    again = dict(generate_guides(translating, [0, 10], seed=7))
    other = dict(generate_guides(translating, [0, 10], seed=8))
    assert all(np.array_equal(first[i], again[i]) for i in first)
    assert not np.array_equal(first[4], other[4])
    assert first[4].shape == (SIZE[1], SIZE[0], 3) and first[4].dtype == np.uint8


def test_seed_mask_limits_the_key_points(translating):
    mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    mask[:, :60] = 255
    frames = dict(guide_points(translating, [3], seed_masks={3: mask}))
    assert (frames[3][0].positions[:, 0] < 60).all()
    assert len(frames[3][0].positions) > 20


def test_painters_order_puts_the_last_set_on_top():
    from vidstyle.guides import PointSet

    def one(key, x):
        return PointSet(key, np.array([[x, 20.0]], np.float32), np.array([0]), np.array([0], np.int32))

    a, b = one(1, 20.0), one(2, 22.0)
    top_b = render_guide(40, 40, [a, b], sigma=4, seed=0)
    top_a = render_guide(40, 40, [b, a], sigma=4, seed=0)
    assert np.abs(top_b[20, 22].astype(int) - point_colours(0, 2, np.array([0]))[0] * 255).max() <= 12
    assert np.abs(top_a[20, 20].astype(int) - point_colours(0, 1, np.array([0]))[0] * 255).max() <= 12


def test_cli_guides_writes_a_png_per_frame(translating, tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["guides", str(translating), "-o", str(out), "--keys", "2,8", "-q",
                 "--preview", str(tmp_path / "g.mp4")]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:06d}.png" for i in range(11)]
    assert (tmp_path / "g.mp4").stat().st_size > 0


def test_guides_along_flows_computed_before_equal_generate_guides(translating):
    from vidstyle.flow import video_flows
    from vidstyle.guides import guides_along_flows
    from vidstyle.io import clip_indices, probe

    folder = translating
    info = probe(folder)
    pairs = list(video_flows(folder, backward=True))
    ours = list(guides_along_flows(pairs, clip_indices(folder), [2], size=(info.width, info.height)))
    theirs = list(generate_guides(folder, [2]))
    assert [i for i, _ in ours] == [i for i, _ in theirs] == clip_indices(folder)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(ours, theirs))
