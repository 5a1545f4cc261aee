"""Audio carried from a source file into an output, packet for packet.

Audio is copied without re-encoding when the output container can hold its
codec; otherwise it is re-encoded once to the container's usual codec (AAC, or
Opus for WebM) with a warning. Packets are read lazily and muxed in step with
the video so memory stays flat and the file stays interleaved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import av

from ..progress import warn
from ._timeline import TimelineRepair

_FALLBACK_CODECS = ("aac", "opus", "libopus")


class _StreamCopy:
    """One source audio stream and what becomes of it in the output."""

    def __init__(self, source: av.audio.stream.AudioStream, output: av.container.OutputContainer,
                 out_name: Path) -> None:
        self.source = source
        supported = output.supported_codecs
        if source.codec_context.name in supported:
            self.out = output.add_stream_from_template(source)
            self.encoder = None
            return
        target = next((c for c in _FALLBACK_CODECS if c in supported), None)
        if target is None:
            raise ValueError(f"{out_name}: the container holds no audio codec vidstyle can write")
        warn(f"{out_name}: {out_name.suffix} cannot hold {source.codec_context.name} audio; "
             f"re-encoding it as {target} (use .mkv to keep it untouched)")
        rate = source.codec_context.sample_rate or 48000
        self.out = output.add_stream(target, rate=rate)
        self.out.layout = source.codec_context.layout
        self.encoder = av.AudioResampler(format=self.out.format, layout=self.out.layout, rate=rate)

    def write(self, packet: av.Packet, output: av.container.OutputContainer, offset_ticks: int) -> None:
        if self.encoder is None:
            packet.pts -= offset_ticks
            packet.dts -= offset_ticks
            packet.stream = self.out
            output.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for resampled in self.encoder.resample(frame):
                output.mux(self.out.encode(resampled))

    def flush(self, output: av.container.OutputContainer) -> None:
        if self.encoder is not None:
            for resampled in self.encoder.resample(None):
                output.mux(self.out.encode(resampled))
            output.mux(self.out.encode(None))


class AudioCopier:
    """Feeds the audio of ``source`` (trimmed to [start, end) seconds and shifted
    by ``offset`` seconds) into ``output`` as the video advances."""

    def __init__(self, source: Path, output: av.container.OutputContainer, out_name: Path, *,
                 start: float | None, end: float | None, offset: float) -> None:
        self.start, self.end, self.offset = start, end, offset
        self._input = av.open(str(source))
        self._output = output
        self._copies = {s.index: _StreamCopy(s, output, out_name) for s in self._input.streams.audio}
        self._packets: Iterator[av.Packet] = self._input.demux(*self._input.streams.audio) \
            if self._copies else iter(())
        self._pending: av.Packet | None = None
        self._done = not self._copies
        # Joined segments restart their audio timestamps with the video's: moved forward the same way.
        self._timelines: dict[int, TimelineRepair] = {}

    @property
    def has_audio(self) -> bool:
        return bool(self._copies)

    def _next_packet(self) -> av.Packet | None:
        while True:
            try:
                packet = next(self._packets)
            except (StopIteration, av.error.FFmpegError):
                self._done = True
                return None
            if packet.dts is None or packet.pts is None:  # flush packets carry no data
                continue
            timeline = self._timelines.setdefault(packet.stream.index, TimelineRepair(packet.duration or 1))
            shift = timeline(packet.dts) - packet.dts
            if shift:
                packet.dts += shift
                packet.pts += shift
            return packet

    def mux_until(self, seconds: float | None) -> None:
        """Mux every source audio packet whose output time is below ``seconds``
        (all remaining ones when None)."""
        while not self._done:
            packet = self._pending or self._next_packet()
            self._pending = None
            if packet is None:
                return
            source_time = float(packet.pts * packet.time_base)
            if self.start is not None and source_time < self.start:
                continue
            if self.end is not None and source_time >= self.end:
                self._done = True
                return
            if seconds is not None and source_time - self.offset >= seconds:
                self._pending = packet
                return
            copy = self._copies[packet.stream.index]
            copy.write(packet, self._output, int(round(self.offset / packet.time_base)))

    def finish(self) -> None:
        self.mux_until(None)
        for copy in self._copies.values():
            copy.flush(self._output)
        self.close()

    def close(self) -> None:
        self._input.close()
