"""vidstyle.io: probing, reading, writing, audio, colour, timestamps, atomic outputs."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vidstyle.errors import InputError, OutputExistsError, UsageError
from vidstyle.io import (Codec, ColorMatrix, ColorRange, SourceKind, VideoWriter, extract_frames,
                         open_video, parse_size, probe, read_frames, scaled_size, transcode)

from ._media import audio_packets, make_clip, textured_frame, video_times
from .conftest import SAMPLE, assert_one_line_error, run_cli


def test_probe_cfr_clip(cfr_clip: Path) -> None:
    info = probe(cfr_clip)
    assert (info.width, info.height, info.kind) == (64, 48, SourceKind.VIDEO)
    assert info.frame_count == 30 and not info.frame_count_is_estimate
    assert info.nominal_fps == pytest.approx(20) and not info.is_vfr
    assert info.color.matrix is ColorMatrix.BT709 and info.color.range is ColorRange.LIMITED
    assert len(info.audio) == 1 and info.audio[0].sample_rate == 16000


def test_probe_detects_vfr(vfr_clip: Path, cfr_clip: Path) -> None:
    assert probe(vfr_clip).is_vfr
    assert not probe(cfr_clip).is_vfr


def test_mkv_frame_count_is_estimated_when_container_has_none(silent_clip: Path) -> None:
    info = probe(silent_clip)
    assert info.audio == ()
    assert info.frame_count is not None and abs(info.frame_count - 20) <= 1
    assert info.frame_count_is_estimate


@pytest.mark.parametrize("clip_name", ["cfr_clip", "vfr_clip"])
def test_passthrough_keeps_timestamps_and_audio_packets(clip_name: str, request: pytest.FixtureRequest,
                                                         tmp_path: Path) -> None:
    source = request.getfixturevalue(clip_name)
    out = tmp_path / "out.mp4"
    result = transcode(source, out)
    assert result.frames == 30
    src_times, out_times = video_times(source), video_times(out)
    assert len(out_times) == len(src_times)
    assert max(abs(a - b) for a, b in zip(sorted(src_times), sorted(out_times))) < 1e-3
    assert audio_packets(out) == audio_packets(source)  # packet for packet, byte for byte
    assert not list(tmp_path.glob("*.partial"))


def test_output_is_tagged_bt709_limited(cfr_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "tagged.mp4"
    transcode(cfr_clip, out)
    with av.open(str(out)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.colorspace, ctx.color_range, ctx.color_primaries, ctx.color_trc) == (1, 1, 1, 1)


def test_no_audio_input_and_no_audio_option(silent_clip: Path, cfr_clip: Path, tmp_path: Path) -> None:
    transcode(silent_clip, tmp_path / "a.mp4")
    assert audio_packets(tmp_path / "a.mp4") == []
    transcode(cfr_clip, tmp_path / "b.mp4", audio=False)
    assert audio_packets(tmp_path / "b.mp4") == []


def _flat_patches(index: int, width: int, height: int) -> np.ndarray:
    colours = np.array([[20, 20, 20], [235, 235, 235], [200, 40, 40], [40, 180, 60],
                        [30, 60, 210], [128, 128, 128], [250, 220, 10], [5, 120, 160]], np.uint8)
    image = np.zeros((height, width, 3), np.uint8)
    for i, colour in enumerate(colours):
        image[:, i * width // 8:(i + 1) * width // 8] = colour
    return image


def _patch_error(rgb: np.ndarray) -> int:
    expected = _flat_patches(0, rgb.shape[1], rgb.shape[0]).astype(int)
    width = rgb.shape[1] // 8
    error = 0
    for i in range(8):  # patch centres: away from chroma-subsampled edges
        inner = slice(i * width + 4, (i + 1) * width - 4)
        error = max(error, int(np.abs(rgb[4:-4, inner].astype(int) - expected[4:-4, inner]).max()))
    return error


@pytest.mark.parametrize("full_range,colorspace", [(False, 1), (True, 1), (False, 6), (True, 6)])
def test_colour_round_trip(full_range: bool, colorspace: int, tmp_path: Path) -> None:
    source = make_clip(tmp_path / "flat.mp4", frames=3, size=(128, 32), full_range=full_range,
                       colorspace=colorspace, make_frame=_flat_patches, audio=False)
    info = probe(source)
    assert info.color.range is (ColorRange.FULL if full_range else ColorRange.LIMITED)
    decoded = next(read_frames(source)).rgb
    assert _patch_error(decoded) <= 3
    out = tmp_path / "out.mp4"
    transcode(source, out, crf=0)
    assert probe(out).color.matrix is ColorMatrix.BT709
    assert _patch_error(next(read_frames(out)).rgb) <= 3


def test_odd_size_clip_reads_and_writes(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "odd.mp4", frames=6, size=(318, 241), audio=False)
    frames = list(read_frames(source))
    assert len(frames) == 6 and frames[0].rgb.shape == (241, 318, 3)
    out = tmp_path / "odd_out.mkv"
    transcode(source, out)
    assert probe(out).width == 318 and probe(out).height == 241


def test_ffv1_is_lossless(tmp_path: Path) -> None:
    frames = [textured_frame(i, 40, 30) for i in range(3)]
    out = tmp_path / "lossless.mkv"
    with VideoWriter(out, width=40, height=30, time_base=Fraction(1, 25), rate=25, codec=Codec.FFV1) as w:
        for i, rgb in enumerate(frames):
            w.write(rgb, pts=i)
    decoded = [f.rgb for f in read_frames(out)]
    assert all(np.array_equal(a, b) for a, b in zip(frames, decoded))


def test_trim_cuts_video_and_audio(media_dir: Path, tmp_path: Path) -> None:
    source = make_clip(media_dir / "long.mp4", frames=80, fps=20)  # 4 s: seeks past 2 s
    out = tmp_path / "trim.mp4"
    result = transcode(source, out, start=2.5, end=3.5)
    assert result.frames == 20
    times = video_times(out)
    assert times[0] == pytest.approx(0.0, abs=1e-3)  # rebased: the clip starts at 0
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        packets = [p for p in container.demux(audio) if p.dts is not None]
        end = float((packets[-1].pts + packets[-1].duration) * audio.time_base)
    assert abs(end - 1.0) < 0.1


def test_frame_index_survives_seek(media_dir: Path) -> None:
    source = make_clip(media_dir / "seek.mp4", frames=80, fps=20, audio=False)
    by_frame = list(read_frames(source, start_frame=50, end_frame=53))
    by_time = list(read_frames(source, start=2.5, end=2.65))
    assert [f.index for f in by_frame] == [50, 51, 52]
    assert [f.index for f in by_time] == [50, 51, 52]
    full = list(read_frames(source))
    assert np.array_equal(full[51].rgb, by_frame[1].rgb)
    assert by_frame[0].time == pytest.approx(2.5)


def test_image_folder_natural_order_and_indices(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in (0, 2, 10):
        cv2.imwrite(str(folder / f"{index}.png"), textured_frame(index, 32, 24)[..., ::-1])
    frames = list(read_frames(folder))
    assert [f.index for f in frames] == [0, 2, 10]
    assert np.array_equal(frames[2].rgb, textured_frame(10, 32, 24))
    assert probe(folder).kind is SourceKind.IMAGE_FOLDER
    cv2.imwrite(str(folder / "11.png"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(InputError, match="11.png"):
        list(read_frames(folder))


def test_failed_write_leaves_nothing(cfr_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "fail.mp4"

    def explode(frames):  # type: ignore[no-untyped-def]
        for frame in frames:
            if frame.index == 10:
                raise RuntimeError("model crashed")
            yield frame

    with pytest.raises(RuntimeError):
        transcode(cfr_clip, out, transform=explode)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_and_input_protection(cfr_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        transcode(cfr_clip, out)
    assert out.read_bytes() == b"keep me"
    transcode(cfr_clip, out, overwrite=True)
    assert probe(out).frame_count == 30
    with pytest.raises(InputError, match="never writes over its input"):
        transcode(out, out, overwrite=True)


def test_output_inside_an_input_folder_never_replaces_a_file_there(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"{index:04d}.png"), textured_frame(index, 32, 24)[..., ::-1])
    before = (folder / "0001.png").read_bytes()
    with pytest.raises(InputError, match="frame of the input folder"):
        transcode(folder, folder / "0001.png", overwrite=True)
    assert (folder / "0001.png").read_bytes() == before
    transcode(folder, folder / "new.mp4")  # a new file beside the inputs replaces nothing
    assert probe(folder / "new.mp4").frame_count == 3
    transcode(folder, folder / "new.mp4", overwrite=True)  # nor does re-running it: not one of the frames


def test_unwritable_output_fails_before_any_work(cfr_clip: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from vidstyle.errors import VidstyleError
    from vidstyle.io import atomic_output

    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(VidstyleError, match="file.txt is not a folder"):
        transcode(cfr_clip, blocker / "sub" / "out.mp4")
    with pytest.raises(VidstyleError, match="cannot write the output"):  # callers that skip check_output
        with atomic_output(blocker / "out.mp4", overwrite=False):
            pass
    monkeypatch.setattr("vidstyle.io._paths.os.access", lambda *args: False)  # root ignores chmod
    with pytest.raises(VidstyleError, match="is not writable"):
        extract_frames(cfr_clip, tmp_path / "frames")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_extract_names_sizes_every_and_mirror(cfr_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "frames"
    count = extract_frames(cfr_clip, out, size=(32, 24), every=10, mirror=True)
    assert count == 3
    assert sorted(p.name for p in out.glob("*.png")) == ["000000.png", "000010.png", "000020.png"]
    frame = cv2.imread(str(out / "000010.png"))
    mirrored = cv2.imread(str(out / "mirrored" / "000010.png"))
    assert frame.shape == (24, 32, 3)
    assert np.array_equal(frame[:, ::-1], mirrored)


def test_empty_or_reversed_range_is_an_error_and_writes_nothing(cfr_clip: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no frames in the requested range"):
        extract_frames(cfr_clip, tmp_path / "past_end", start=50.0)
    with pytest.raises(UsageError, match=r"end \(0.1\) must be after the start \(0.4\)"):
        extract_frames(cfr_clip, tmp_path / "reversed", start=0.4, end=0.1)
    with pytest.raises(UsageError, match="end_frame"):
        list(read_frames(cfr_clip, start_frame=5, end_frame=5))
    assert list(tmp_path.iterdir()) == []


def test_bad_encoder_settings_are_refused_before_encoding(cfr_clip: Path, tmp_path: Path) -> None:
    for settings, message in ((dict(preset="bogus"), "unknown libx264 preset 'bogus'"),
                              (dict(crf=-5), "bad crf -5"), (dict(crf=64), "bad crf 64")):
        with pytest.raises(UsageError, match=message):
            transcode(cfr_clip, tmp_path / "out.mp4", **settings)
    with pytest.raises(UsageError, match="out.xyz: unknown video extension"):
        VideoWriter(tmp_path / "out.xyz", width=64, height=48, time_base=Fraction(1, 20))
    assert list(tmp_path.iterdir()) == []
    result = run_cli("convert", cfr_clip, "-o", tmp_path / "c.mp4", "--preset", "bogus")
    assert_one_line_error(result, "preset 'bogus'")


def test_codec_that_contradicts_the_output_path_is_refused(cfr_clip: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="c.mp4: codec=png writes a folder"):
        transcode(cfr_clip, tmp_path / "c.mp4", codec=Codec.PNG)
    with pytest.raises(UsageError, match="frames: a folder gets PNG frames, but codec=h264"):
        transcode(cfr_clip, tmp_path / "frames", codec=Codec.H264)
    assert list(tmp_path.iterdir()) == []
    assert transcode(cfr_clip, tmp_path / "frames", codec=Codec.PNG).frames == 30


def test_damaged_file_decodes_what_it_can(cfr_clip: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = make_clip(tmp_path / "whole.mkv", frames=60, size=(64, 48), audio=False)
    data = source.read_bytes()
    damaged = tmp_path / "damaged.mkv"
    damaged.write_bytes(data[: len(data) * 6 // 10])
    with open_video(damaged) as reader:
        frames = list(reader)
    assert 10 < len(frames) < 60
    assert reader.frames_lost == 60 - len(frames)
    assert "lost" in capsys.readouterr().err


def test_parse_size_and_codec() -> None:
    assert parse_size("640x480") == (640, 480)
    for bad in ("640", "x480", "0x2", "axb", "100000x100000"):
        with pytest.raises(UsageError):
            parse_size(bad)
    with pytest.raises(UsageError, match="over 16384 px"):
        scaled_size(640, 480, None, 1000.0)
    assert Codec.parse("h264") is Codec.H264 and Codec.parse("ffv1") is Codec.FFV1
    with pytest.raises(UsageError):
        Codec.parse("divx")


# -- CLI ----------------------------------------------------------------------

def test_cli_probe_json(cfr_clip: Path) -> None:
    result = run_cli("probe", cfr_clip, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["frame_count"] == 30 and data["color"]["matrix"] == "bt709"
    assert data["audio"][0]["codec"] == "aac"


def test_cli_bad_inputs_give_one_line(tmp_path: Path, cfr_clip: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    audio_only = tmp_path / "audio.m4a"
    with av.open(str(audio_only), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert_one_line_error(run_cli("probe", tmp_path / "missing.mp4"), "missing.mp4", "no such file")
    assert_one_line_error(run_cli("probe", empty), "empty.mp4", "empty")
    assert_one_line_error(run_cli("probe", text), "notes.mp4", "not a readable video")
    assert_one_line_error(run_cli("probe", audio_only), "audio.m4a", "no video stream")
    assert_one_line_error(run_cli("extract", cfr_clip, "-o", tmp_path / "x", "--size", "big"), "bad size")
    existing = tmp_path / "existing"
    existing.mkdir()
    assert_one_line_error(run_cli("extract", cfr_clip, "-o", existing), "existing", "output exists")
    assert_one_line_error(run_cli("extract", cfr_clip, "-o", tmp_path / "x", "--scale", "0"), "bad scale 0")


def test_cli_convert_and_extract(cfr_clip: Path, tmp_path: Path) -> None:
    result = run_cli("convert", cfr_clip, "-o", tmp_path / "c.mkv", "--size", "32x24", "-q")
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "c.mkv").width == 32
    result = run_cli("extract", cfr_clip, "-o", tmp_path / "f", "--every", "15", "-q")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "f").glob("*.png"))) == 2


def test_sample_is_real_gameplay_with_audio() -> None:
    info = probe(SAMPLE)
    assert (info.width, info.height) == (320, 240)
    assert info.frame_count == 100 and info.audio
    assert SAMPLE.stat().st_size < 2_000_000


def test_single_image_in_single_image_out(tmp_path: Path) -> None:
    source = tmp_path / "frame.png"
    cv2.imwrite(str(source), textured_frame(3, 40, 30)[..., ::-1])
    out = tmp_path / "keys" / "000003.png"
    result = transcode(source, out, size=(20, 15))
    assert result.frames == 1 and out.is_file()
    assert cv2.imread(str(out)).shape == (15, 20, 3)
    with pytest.raises(OutputExistsError):
        transcode(source, out)


def test_frame_folders_are_written_six_digits_and_read_at_any_padding(tmp_path):
    from vidstyle.io import frame_index, frame_name, numbered_images, sequence_indices
    from vidstyle.masks import MASK_THRESHOLD, as_bool, read_mask_folder, write_mask

    assert frame_name(120) == "000120.png" and frame_name(7, ".flo") == "000007.flo"
    assert frame_index(Path("0120.png")) == 120 and frame_index(Path("key.png")) is None
    folder = tmp_path / "masks"
    folder.mkdir()
    for name in ("5.png", "0040.png", "000120.png"):  # widths users already have on disk
        write_mask(folder / name, np.full((4, 6), MASK_THRESHOLD, np.uint8))
    assert list(numbered_images(folder, what="mask")) == [5, 40, 120]
    masks = read_mask_folder(folder)
    assert list(masks) == [5, 40, 120] and all(as_bool(m).all() for m in masks.values())
    assert sequence_indices([Path("b.png"), Path("a.png")]) == [0, 1]
    write_mask(folder / "00040.png", np.zeros((4, 6), np.uint8))
    with pytest.raises(InputError, match="two mask files for frame 40"):
        numbered_images(folder, what="mask")
    (folder / "00040.png").rename(folder / "painted.png")
    with pytest.raises(InputError, match="mask name 'painted.png' is not a frame index"):
        numbered_images(folder, what="mask")
