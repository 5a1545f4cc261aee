"""Hostile timestamps (issue 18): joined segments, repeated pts, a corrupt middle, valid VFR."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidstyle.io import VideoWriter, extract_frames, open_video, transcode

from ._media import damage_packet, joined_segments, make_clip, packet_clip, textured_frame, video_times


@pytest.fixture(scope="module")
def joined_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return joined_segments(tmp_path_factory.mktemp("ts"), 10)  # `cat a.ts b.ts`: timestamps restart at 0


@pytest.fixture(scope="module")
def corrupt_middle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("corrupt")
    intact = packet_clip(folder / "intact.mp4", list(range(30)), gop=1)
    return intact, damage_packet(intact, folder / "damaged.mp4", 11)  # frame 11 no longer decodes


def _warnings(text: str, fragment: str) -> int:
    return sum(fragment in line for line in text.splitlines())


def test_joined_segments_keep_every_frame(joined_ts: Path, tmp_path: Path, quiet: None, capsys) -> None:
    out = tmp_path / "joined.mp4"
    result = transcode(joined_ts, out)
    times = video_times(out)
    assert result.frames == len(times) == 20
    assert all(b > a for a, b in zip(times, times[1:]))
    assert _warnings(capsys.readouterr().err, "went backwards") == 1  # once, in one line
    assert extract_frames(joined_ts, tmp_path / "frames") == 20
    assert len(list((tmp_path / "frames").glob("*.png"))) == 20  # no frame overwrote another


def test_joined_segments_with_audio_keep_both(tmp_path: Path, quiet: None) -> None:
    segment = make_clip(tmp_path / "segment.ts", frames=20, audio=True)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(segment.read_bytes() * 2)  # the audio restarts too
    out = tmp_path / "joined.mp4"
    assert transcode(joined, out).frames == len(video_times(out)) == 40
    with av.open(str(out)) as container:
        audio = [float(p.pts * p.time_base) for p in container.demux(audio=0) if p.pts is not None]
    assert all(b > a for a, b in zip(audio, audio[1:])) and audio[-1] > 1.9  # both halves, in order


def test_repeated_timestamps_keep_every_frame(tmp_path: Path, quiet: None, capsys) -> None:
    source = packet_clip(tmp_path / "dup.mkv", [0, 1, 2, 3, 3, 4, 5, 6, 6, 7], fmt="matroska")
    result = transcode(source, tmp_path / "out.mp4")
    assert result.frames == len(video_times(tmp_path / "out.mp4")) == 10
    assert "went backwards at 2 frame(s)" in capsys.readouterr().err


def test_writer_moves_a_repeated_timestamp_instead_of_dropping(tmp_path: Path, quiet: None, capsys) -> None:
    out = tmp_path / "w.mp4"
    with VideoWriter(out, width=64, height=48, time_base=Fraction(1, 20), rate=20) as writer:
        for number, pts in enumerate([0, 1, 1, 2, 0, 1]):
            writer.write(textured_frame(number, 64, 48), pts=pts)
    assert writer.frames_written == len(video_times(out)) == 6
    assert "at 2 frame(s)" in capsys.readouterr().err


def test_a_lost_frame_leaves_a_gap_not_a_shift(corrupt_middle: tuple[Path, Path], tmp_path: Path,
                                               quiet: None, capsys) -> None:
    intact, damaged = corrupt_middle
    count = extract_frames(damaged, tmp_path / "frames")
    names = sorted(p.name for p in (tmp_path / "frames").glob("*.png"))
    assert count == 29 and "000011.png" not in names and names[-1] == "000029.png"
    assert "1 lost" in capsys.readouterr().err
    extract_frames(intact, tmp_path / "good")
    for name in ("000010.png", "000012.png", "000029.png"):  # the same source frame under each name
        a = cv2.imread(str(tmp_path / "frames" / name)).astype(int)
        b = cv2.imread(str(tmp_path / "good" / name)).astype(int)
        assert np.abs(a - b).mean() < 2, name
    with open_video(damaged, start_frame=12, end_frame=14) as reader:  # paint --frames, keyframe lookup
        assert [f.index for f in reader] == [12, 13]


def test_valid_vfr_file_is_not_called_damaged(tmp_path: Path, quiet: None, capsys) -> None:
    stalls = [0, 40, 80, 120, 160, 400, 440, 480, 520, 760, 800, 840, 880, 920, 960, 1000]  # ms; 25 fps nominal
    source = packet_clip(tmp_path / "vfr.mkv", stalls, fmt="matroska", time_base=Fraction(1, 1000))
    with open_video(source) as reader:  # MKV has no frame count: 1.04 s x 25 fps would say 26
        indices = [f.index for f in reader]
    assert indices == list(range(16)) and reader.frames_lost == 0
    assert "lost" not in capsys.readouterr().err
