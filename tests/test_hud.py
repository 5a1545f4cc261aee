"""HUD detection on a generated chase-camera clip: overlays found, the player's avatar not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from tests._fixtures_masks import shift, texture, write_folder
from vidstyle.cli import main
from vidstyle.errors import UsageError
from vidstyle.masks import HudTimeline, Rect, detect_hud_timeline, hud_evidence, read_mask
from vidstyle.masks._hud_window import _fill_holes, _median

pytestmark = pytest.mark.usefixtures("quiet")

W, H, COUNT, SHOWN = 256, 192, 60, 30  # 2 s at the image-folder rate (30 fps); the credit for 1 s
TEXT, ICON, CREDIT, AVATAR = (6, 4, 90, 20), (214, 6, 34, 34), (70, 160, 120, 22), (100, 78, 56, 48)


def _put_text(rgb: np.ndarray, text: str, box: tuple[int, int, int, int], scale: float) -> None:
    x, y, w, h = box
    cv2.putText(rgb, text, (x + 2, y + h - 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(rgb, text, (x + 2, y + h - 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def chase_clip(overlays: bool = True) -> list[np.ndarray]:
    """A textured world scrolling under a timer, an icon and a credit shown for the first
    SHOWN frames, with a centred 'kart' that stays put but changes shading and jitters."""
    rng = np.random.default_rng(3)
    world = texture(H + 200, W + 400, seed=5, blur=1.5)
    avatar = np.zeros((AVATAR[3], AVATAR[2], 3), np.uint8)
    cv2.rectangle(avatar, (4, 20), (51, 43), (200, 30, 30), -1)          # body
    cv2.rectangle(avatar, (4, 20), (51, 43), (20, 20, 20), 2)
    cv2.circle(avatar, (28, 12), 9, (30, 30, 30), -1)                      # driver's helmet
    cv2.circle(avatar, (28, 12), 9, (230, 230, 230), 1)
    frames = []
    for t in range(COUNT):
        x0, y0 = 5 + 6 * t, 40 + int(round(30 * np.sin(t / 7)))
        rgb = world[y0:y0 + H, x0:x0 + W].copy()
        shade = 0.75 + 0.25 * np.sin(t / 4)                               # lighting along the track
        dx, dy = rng.integers(-1, 2, size=2)                                # bumps: a pixel each way
        x, y, w, h = AVATAR
        patch = (avatar.astype(np.float32) * shade).astype(np.uint8)
        region = rgb[y + 4 + dy:y + 4 + dy + h - 8, x + 4 + dx:x + 4 + dx + w - 8]
        inside = patch[4:-4, 4:-4].any(axis=2)
        region[inside] = patch[4:-4, 4:-4][inside]
        if not overlays:
            frames.append(rgb)
            continue
        _put_text(rgb, "01:23.45", TEXT, 0.6)
        cx, cy = ICON[0] + ICON[2] // 2, ICON[1] + ICON[3] // 2
        cv2.circle(rgb, (cx, cy), 15, (20, 20, 20), -1)
        cv2.circle(rgb, (cx, cy), 13, (60, 200, 60), -1)
        cv2.circle(rgb, (cx - 4, cy - 3), 3, (255, 255, 255), -1)
        if t < SHOWN:
            _put_text(rgb, "Song by Someone", CREDIT, 0.45)
        frames.append(rgb)
    return frames


@pytest.fixture(scope="module")
def chase(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("chase") / "clip", chase_clip())


@pytest.fixture(scope="module")
def timeline(chase) -> HudTimeline:
    return detect_hud_timeline(chase)


def _box(rect: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    x, y, w, h = rect
    mask[y:y + h, x:x + w] = True
    return mask


def _drawn(rect: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels an overlay in ``rect`` covers: where the first frame differs from the same
    frame drawn without overlays (the avatar's box: where its shapes are)."""
    return _box(rect) & (np.abs(chase_clip()[0].astype(int) - _bare()[0].astype(int)).max(axis=2) > 0)


def _bare() -> list[np.ndarray]:
    return chase_clip(overlays=False)


