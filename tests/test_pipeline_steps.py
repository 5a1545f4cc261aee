"""The real step graph end to end on a tiny real clip, with a fake StepApi injected.

Checks the wiring the issue asks for: a tiny recipe runs end to end; a second run
hits the cache (no training); changing a render setting re-renders only.
"""

from __future__ import annotations

import base64
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidstyle.io import probe
from vidstyle.pipeline import build_steps, load_recipe, run_pipeline

from ._fixtures_pipeline import FakeApi, posterize, read_frames, tiny_clip  # noqa: F401


def recipe_file(tmp_path: Path, clip: Path, extra: str = "") -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(f"""
name: tiny
input: {{video: {clip}}}
keyframes: {{paint: toon, frames: [2]}}
train: {{steps: 5}}
render: {{preset: ultrafast}}
report: {{stills: 3}}
{extra}""")
    return path


def run(recipe_path: Path, out: Path, api: FakeApi, overrides=(), **options):
    return run_pipeline(load_recipe(recipe_path, list(overrides)), build_steps(api), output_dir=out,
                        **options)


def test_tiny_recipe_end_to_end_then_cached_then_rerender(tmp_path: Path, tiny_clip: Path) -> None:
    api, out = FakeApi(), tmp_path / "out"
    path = recipe_file(tmp_path, tiny_clip)
    first = run(path, out, api)
    assert first.computed == ["clip", "keyframes", "flows", "train", "render", "reference", "flicker",
                              "compare", "report"]
    assert sorted(p.name for p in out.iterdir()) == ["comparison.mp4", "flicker.json", "model.pt",
                                                     "report.html", "stylized.mp4", "work"]
    # The keyframe is frame 2 painted; the model saw it.
    assert "000002.png" in (out / "model.pt").read_text()
    stylized = read_frames(out / "stylized.mp4")
    assert len(stylized) == 10 and stylized[0].shape == (48, 64, 3)
    comparison = probe(out / "comparison.mp4")
    assert (comparison.width, comparison.height, comparison.frame_count) == (128, 48, 10)
    assert comparison.audio, "the side-by-side video keeps the input's audio"
    # Left half is the input, right half the output.
    side_by_side = read_frames(out / "comparison.mp4")[5]
    left, right = side_by_side[:, :64], side_by_side[:, 64:]
    source = read_frames(tiny_clip)[5]
    assert np.abs(left[20:].astype(int) - source[20:]).mean() < 6  # below the label
    assert np.abs(right[20:].astype(int) - stylized[5][20:]).mean() < 6

    # Second run: everything cached except the report, no training.
    second = run(path, out, api, overwrite=True)
    assert second.computed == ["report"] and api.calls["train"] == 1 and api.calls["render"] == 1

    # A render setting: render and what depends on it, never training.
    third = run(path, out, api, ["render.crf=30"], overwrite=True)
    assert third.computed == ["render", "flicker", "compare", "report"]
    assert api.calls["train"] == 1 and api.calls["render"] == 2

    # A training setting retrains and re-renders, but keeps clip, keyframes, flows, reference.
    fourth = run(path, out, api, ["render.crf=30", "train.steps=6"], overwrite=True)
    assert fourth.computed == ["train", "render", "flicker", "compare", "report"]


def test_existing_outputs_need_overwrite(tmp_path: Path, tiny_clip: Path) -> None:
    from vidstyle.errors import OutputExistsError

    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old")
    api = FakeApi()
    with pytest.raises(OutputExistsError, match="report.html"):
        run(recipe_file(tmp_path, tiny_clip), out, api)
    assert api.calls["train"] == 0 and (out / "report.html").read_text() == "old"


