"""Colour metadata: FFmpeg tags -> ColorInfo -> swscale arguments.

swscale assumes BT.601 limited range unless told otherwise, which shifts the
colours of every HD or full-range recording; so the reader always passes the
source's matrix and range explicitly, and the writer always converts with
BT.709 limited range and tags the stream to match.
"""

from __future__ import annotations

from av.video.reformatter import ColorRange as SwsRange
from av.video.reformatter import Colorspace as SwsColorspace
from av.video.reformatter import Interpolation

from ._types import ColorInfo, ColorMatrix, ColorRange, Transfer

# FFmpeg AVColorSpace values.
_AVCOL_SPC = {
    0: ColorMatrix.RGB,
    1: ColorMatrix.BT709,
    4: ColorMatrix.FCC,
    5: ColorMatrix.BT601,  # BT470BG
    6: ColorMatrix.BT601,  # SMPTE170M
    7: ColorMatrix.SMPTE240M,
    9: ColorMatrix.BT2020,  # BT2020_NCL
    10: ColorMatrix.BT2020,  # BT2020_CL
}
_AVCOL_TRC_PQ = 16  # SMPTE2084
_AVCOL_TRC_HLG = 18  # ARIB_STD_B67
_AVCOL_RANGE_FULL = 2  # JPEG

# AVColorSpace/Primaries/TRC value 1 is BT.709 for all three; range 1 is MPEG (limited).
# Exact rounding and full-resolution chroma: 1/255 instead of 3/255 error per round trip,
# for about 2x the (small) conversion cost.
ACCURATE_FLAGS = Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT | Interpolation.FULL_CHR_H_INP

BT709_TAG = 1
LIMITED_RANGE_TAG = 1

_SWS_MATRIX = {
    ColorMatrix.BT709: SwsColorspace.ITU709,
    ColorMatrix.BT601: SwsColorspace.ITU601,
    ColorMatrix.BT2020: SwsColorspace.BT2020,
    ColorMatrix.SMPTE240M: SwsColorspace.SMPTE240M,
    ColorMatrix.FCC: SwsColorspace.FCC,
    ColorMatrix.RGB: SwsColorspace.ITU601,  # unused for RGB sources
}


def color_info(colorspace: int, color_range: int, color_trc: int, pixel_format: str,
               height: int) -> ColorInfo:
    """Interpret FFmpeg's colour tags; untagged streams get the usual guess
    (BT.709 from 720 lines up, BT.601 below), marked ``matrix_from_tag=False``."""
    matrix = _AVCOL_SPC.get(colorspace)
    from_tag = matrix is not None
    if matrix is None:
        matrix = ColorMatrix.BT709 if height >= 720 else ColorMatrix.BT601
    full = color_range == _AVCOL_RANGE_FULL or pixel_format.startswith("yuvj")
    if pixel_format.startswith(("rgb", "bgr", "gbr", "argb", "abgr")):
        matrix, full = ColorMatrix.RGB, True
    transfer = {_AVCOL_TRC_PQ: Transfer.PQ, _AVCOL_TRC_HLG: Transfer.HLG}.get(color_trc, Transfer.SDR)
    return ColorInfo(matrix, ColorRange.FULL if full else ColorRange.LIMITED, transfer, from_tag)


def frame_color(frame, fallback: ColorInfo) -> ColorInfo:
    """The colour of a decoded ``av.VideoFrame`` from its own tags, else ``fallback`` (the
    stream's, from :func:`~vidstyle.io.probe`) when the frame carries no matrix tag."""
    color = color_info(frame.colorspace, frame.color_range, frame.color_trc, frame.format.name, frame.height)
    return color if color.matrix_from_tag else fallback


def to_rgb_args(color: ColorInfo) -> dict[str, SwsColorspace | SwsRange]:
    """The ``VideoReformatter.reformat`` arguments that convert a frame of ``color`` to
    full-range RGB (the reader's frames and the shots pass's thumbnails alike)."""
    return {"src_colorspace": _SWS_MATRIX[color.matrix],
            "src_color_range": SwsRange.JPEG if color.range is ColorRange.FULL else SwsRange.MPEG,
            "dst_color_range": SwsRange.JPEG}