def _covered(timeline: HudTimeline, rect: tuple[int, int, int, int], frames: range) -> float:
    """Fraction of the element's own pixels marked HUD, over ``frames``."""
    pixels = _drawn(rect) if rect != AVATAR else _box(rect)
    return float(np.mean([timeline.at(t)[pixels].mean() for t in frames]))


def test_overlays_are_found_and_the_avatar_is_not(timeline):
    assert timeline.frames == COUNT and timeline.at(0).shape == (H, W)
    assert _covered(timeline, TEXT, range(COUNT)) >= 0.8
    assert _covered(timeline, ICON, range(COUNT)) >= 0.8
    assert _covered(timeline, AVATAR, range(COUNT)) <= 0.02
    scene = ~(_box(TEXT) | _box(ICON) | _box(CREDIT) | _box(AVATAR))
    assert np.mean([timeline.at(t)[cv2.erode(scene.astype(np.uint8), np.ones((5, 5))) > 0].mean()
                    for t in range(COUNT)]) <= 0.01


def test_an_overlay_shown_for_a_while_is_found_only_while_shown(timeline):
    assert _covered(timeline, CREDIT, range(0, SHOWN - 8)) >= 0.8
    assert np.mean([timeline.at(t)[_box(CREDIT)].mean() for t in range(SHOWN + 8, COUNT)]) <= 0.02


def test_include_and_exclude_rectangles(timeline):
    adjusted = timeline.with_rects(include=["120,100,10,10"], exclude=[Rect(*ICON)])
    for t in (0, COUNT - 1):
        assert adjusted.at(t)[100:110, 120:130].all()
        assert not adjusted.at(t)[ICON[1]:ICON[1] + ICON[3], ICON[0]:ICON[0] + ICON[2]].any()
        assert (adjusted.at(t)[_box(TEXT)] == timeline.at(t)[_box(TEXT)]).all()  # the rest is unchanged
    assert adjusted.union()[100:110, 120:130].all() and adjusted.for_index(5)[100:110, 120:130].all()


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "1,2,0,5", "-1,2,3,4"])
def test_bad_rectangles_are_refused(text):
    with pytest.raises(UsageError, match="bad rectangle"):
        Rect.parse(text)


def test_timeline_is_packed_and_sized(chase):
    small = detect_hud_timeline(chase, size=(128, 96))
    assert small.at(0).shape == (96, 128) and small.packed.dtype == np.uint8
    assert small.packed.shape[1] == (96 * 128 + 7) // 8


def test_the_result_does_not_depend_on_the_workers(chase, timeline):
    one = hud_evidence(chase, workers=1)
    assert np.array_equal(one.timeline.packed, timeline.packed) and one.timeline.starts == timeline.starts
    three = hud_evidence(chase, workers=3)
    assert np.array_equal(three.agreement, one.agreement) and np.array_equal(three.moving, one.moving)
    with pytest.raises(UsageError, match="workers"):
        hud_evidence(chase, workers=0)


@pytest.mark.parametrize("count", [1, 2, 5, 10, 11])
def test_the_median_is_numpys(count):
    frames = list(np.random.default_rng(count).integers(0, 256, (count, 7, 9, 3), dtype=np.uint8))
    assert np.array_equal(_median(frames), np.median(np.stack(frames), axis=0).astype(np.uint8))


def test_holes_are_filled_as_scipy_fills_them():
    rng = np.random.default_rng(0)
    for density in (0.3, 0.5, 0.7):
        mask = rng.random((40, 50)) < density
        assert np.array_equal(_fill_holes(mask), ndimage.binary_fill_holes(mask))


def _main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse refuses a malformed value itself
        return int(exit_.code or 0)