def test_trim_resize_masks_and_render_only(tmp_path: Path, tiny_clip: Path) -> None:
    api, out = FakeApi(), tmp_path / "out"
    path = recipe_file(tmp_path, tiny_clip, "masks: {hud: keep, from_keyframe: true}\n"
                                            "guides: {enabled: true}\n")
    result = run(path, out, api, ["input.start=0.2", "input.size=32x24", "keyframes.frames=6",
                                  "render.comparison=false"])
    assert "masks" in result.computed and "guides" in result.computed
    clip = result.entries["clip"]
    assert clip.data["copied"] and clip.data["first_index"] == 4 and clip.data["frames"] == 6
    # Source frame 6 is frame 2 of the trimmed clip.
    assert result.entries["keyframes"].data == {"indices": [2], "source_indices": [6]}
    mask = cv2.imread(str(result.entries["masks"].path("masks") / "000002.png"), cv2.IMREAD_GRAYSCALE)
    # The fake HUD (top-left sixth by quarter) is kept out of training.
    assert mask.shape == (24, 32) and not mask[:4, :8].any() and mask[4:].all()
    assert api.last["render"]["hud_mask"] is not None and api.last["render"]["guides"] is not None
    assert api.last["train"]["masks"] is not None and api.last["train"]["guides"] is not None
    assert probe(out / "stylized.mp4").width == 32 and not (out / "comparison.mp4").exists()

    # Keyframe outside the trimmed clip: one line naming it.
    from vidstyle.errors import InputError

    with pytest.raises(InputError, match="keyframe 1 is outside the clip"):
        run(path, tmp_path / "out2", FakeApi(), ["input.start=0.2", "keyframes.frames=1"])

    with pytest.raises(InputError, match="keyframes.frames: frame 10 is past the end of the clip"):
        run(path, tmp_path / "out3", FakeApi(), ["keyframes.frames=10"])
    assert not (tmp_path / "out3").exists()  # checked before any work

    # Render an existing model: no keyframes, no training.
    model = out / "model.pt"
    measure = tmp_path / "measure.yaml"
    measure.write_text(f"input: {{video: {tiny_clip}}}\nrender: {{model: {model}, preset: ultrafast}}\n"
                       "report: {reference_style: toon}\n")
    api = FakeApi()
    result = run(measure, tmp_path / "measured", api)
    assert result.computed == ["clip", "flows", "render", "reference", "flicker", "compare", "report"]
    assert api.calls["train"] == 0 and api.last["render"]["model"] == model


def test_keyframes_from_a_folder(tmp_path: Path, tiny_clip: Path) -> None:
    painted = tmp_path / "painted"
    painted.mkdir()
    frame = read_frames(tiny_clip)[3]
    cv2.imwrite(str(painted / "0003.png"), cv2.cvtColor(posterize(frame), cv2.COLOR_RGB2BGR))
    path = recipe_file(tmp_path, tiny_clip)
    api = FakeApi()
    result = run(path, tmp_path / "out", api, [f"keyframes.dir={painted}", "keyframes.paint=null"])
    assert result.entries["keyframes"].data["indices"] == [3]
    assert "reference" not in result.computed  # no stylizer, so no per-frame ground truth
    # Repainting the keyframe changes its identity: keyframes and everything after recompute.
    cv2.imwrite(str(painted / "0003.png"), cv2.cvtColor(255 - frame, cv2.COLOR_RGB2BGR))
    again = run(path, tmp_path / "out", api, [f"keyframes.dir={painted}", "keyframes.paint=null"],
                overwrite=True)
    assert again.computed[:3] == ["keyframes", "train", "render"]
    (painted / "cover.png").write_bytes((painted / "0003.png").read_bytes())
    from vidstyle.errors import InputError

    with pytest.raises(InputError, match="not a frame index"):
        run(path, tmp_path / "out3", api, [f"keyframes.dir={painted}", "keyframes.paint=null"])


