"""Reading and writing gameplay video with timestamps, colour and audio kept.

Public API::

    info = probe("clip.mp4")                     # VideoInfo
    with open_video("clip.mp4", size=(320, 240)) as reader:
        for frame in reader:                     # Frame: index, pts, time_base, rgb
            ...
    with VideoWriter("out.mp4", width=320, height=240, time_base=info.time_base,
                     rate=info.nominal_fps, audio_from="clip.mp4") as writer:
        writer.write(rgb, pts=frame.pts)
    transcode("clip.mp4", "out.mp4", transform=my_frame_iterator_fn)
    extract_frames("clip.mp4", "frames/", every=10)
    join_videos([part0, part1], "joined.mp4", audio_from="clip.mp4")   # packet copy, audio once
    numbered_images("keys/", what="keyframe")     # {120: keys/000120.png, ...}; frame_name(120)
"""

from ._colour import frame_color, to_rgb_args
from ._concat import JoinResult, join_videos
from ._convert import MIRROR_FOLDER, TranscodeResult, extract_frames, transcode
from ._atomic import MANIFEST, atomic_output, remove_stale, write_failure
from ._frames import FRAME_DIGITS, frame_index, frame_name, numbered_images, sequence_indices
from ._paths import (CONTAINER_FORMATS, check_output, list_images, natural_key, parse_size,
                     scaled_size)
from ._probe import image_alpha, probe, read_image_rgb
from ._reader import FrameReader, clip_indices, clip_length, open_video, pts_ranks, read_frames
from ._types import (AudioStreamInfo, Codec, ColorInfo, ColorMatrix, ColorRange, Frame, SourceKind,
                     Transfer, VideoInfo)
from ._writer import (DEFAULT_CRF, FolderWriter, FrameWriter, ImageWriter, VideoWriter, check_encoder_settings,
                      open_writer, write_image)

__all__ = [
    "AudioStreamInfo", "CONTAINER_FORMATS", "Codec", "ColorInfo", "ColorMatrix", "ColorRange", "DEFAULT_CRF",
    "FRAME_DIGITS", "FolderWriter", "Frame", "FrameReader", "FrameWriter", "ImageWriter", "JoinResult", "MANIFEST",
    "MIRROR_FOLDER", "SourceKind", "Transfer", "TranscodeResult", "VideoInfo", "VideoWriter", "atomic_output",
    "check_encoder_settings", "check_output", "clip_indices", "clip_length", "extract_frames", "frame_color", "frame_index",
    "frame_name", "image_alpha", "join_videos", "list_images", "natural_key", "numbered_images", "open_video",
    "open_writer", "parse_size", "probe", "pts_ranks", "read_frames", "read_image_rgb", "remove_stale",
    "scaled_size", "sequence_indices", "to_rgb_args", "transcode", "write_failure", "write_image",
]
