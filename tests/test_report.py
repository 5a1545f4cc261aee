"""report.html: one self-contained file with every section, built from plain records."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle.pipeline import (SECTION_IDS, Chart, FlickerSection, ReportData, Series, Still, StillRow, Table,
                               Timing, TrainingSection, collect_environment, render_report, write_report)


class Page(HTMLParser):
    """Sections, images, SVG lines and every URL-bearing attribute of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[dict[str, str]] = []
        self.polylines: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(found["id"])
        if tag == "img":
            self.images.append(found)
        if tag == "polyline":
            self.polylines.append(found)
        for key in ("src", "href"):
            if key in found:
                self.urls.append(found[key])


def still(value: int, size=(40, 30)) -> np.ndarray:
    rgb = np.zeros((size[1], size[0], 3), np.uint8)
    rgb[:, :, 0] = value
    rgb[:, : size[0] // 2, 1] = 255
    return rgb


def full_report() -> ReportData:
    overview = StillRow("Frame 40", [Still("input", still(10)), Still("painted keyframe", still(120)),
                                     Still("output", still(200))])
    frames = [StillRow(f"Frame {i}", [Still("input", still(i)), Still("output", still(i + 1))]) for i in (0, 50)]
    times = [i / 20 for i in range(9)]
    flicker = FlickerSection(
        Chart("Warping error per pair", "time (s)", "e_t",
              [Series("source", [0.001] * 9, times), Series("reference", [0.004] * 9, times),
               Series("output", [0.002, 0.003, float("nan"), 0.002, 0.002, 0.002, 0.002, 0.002, 0.01], times)],
              marks=[(2.0, "keyframe")]),
        Table(["video", "E_warp", "× source"], [["source", 0.001, 1.0], ["output", 0.0025, 2.5]]),
        ["DIS medium on the source frames; Lai et al. mask; RGB in [0, 1]", "PSNR: RGB 0-255"],
        texture=Table(["output compared with", "detail ratio", "texture distance"],
                      [["painted keyframe nearest in appearance", 0.42, 17.5]]),
        texture_chart=Chart("Texture distance per frame", "time (s)", "d", [Series("vs keyframe", [5.0, 9.0])]))
    crops = [StillRow("Painted keyframe and output far from it, 100 %",
                      [Still("painted keyframe 40", still(120)), Still("output, frame 0", still(7))])]
    training = TrainingSection(Chart("Losses", "step", "loss", [Series("l1", [1.0, 0.5, 0.25], [0, 10, 20])],
                                     log_y=True), Table(["", "value"], [["design", "fast"]]))
    return ReportData(
        title="vidstyle: demo <&>", subtitle="test", overview=overview, frames=frames, crops=crops, flicker=flicker,
        training=training, timings=[Timing("train", "few-shot training", 0.0, True, 88.0),
                                    Timing("render", "stylized video", 3.5, False, 3.5)],
        environment={"torch": "2.x", "device": "cpu"}, outputs={"stylized video": "stylized.mp4"},
        recipe_text="name: demo\n")


def test_all_sections_and_images_present() -> None:
    text = render_report(full_report())
    page = Page(text)
    assert page.sections == list(SECTION_IDS)
    assert "Not part of this run" not in text
    assert len(page.images) == 3 + 2 + 2 + 2
    assert [img.get("class") for img in page.images].count("crop") == 2
    for img in page.images:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(img["src"][len(prefix):]), np.uint8),
                               cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (30, 40, 3)
    # Pixels survive the trip: red channel of the first still is 10 (BGR order in OpenCV).
    first = page.images[0]["src"].split(",", 1)[1]
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(first), np.uint8), cv2.IMREAD_COLOR)
    assert decoded[0, -1, 2] == 10 and decoded[0, 0, 1] == 255
    # The output curve has a NaN gap, so it is two polylines; plus source, reference and the loss curve.
    assert len(page.polylines) == 1 + 1 + 2 + 1 + 1  # and the texture distance
    assert "texture distance" in text and "0.42" in text and "17.5" in text
    assert "keyframe" in text and "Lai et al. mask" in text and "88.00" in text and "cached" in text


def test_self_contained_and_escaped() -> None:
    text = render_report(full_report())
    page = Page(text)
    external = [u for u in page.urls if not (u.startswith("data:") or u.startswith("#")
                                              or re.fullmatch(r"[\w.-]+", u))]
    assert external == []
    assert "script" not in page.tags and "link" not in page.tags
    assert "<title>vidstyle: demo &lt;&amp;&gt;</title>" in text


def test_missing_sections_say_so() -> None:
    text = render_report(ReportData(title="empty"))
    page = Page(text)
    assert page.sections == list(SECTION_IDS)
    assert text.count("Not part of this run") == len(SECTION_IDS)


def test_large_stills_are_shrunk() -> None:
    big = ReportData(title="big", overview=StillRow("x", [Still("wide", still(5, size=(1280, 720)))]))
    src = Page(render_report(big)).images[0]["src"]
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (270, 480, 3)


def test_bad_records_fail_loudly() -> None:
    with pytest.raises(ValueError, match="must be \\(H, W, 3\\) uint8"):
        Still("grey", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="3 cells for 2 columns"):
        Table(["a", "b"], [[1, 2, 3]])
    with pytest.raises(ValueError, match="2 x values for 3 y values"):
        Series("s", [1, 2, 3], [0, 1]).points()


def test_environment_names_versions_and_device() -> None:
    env = collect_environment("cpu")
    assert env["device"] == "cpu" and env["torch"] and env["PyAV (FFmpeg)"] and env["vidstyle"]


def test_write_report_is_atomic(tmp_path: Path) -> None:
    path = write_report(full_report(), tmp_path / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.partial"))


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_report_renders_headless_to_a_screenshot(tmp_path: Path) -> None:
    report = write_report(full_report(), tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1200,2400", report.as_uri()],
                   check=True, timeout=60, capture_output=True)
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (2400, 1200)
    # Something was drawn: the page is not one flat colour, and the stills' green shows.
    assert image.std() > 10
    assert ((image[:, :, 1] > 200) & (image[:, :, 0] < 50) & (image[:, :, 2] < 80)).sum() > 500


def test_crops_are_shown_at_100_percent() -> None:
    wide = still(9, size=(640, 120))
    data = ReportData(title="crops", crops=[StillRow("100 %", [Still("painted keyframe", wide)])],
                      overview=StillRow("x", [Still("wide", wide)]))
    still_img, crop_img = Page(render_report(data)).images
    for img, width in ((still_img, 480), (crop_img, 640)):
        png = cv2.imdecode(np.frombuffer(base64.b64decode(img["src"].split(",", 1)[1]), np.uint8),
                           cv2.IMREAD_COLOR)
        assert png.shape[1] == width and int(img["width"]) == width
    assert crop_img["class"] == "crop"