def test_report_from_the_run_is_complete(tmp_path: Path, tiny_clip: Path) -> None:
    from html.parser import HTMLParser

    api, out = FakeApi(), tmp_path / "out"
    run(recipe_file(tmp_path, tiny_clip), out, api)
    page = (out / "report.html").read_text()

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids, self.images = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "id" in attrs:
                self.ids.append(attrs["id"])
            if tag == "img":
                self.images.append(attrs)

    parsed = Collect()
    parsed.feed(page)
    assert parsed.ids == ["overview", "frames", "flicker", "texture", "training", "timings", "environment",
                          "recipe"]
    assert "Not part of this run" not in page
    # overview: input, keyframe, output; 3 stills rows of input, reference, output; crops at 100 %:
    # keyframe | output | far output, then reference | output on the far frame
    crops = [img for img in parsed.images if img.get("class") == "crop"]
    assert len(parsed.images) == 3 + 3 * 3 + len(crops) and len(crops) == 3 + 2
    for img in crops:  # shown pixel for pixel: the PNG is as wide as the width attribute
        png = cv2.imdecode(np.frombuffer(base64.b64decode(img["src"].split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        assert png.shape[1] == int(img["width"]) and png.shape[0] == int(img["height"])
    assert "away)" in page and "100 %" in page
    assert all(img["src"].startswith("data:image/png;base64,") for img in parsed.images)
    assert "fake: mean squared frame difference" in page  # the protocol is shown with the numbers
    assert page.count('class="series"') >= 3 + 2  # flicker: source, reference, output; losses: 2
    assert "few-shot training" in page and "cached" not in page.split('id="timings"')[1].split("</table>")[0]
    assert 'href="stylized.mp4"' in page and 'href="comparison.mp4"' in page
    assert av.open(str(out / "stylized.mp4")).streams.audio, "the stylized video keeps the audio"


def test_real_flow_and_flicker_through_the_adapter(tmp_path: Path, tiny_clip: Path) -> None:
    """The adapter's calls into vidstyle.flow and vidstyle.metrics, for real, on 10 tiny frames."""
    from vidstyle.io import Frame, transcode
    from vidstyle.pipeline import VidstyleApi

    api = VidstyleApi()
    cache = tmp_path / "flows"
    summary = api.compute_flows(tiny_clip, cache, "fast")
    assert summary["pairs"] == 9 and summary["cache_misses"] > 0
    assert api.compute_flows(tiny_clip, cache, "fast")["cache_misses"] == 0  # second pass: all cached

    def flat(frames):
        for frame in frames:  # a still grey video: no flicker at all
            yield Frame(frame.index, frame.pts, frame.time_base, np.full_like(frame.rgb, 128))

    still = tmp_path / "still.mkv"
    transcode(tiny_clip, still, transform=flat, audio=False, desc="still")
    numbers = api.flicker(still, tiny_clip, reference=tiny_clip, preset="fast", max_frames=None,
                          flow_cache=cache)
    assert set(numbers.clips) == {"source", "reference", "output"} and len(numbers.times) == 9
    assert numbers.clips["output"].e_warp < 1e-6 < numbers.clips["source"].e_warp
    assert numbers.clips["reference"].e_warp == pytest.approx(numbers.clips["source"].e_warp, rel=1e-3)
    assert numbers.psnr is not None and numbers.psnr < 30 and "E_warp" in numbers.protocol[0]
    keys = tmp_path / "keys"
    keys.mkdir()
    cv2.imwrite(str(keys / "000003.png"), cv2.cvtColor(read_frames(tiny_clip)[3], cv2.COLOR_RGB2BGR))
    numbers = api.flicker(still, tiny_clip, reference=None, preset="fast", max_frames=None, flow_cache=cache,
                          keyframes=keys)
    drift = numbers.texture["keyframes"]
    assert "reference" not in numbers.texture and drift["keyframes"] == [3] and drift["detail_ratio"] == 0
    assert any("nearest in appearance" in line for line in numbers.protocol)


def test_moved_input_keeps_the_cache(tmp_path: Path, tiny_clip: Path) -> None:
    import shutil

    clip = tmp_path / "a.mp4"
    shutil.copyfile(tiny_clip, clip)
    api, out = FakeApi(), tmp_path / "out"
    path = recipe_file(tmp_path, clip)
    run(path, out, api)
    moved = tmp_path / "b.mp4"
    clip.rename(moved)
    again = run(path, out, api, [f"input.video={moved}", "render.crf=28"], overwrite=True)
    assert again.computed == ["render", "flicker", "compare", "report"] and api.calls["train"] == 1


def test_loss_curves_leave_out_the_gradient_norm() -> None:
    from vidstyle.pipeline._steps import _loss_curves

    steps, curves = _loss_curves([{"l1": 0.5, "texture": 0.1, "grad_norm": 3.0, "total": 2.5, "step": 1,
                                   "seconds": 0.1}])
    assert steps == [1] and set(curves) == {"l1", "texture", "total"}
