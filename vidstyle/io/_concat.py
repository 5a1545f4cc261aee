"""``join_videos``: one file from parts encoded alike, packets copied, audio added once.

Used to join chunks rendered on several machines (``vidstyle render --ray``): every part
holds a run of the source's frames with the source's own timestamps, encoded with the same
settings; the parts' video packets are copied in order (no re-encoding, so joining costs
reading and writing the bytes), and the source's audio is muxed once alongside.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import av

from ..errors import InputError, VidstyleError
from ._audio import AudioCopier
from ._atomic import atomic_output
from ._paths import CONTAINER_FORMATS


@dataclass(frozen=True)
class JoinResult:
    """The joined file, its video packet count and the bytes copied."""

    path: Path
    packets: int
    bytes: int


def join_videos(parts: list[Path], output: str | Path, *, audio_from: str | Path | None = None,
                overwrite: bool = False) -> JoinResult:
    """Copy the video packets of ``parts`` (in order) into ``output``, with the audio of
    ``audio_from`` copied once; written as a partial file and renamed when complete.

    The parts must have the same codec, size and codec headers (the same encoder settings)
    and timestamps in one time base that increase from part to part; decode timestamps are
    kept, and nudged forward by one tick where a part's first ones would not follow the
    previous part's (presentation timestamps are never changed).
    """
    output = Path(output)
    if not parts:
        raise VidstyleError("nothing to join", output)
    fmt = CONTAINER_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise VidstyleError(f"cannot join into {output.suffix!r} files", output)
    packets = size = 0
    with ExitStack() as stack:
        temp = stack.enter_context(atomic_output(output, overwrite=overwrite))
        out = stack.enter_context(av.open(str(temp), mode="w", format=fmt))
        first = stack.enter_context(_open(parts[0]))
        template = first.streams.video[0]
        stream = out.add_stream_from_template(template)
        audio = None
        if audio_from is not None:
            audio = AudioCopier(Path(audio_from), out, output, start=None, end=None, offset=0.0)
            stack.callback(audio.close)
        last_dts: int | None = None
        for part in parts:
            with _open(part) as container:
                video = container.streams.video[0]
                _check_alike(part, video, template)
                for packet in container.demux(video):
                    if packet.dts is None:
                        continue  # the demuxer's end-of-stream marker
                    if last_dts is not None and packet.dts <= last_dts:
                        packet.dts = last_dts + 1
                        if packet.pts is not None and packet.pts < packet.dts:
                            raise VidstyleError(f"{part.name} overlaps the part before it (timestamp "
                                                f"{packet.pts} after {last_dts})", output)
                    last_dts = packet.dts
                    packet.stream = stream
                    size += packet.size
                    packets += 1
                    if audio is not None and packet.pts is not None:
                        audio.mux_until(float(packet.pts * video.time_base))
                    out.mux(packet)
        if audio is not None:
            audio.finish()
    return JoinResult(path=output, packets=packets, bytes=size)


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise InputError(f"not a readable video part ({err})", path) from None
    if not container.streams.video:
        container.close()
        raise InputError("has no video stream", path)
    return container


def _check_alike(path: Path, video: av.video.stream.VideoStream, template: av.video.stream.VideoStream) -> None:
    ours, theirs = video.codec_context, template.codec_context
    if (ours.name, ours.width, ours.height, video.time_base, ours.extradata) != \
            (theirs.name, theirs.width, theirs.height, template.time_base, theirs.extradata):
        raise InputError(f"encoded unlike the first part ({ours.name} {ours.width}x{ours.height}, time base "
                         f"{video.time_base}); parts must share codec, size and encoder settings", path)