def test_cli_hud_include_exclude_and_errors(chase, tmp_path, capsys):
    out = tmp_path / "masks"
    code = main(["masks", str(chase), "-o", str(out), "--hud", "--frames", "0,59", "-q",
                 "--hud-exclude", ",".join(map(str, ICON)), "--hud-include", "120,100,10,10"])
    assert code == 0
    first = read_mask(out / "000000.png") >= 128
    assert first[100:110, 120:130].all() and not first[_box(ICON)].any() and first[_drawn(TEXT)].mean() > 0.8
    for bad, words in ((["--hud-include", "1,2,3"], "bad rectangle"),
                       (["--hud-exclude", "250,0,20,20"], "outside the 256x192 frame")):
        code = _main(["masks", str(chase), "-o", str(tmp_path / "x"), "--hud", "-q"] + bad)
        err = capsys.readouterr().err.strip()
        assert code == 2 and words in err and len(err.splitlines()) == 1
    code = main(["masks", str(chase), "-o", str(tmp_path / "y"), "--color-key", "0-20", "--hud-include",
                 "1,1,4,4", "-q"])
    assert code == 2 and "add --hud" in capsys.readouterr().err


def test_render_keep_hud_auto_keeps_each_frames_hud_only(chase, tmp_path, capsys):
    import torch

    from tests._fixtures_render import toy_model
    from vidstyle.progress import set_quiet
    from vidstyle.render import render

    set_quiet(False)  # this module's fixture silences info lines; the one naming keep_hud is checked
    grey = toy_model("test_grey_hud", lambda x: torch.full_like(x[:, :3], 0.5))
    out = tmp_path / "styled"
    render(chase, grey, out, keep_hud="auto", hud_exclude=[",".join(map(str, ICON))], device="cpu")
    assert "detecting the HUD of clip (keep_hud='auto') ..." in capsys.readouterr().err  # as a Python caller says it
    source, styled = chase_clip(), [cv2.imread(str(out / f"{t:06d}.png"))[..., ::-1] for t in (5, COUNT - 5)]
    for frame, t in zip(styled, (5, COUNT - 5)):
        text = _drawn(TEXT)
        assert np.abs(frame[text].astype(int) - source[t][text]).mean() < 8  # the timer came back (~70 if not)
        for rect in (ICON, AVATAR):  # excluded, and never detected: stylized (grey)
            assert np.abs(frame[_box(rect)].astype(int) - 128).mean() < 3
    credit = _drawn(CREDIT)
    assert np.abs(styled[0][credit].astype(int) - source[5][credit]).mean() < 8   # shown: kept
    assert np.abs(styled[1][_box(CREDIT)].astype(int) - 128).mean() < 3          # gone: stylized


