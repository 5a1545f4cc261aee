"""``vidstyle probe``, ``vidstyle extract`` and ``vidstyle convert``."""

from __future__ import annotations

import argparse
import json

from ._options import add_common, add_encoder, add_range, add_size


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("probe", help="describe a video, image folder or image",
                              description="Size, frame rates (and whether variable), frame count, "
                              "duration, colour matrix/range/transfer, rotation and audio streams.")
    p.add_argument("input", help="video file, image folder or image")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_common(p, overwrite=False)
    p.set_defaults(func=run_probe)

    p = subparsers.add_parser("extract", help="write frames as PNGs named by source frame index",
                              description="Writes DIR/000120.png etc. (zero-based source index). "
                              "--mirror adds horizontally flipped copies under DIR/mirrored/.")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    add_size(p)
    p.add_argument("--every", type=int, default=1, metavar="N", help="keep every Nth frame")
    add_range(p)
    p.add_argument("--mirror", action="store_true", help="also write flipped copies (augmentation)")
    add_common(p)
    p.set_defaults(func=run_extract)

    p = subparsers.add_parser("convert", help="re-encode or trim a video, keeping timestamps and audio",
                              description="Decode, optionally resize and trim, and encode with BT.709 "
                              "tags; audio is copied packet for packet. A folder OUTPUT gets PNG frames.")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT")
    add_size(p)
    add_range(p)
    add_encoder(p)
    add_common(p)
    p.set_defaults(func=run_convert)


def run_probe(args: argparse.Namespace) -> int:
    from ..io import probe

    info = probe(args.input)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    count = "unknown" if info.frame_count is None else str(info.frame_count)
    if info.frame_count_is_estimate and info.frame_count is not None:
        count += " (estimate)"
    fps = f"{info.nominal_fps:.3f} nominal, {info.average_fps:.3f} average" if info.nominal_fps else "unknown"
    rows = [
        ("file", str(info.path)), ("kind", info.kind.value), ("size", f"{info.width}x{info.height}"),
        ("codec", f"{info.codec} ({info.pixel_format})"),
        ("fps", fps + (", variable (VFR)" if info.is_vfr else ", constant")),
        ("frames", count), ("duration", "unknown" if info.duration is None else f"{info.duration:.3f} s"),
        ("colour", f"{info.color.matrix.value}, {info.color.range.value} range, {info.color.transfer.value}"
                   + ("" if info.color.matrix_from_tag else " (matrix untagged, guessed)")),
        ("rotation", f"{info.rotation} deg"),
        ("audio", "; ".join(f"#{a.index} {a.codec} {a.sample_rate} Hz {a.channels} ch" for a in info.audio)
                  or "none"),
    ]
    for key, value in rows:
        print(f"{key:>9}  {value}")
    return 0


def requested_size(args: argparse.Namespace) -> tuple[int, int] | None:
    """The frame size ``--size``/``--scale`` ask for (None: keep the source's)."""
    from ..io import probe, scaled_size

    if args.size is None and args.scale is None:
        return None
    source = probe(args.input)
    return scaled_size(source.width, source.height, args.size, args.scale)


def run_extract(args: argparse.Namespace) -> int:
    from ..io import extract_frames
    from ..progress import info

    count = extract_frames(args.input, args.output, size=requested_size(args), every=args.every, start=args.start,
                           end=args.end, mirror=args.mirror, overwrite=args.overwrite)
    info(f"wrote {count} frames to {args.output}" + (" (and mirrored/)" if args.mirror else ""))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from ..io import transcode
    from ..progress import info

    result = transcode(args.input, args.output, start=args.start, end=args.end, size=requested_size(args),
                       codec=args.codec, crf=args.crf, preset=args.preset, audio=not args.no_audio,
                       overwrite=args.overwrite, desc="convert")
    info(f"wrote {result.frames} frames to {result.output}")
    return 0
