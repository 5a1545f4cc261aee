"""Hostile-input sweep (issue 18): concurrent runs, folder outputs and -y never lose data."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

from vidstyle.errors import OutputExistsError, VidstyleError
from vidstyle.io import MANIFEST, Frame, extract_frames, transcode

from ._media import video_times
from .conftest import assert_one_line_error, run_cli


def _paused(reached: threading.Event, go: threading.Event, after: int) -> Callable[[Iterator[Frame]],
                                                                                 Iterator[Frame]]:
    def transform(frames: Iterator[Frame]) -> Iterator[Frame]:
        for number, frame in enumerate(frames):
            if number == after:
                reached.set()
                assert go.wait(60)
            yield frame
    return transform


class _Run(threading.Thread):
    def __init__(self, target: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.fn, self.error = target, None

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as err:  # noqa: BLE001 (reported by the test)
            self.error = err


@pytest.mark.parametrize("overwrite", [True, False])
def test_two_runs_to_one_output_never_mix(cfr_clip: Path, tmp_path: Path, quiet: None, overwrite: bool) -> None:
    out = tmp_path / "same.mp4"
    events = [threading.Event() for _ in range(4)]
    first = _Run(lambda: transcode(cfr_clip, out, transform=_paused(events[0], events[1], 5),
                                   overwrite=overwrite))
    second = _Run(lambda: transcode(cfr_clip, out, transform=_paused(events[2], events[3], 12),
                                    overwrite=overwrite))
    first.start()
    assert events[0].wait(60)
    second.start()
    assert events[2].wait(60)  # both half-way through, each writing its own temporary file
    events[1].set()
    first.join(60)
    assert first.error is None, first.error
    assert len(video_times(out)) == 30  # the first run's complete file, not the second's half
    events[3].set()
    second.join(60)
    if overwrite:
        assert second.error is None, second.error
    else:  # the output appeared while the second run worked: it refuses rather than replace it
        assert isinstance(second.error, OutputExistsError)
    assert len(video_times(out)) == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.mp4"]


def test_partial_of_a_killed_run_is_cleaned_but_a_live_one_is_kept(cfr_clip: Path, tmp_path: Path,
                                                                   quiet: None) -> None:
    out = tmp_path / "out.mp4"
    dead = tmp_path / "out.mp4.999999999-abcdef.partial"  # no such pid
    dead.write_bytes(b"half")
    live = tmp_path / f"out.mp4.{1}-abcdef.partial"  # pid 1 is always alive
    live.write_bytes(b"someone else's")
    transcode(cfr_clip, out)
    assert not dead.exists() and live.read_bytes() == b"someone else's"


def test_overwrite_never_empties_a_folder_vidstyle_did_not_write(cfr_clip: Path, tmp_path: Path,
                                                                 quiet: None) -> None:
    mine = tmp_path / "work"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(VidstyleError, match="did not write.*notes.txt.*; overwrite=True replaces only"):
        extract_frames(cfr_clip, mine, every=10, overwrite=True)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    result = run_cli("extract", cfr_clip, "-o", ".", "-y", cwd=mine)
    assert_one_line_error(result, "did not write", "notes.txt", "; -y/--overwrite replaces only")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_overwrite_replaces_what_vidstyle_wrote(cfr_clip: Path, tmp_path: Path, quiet: None) -> None:
    out = tmp_path / "frames"
    assert extract_frames(cfr_clip, out, every=10) == 3
    assert (out / MANIFEST).is_file()
    assert extract_frames(cfr_clip, out, every=15, overwrite=True) == 2
    assert sorted(p.name for p in out.glob("*.png")) == ["000000.png", "000015.png"]
    (out / "mine.txt").write_text("added by the user")
    with pytest.raises(VidstyleError, match="mine.txt"):
        extract_frames(cfr_clip, out, every=10, overwrite=True)
    assert (out / "mine.txt").exists() and (out / "000015.png").exists()


def test_a_file_never_replaces_a_folder_or_back(cfr_clip: Path, tmp_path: Path, quiet: None) -> None:
    folder = tmp_path / "clip.mp4"
    folder.mkdir()
    with pytest.raises(VidstyleError, match="is a folder"):
        transcode(cfr_clip, folder, overwrite=True)
    afile = tmp_path / "frames"
    afile.write_text("a file")
    with pytest.raises(VidstyleError, match="is a file"):
        extract_frames(cfr_clip, afile, overwrite=True)
    assert afile.read_text() == "a file" and folder.is_dir()