def test_cli_says_its_flag_in_the_hud_info_line(chase, tmp_path, capsys):
    from tests._fixtures_render import toy_model
    from vidstyle.models import save_checkpoint

    model = save_checkpoint(tmp_path / "m.pt", toy_model("test_hud_cli", lambda x: x[:, :3]))
    code = main(["render", str(chase), "-m", str(model), "-o", str(tmp_path / "styled"), "--keep-hud", "auto",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0 and "detecting the HUD of clip (--keep-hud auto) ..." in err, err
    assert "keep_hud" not in err


TRACK = np.array([[8, 186], [8, 130], [60, 130], [60, 170], [100, 170]], np.int32)  # a minimap's line


def _track_clip(width: int, translucent: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """A minimap-like line in the bottom-left corner over a scrolling world: opaque beige over
    low-contrast 'sand' (the scene beside it stays within the colour tolerance), or
    half-transparent white over 'snow' (its colour follows the scene). (frames, line mask)."""
    line = np.zeros((H, W), np.uint8)
    cv2.polylines(line, [TRACK], False, 1, width)
    line = line > 0
    world = texture(H + 200, W + 400, seed=5, blur=1.5).astype(np.float32) - 127
    world = 200 + world * 0.8 if translucent else np.float32([150, 100, 40]) + world * 0.25
    frames = []
    for t in range(COUNT):
        x0, y0 = 5 + 6 * t, 40 + int(round(30 * np.sin(t / 7)))
        rgb = world[y0:y0 + H, x0:x0 + W].copy()
        rgb[line] = rgb[line] * 0.5 + 127.5 if translucent else (230, 200, 150)
        frames.append(np.clip(rgb, 0, 255).astype(np.uint8))
    return frames, line


def test_a_line_is_found_without_the_scene_beside_it(tmp_path):
    """The far side of an overlay's edge looks like the scene beyond it and is left out (the
    detector before this cue marked 51 % of the 2 px beside the line); the thin outline of a
    translucent overlay, which damps the scene's change, is kept (33 % found before)."""
    frames, line = _track_clip(4, translucent=False)
    timeline = detect_hud_timeline(write_folder(tmp_path / "sand", frames))
    beside = (cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~line
    assert np.mean([timeline.at(t)[line].mean() for t in range(COUNT)]) >= 0.9
    assert np.mean([timeline.at(t)[beside].mean() for t in range(COUNT)]) <= 0.1
    frames, line = _track_clip(2, translucent=True)
    timeline = detect_hud_timeline(write_folder(tmp_path / "snow", frames))
    assert np.mean([timeline.at(t)[line].mean() for t in range(COUNT)]) >= 0.45


KERB = ((255, 128), (135, 106))  # from the right edge towards the middle, 10 degrees from level
WALL = (0, 120, 36, 40)  # a brick wall at the left edge


def _scenery_clip(count: int = 90) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """3 s of a scrolling world with a static icon (top left) and two pieces of scenery a
    chase camera shows: a flat kerb along the road, whose colour is the same wherever it
    slides along itself (so it looks still), and a brick wall that slides 4 px a second
    while its lighting brightens by 22 levels a second as the camera nears it (within 14
    levels of its median over most of any 1 s window, 22 levels off a second later).
    Returns (frames, icon, kerb, wall): the masks of their pixels."""
    world = texture(H + 200, W + 600, seed=9, blur=1.5)
    icon, kerb, wall = (np.zeros((H, W), np.uint8) for _ in range(3))
    cv2.circle(icon, (24, 24), 15, 1, -1)
    cv2.line(kerb, KERB[0], KERB[1], 1, 6)
    x, y, w, h = WALL
    wall[y:y + h, x:x + w] = 1
    bricks = np.full((h, w + 40, 3), (180, 150, 130), np.float32)
    for row in range(0, h, 8):
        cv2.line(bricks, (0, row), (w + 40, row), (40, 30, 30), 2)
        for col in range(4 * (row // 8 % 2), w + 40, 12):
            cv2.line(bricks, (col, row), (col, row + 8), (40, 30, 30), 2)
    frames = []
    for t in range(count):  # 30 frames a second
        x0, y0 = 5 + 6 * t, 40 + int(round(30 * np.sin(t / 7)))
        rgb = world[y0:y0 + H, x0:x0 + W].copy()
        rgb[kerb > 0] = (215, 212, 205)
        lit = shift(bricks, -4 * t / 30, 0)[:, 30:30 + w] * 0.7 + 22 * t / 30
        rgb[y:y + h, x:x + w] = np.clip(lit, 0, 255).astype(np.uint8)
        cv2.circle(rgb, (24, 24), 15, (20, 20, 20), -1)
        cv2.circle(rgb, (24, 24), 13, (60, 200, 60), -1)
        frames.append(rgb)
    return frames, icon > 0, kerb > 0, wall > 0


def test_scenery_that_only_looks_still_is_not_hud(tmp_path):
    """The kerb (marked 0.99 before the straight-band cue, 0.00 with it) and the lit wall
    (0.85 before the cross-window colour test, 0.35 with it: the mortar lines along the
    slide keep their place, so part stays) are left out; the static icon is found."""
    frames, icon, kerb, wall = _scenery_clip()
    timeline = detect_hud_timeline(write_folder(tmp_path / "clip", frames))
    covered = {name: np.mean([timeline.at(t)[mask].mean() for t in range(timeline.frames)])
               for name, mask in (("icon", icon), ("kerb", kerb), ("wall", wall))}
    assert covered["icon"] >= 0.95, covered
    assert covered["kerb"] <= 0.05 and covered["wall"] <= 0.5, covered
