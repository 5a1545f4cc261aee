"""Small generated media for the tests, written with raw PyAV (not the code under test).

``bench/sweep_hostile.py`` builds its hostile inputs (joined segments, repeated timestamps,
a damaged packet) with the same functions, so the sweep and the tests check the same files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter


def textured_frame(index: int, width: int, height: int) -> np.ndarray:
    """A deterministic moving texture: gradients plus a drifting checkerboard."""
    ys, xs = np.mgrid[0:height, 0:width]
    shift = 2 * index
    checker = (((xs + shift) // 8 + ys // 8) % 2) * 90
    r = (xs * 255 // max(width - 1, 1)).astype(np.int32)
    g = (ys * 255 // max(height - 1, 1)).astype(np.int32)
    b = checker + 60
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def make_clip(path: Path, *, frames: int = 30, size: tuple[int, int] = (64, 48), fps: int = 20,
              vfr: bool = False, audio: bool = True, full_range: bool = False,
              colorspace: int = 1, make_frame=textured_frame, codec: str = "libx264") -> Path:
    """Write a clip. VFR clips use a 1/1000 time base with uneven frame durations."""
    width, height = size
    time_base = Fraction(1, 1000) if vfr else Fraction(1, fps)
    reformatter = VideoReformatter()
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv444p" if (width % 2 or height % 2) else "yuv420p"
        video.time_base = time_base
        video.codec_context.time_base = time_base
        video.codec_context.colorspace = colorspace
        video.codec_context.color_range = 2 if full_range else 1
        video.options = {"crf": "1", "preset": "ultrafast"}
        audio_stream = None
        if audio:
            audio_stream = container.add_stream("aac", rate=16000)
            audio_stream.layout = "mono"
        sws_space = Colorspace.ITU709 if colorspace == 1 else Colorspace.ITU601
        sws_range = ColorRange.JPEG if full_range else ColorRange.MPEG
        pts = 0
        for i in range(frames):
            rgb = av.VideoFrame.from_ndarray(make_frame(i, width, height), format="rgb24")
            frame = reformatter.reformat(rgb, format=video.pix_fmt, dst_colorspace=sws_space,
                                         dst_color_range=sws_range)
            frame.colorspace, frame.color_range = colorspace, (2 if full_range else 1)
            frame.pts, frame.time_base = pts, time_base
            container.mux(video.encode(frame))
            pts += [17, 33, 50][i % 3] if vfr else 1
        container.mux(video.encode(None))
        if audio_stream is not None:
            seconds = pts * float(time_base)
            samples = int(seconds * 16000)
            t = np.arange(samples) / 16000
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            chunk = 1024
            for start in range(0, samples, chunk):
                part = wave[:, start:start + chunk]
                aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp", layout="mono")
                aframe.sample_rate = 16000
                aframe.pts = start
                container.mux(audio_stream.encode(aframe))
            container.mux(audio_stream.encode(None))
    return path


def packet_clip(path: Path, pts: list[int], *, fmt: str | None = None, gop: int | None = None,
                time_base: Fraction = Fraction(1, 20)) -> Path:
    """One 64x48 x264 frame per entry of ``pts`` (no B-frames), muxed with exactly those timestamps:
    repeats and restarts included, which no well-behaved writer would produce."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = time_base
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "10", "bframes": "0",
                          **({"g": str(gop)} if gop else {})}
        for number, stamp in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(textured_frame(number, 64, 48), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = number, time_base
            for packet in stream.encode(frame):
                packet.pts = packet.dts = stamp
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def joined_segments(folder: Path, frames: int) -> Path:
    """``folder/joined.ts``: two copies of a ``frames``-frame MPEG-TS segment, as ``cat a.ts b.ts``
    joins recordings (the timestamps restart at 0 halfway)."""
    segment = packet_clip(folder / "segment.ts", list(range(frames)), fmt="mpegts")
    joined = folder / "joined.ts"
    joined.write_bytes(segment.read_bytes() * 2)
    return joined


def damage_packet(source: Path, output: Path, index: int) -> Path:
    """``output``: ``source`` with the payload of video packet ``index`` overwritten (all but its
    first 4 bytes), so that this frame no longer decodes while the container stays readable."""
    with av.open(str(source)) as container:
        pos, size = [(p.pos, p.size) for p in container.demux(video=0) if p.size][index]
    data = bytearray(source.read_bytes())
    data[pos + 4:pos + size] = b"\x55" * (size - 4)
    output.write_bytes(bytes(data))
    return output


def video_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * stream.time_base) for f in container.decode(stream)]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.dts is not None]
