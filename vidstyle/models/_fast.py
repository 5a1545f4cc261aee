"""``fast``: vidstyle's default generator, ~30x cheaper than ``texler``.

Design (per-pixel cost in the class docstring):

* all heavy work at 1/4 resolution, where a 3x3 conv over 64 channels costs
  16x less per output pixel; residual blocks there give a ~90 px receptive
  field, enough to see the context a brush stroke depends on;
* a U-Net decoder with skips from 1/2 and full resolution and the raw input,
  so thin dark lines and flat colour edges stay sharp;
* few channels (16) at full resolution, plain 3x3 convs (fast on CPU and GPU),
  no normalisation layers: patch statistics then never differ from
  whole-frame statistics, and nothing needs folding for inference;
* bilinear upsampling to the skip's exact size, so any H, W works unpadded;
* optionally (``antialias``), a [1, 2, 1] low-pass before each stride-2 convolution
  (Zhang 2019): without it the generator's strokes jump when the scene moves by a
  pixel, which the temporal losses cannot tell from flicker. Not the default: at 5 CPU
  minutes on six benchmark cases E_warp -2 to -5 % on five, but texture distance +3 to
  +20 % on three (``toon`` +20 %) (docs/BENCHMARKS.md, "Anti-aliased subsampling");
* optionally (``edges``), one more input channel: the gradient magnitude of the
  luma after a 5x5 median filter, i.e. the scene's structural edges without its fine
  texture. Line-art styles ink exactly those; a first 3x3 convolution can take a
  linear gradient but not its magnitude after a median, which the generator otherwise
  has to learn in the few minutes it trains. On the demo (``toon``, one keyframe) the
  ink kept on far frames rose from 0.32 to 0.50 of the reference's, PSNR +0.5 dB. Not
  the default: at 5 CPU minutes on the texture benchmark's neural and watercolor cases
  the texture distance moved -0 to +13 % (``toon``: -11 to +9 %, its strokes level -4 to
  -23 %) (docs/BENCHMARKS.md, "Edges as an input"). New models get the magnitude's ridges
  (``edge_ridges``: 0 off the crest of each edge, as Canny thins it), lines where the ink goes
  rather than bands as wide as the filters: on two ``toon`` cases at 5 CPU minutes the ink kept
  rose from 0.67 / 0.77 to 0.70 / 0.82 (docs/BENCHMARKS.md, "Ridges for the edge input"). Newer
  ones also link the ridges (``edge_link``): a contour's strength carried along its ridge for some
  pixels where its contrast fades, since its ink line goes on there (Canny's hysteresis). Half of
  the demo's ink on far frames lies on such weak stretches, and the generator without links kept
  0.58 of it against 0.91-0.97 on strong edges (docs/BENCHMARKS.md, "Linked ridges");
* a linear output layer (clamped to [0, 1] in eval mode).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from kornia.filters import filter2d, median_blur, spatial_gradient
from torch import nn

from ._base import Architecture, ModelConfig, register_architecture


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        nn.init.zeros_(self.conv2.weight)  # start as identity: stable without normalisation
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


def _blur(x: torch.Tensor) -> torch.Tensor:
    """[1, 2, 1] / 4 in each direction, per channel, edges replicated: the low-pass that
    goes before a stride-2 convolution (Zhang 2019, "Making convolutional networks
    shift-invariant again")."""
    taps = x.new_tensor([0.25, 0.5, 0.25])
    return filter2d(x, (taps[:, None] * taps[None, :])[None], border_type="replicate")


EDGE_MEDIAN = 5  # the median's window: wide enough to flatten a texture's grain, not a 1-2 px line


def structural_edges(rgb: torch.Tensor, *, ridges: bool = False, link: int = 0) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 1, H, W): 4 x the normalised Sobel magnitude of the
    luma after an ``EDGE_MEDIAN`` x ``EDGE_MEDIAN`` median filter (edges replicated), about
    twice the luma step across an edge.

    With ``ridges``, the magnitude only where it peaks across the edge, 0 elsewhere: where
    neither neighbour along the gradient (its direction rounded to 45 degrees) is larger by
    more than ``RIDGE_TOLERANCE`` (the non-maximum suppression of Canny's detector). A line one
    or two pixels wide where an ink line goes, instead of a band as wide as the filters' reach.

    With ``link`` (px, needs ``ridges``), each ridge pixel of at least ``LINK_FLOOR`` also gets
    the strength of the strongest such pixel connected to it along the ridge within ``link``
    steps, less ``LINK_DECAY`` a step (:func:`_link_along_ridges`).
    """
    if link and not ridges:
        raise ValueError("link follows the ridges: it needs ridges=True")
    # BT.601 weights, as OpenCV's grey (what line-art filters such as toon edge-detect on); the metrics'
    # BT.709 luma lives downstream of the models. Trained models depend on these numbers.
    luma = (0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3])
    reach = EDGE_MEDIAN // 2
    flat = median_blur(F.pad(luma, (reach,) * 4, mode="replicate"), (EDGE_MEDIAN, EDGE_MEDIAN))
    gradient = spatial_gradient(flat[..., reach:-reach, reach:-reach])  # (B, 1, 2, H, W), as kornia's sobel
    gx, gy = gradient[:, :, 0], gradient[:, :, 1]
    magnitude = 4.0 * torch.sqrt(gx * gx + gy * gy + 1e-6)
    if not ridges:
        return magnitude
    crest = magnitude * _peaks_across(magnitude, gx, gy)
    return _link_along_ridges(crest, link) if link else crest


_TAN_22_5 = math.tan(math.radians(22.5))  # half the 45-degree step the directions are rounded to
# A neighbour must be larger by this much (in the magnitude's units: a luma step of 0.5 gives
# about 1) to take the ridge: exact ties (a step between two pixels, a plateau) then stay ties
# however the float arithmetic rounds them. Without it a graph exported to ONNX differed from
# PyTorch by 0.29 on smooth test frames, whose plateaus onnxruntime broke the other way.
RIDGE_TOLERANCE = 0.01


def _peaks_across(magnitude: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) bool: ``magnitude`` >= both neighbours along (``gx``, ``gy``) rounded to
    0, 45, 90 or 135 degrees, less ``RIDGE_TOLERANCE`` (y down; the frame's edge replicated)."""
    height, width = magnitude.shape[-2:]
    padded = F.pad(magnitude, (1, 1, 1, 1), mode="replicate")

    def shifted(dy: int, dx: int) -> torch.Tensor:
        return padded[..., 1 + dy:1 + dy + height, 1 + dx:1 + dx + width]

    level = gy.abs() <= _TAN_22_5 * gx.abs()  # the gradient within 22.5 degrees of level
    upright = gx.abs() <= _TAN_22_5 * gy.abs()
    falling = gx * gy > 0  # the gradient points down-right or up-left

    ahead = torch.where(level, shifted(0, 1), torch.where(
        upright, shifted(1, 0), torch.where(falling, shifted(1, 1), shifted(1, -1))))
    behind = torch.where(level, shifted(0, -1), torch.where(
        upright, shifted(-1, 0), torch.where(falling, shifted(-1, -1), shifted(-1, 1))))
    return (magnitude >= ahead - RIDGE_TOLERANCE) & (magnitude >= behind - RIDGE_TOLERANCE)


# Linking: a contour's contrast varies along it, and where it fades an ink line still goes on
# (Canny's hysteresis; an artist's contour). A ridge pixel weaker than LINK_FLOOR (a luma step of
# about 5 %: texture grain and noise, whose ridges branch everywhere) neither takes nor passes on
# a link; each step along a ridge keeps LINK_DECAY of the strength.
LINK_FLOOR = 0.1
LINK_DECAY = 0.97


def _link_along_ridges(crest: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, 1, H, W) ridges (>= 0) -> each pixel of at least ``LINK_FLOOR``: the largest of its own
    value and ``LINK_DECAY ** d`` x that of any such pixel ``d <= steps`` 8-connected steps away
    along them; others unchanged. ``steps`` 3x3 maxima, the floor's mask applied after each."""
    carries = (crest >= LINK_FLOOR).to(crest.dtype) * LINK_DECAY
    linked = crest
    for _ in range(steps):
        linked = torch.maximum(linked, _max3x3(linked) * carries)
    return linked


def _max3x3(x: torch.Tensor) -> torch.Tensor:
    """The 3x3 maximum of non-negative (B, C, H, W) ``x`` (0 beyond the frame), as two 1-D maxima
    of shifted views: 40 us for (8, 1, 32, 32) on one CPU thread, against 270 us for
    ``max_pool2d``'s stride-1 path, which made linked ridges cost 9 % of a training step."""
    padded = F.pad(x, (1, 1, 1, 1))
    rows = torch.maximum(torch.maximum(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:])
    return torch.maximum(torch.maximum(rows[..., :-2, :], rows[..., 1:-1, :]), rows[..., 2:, :])


class _ChannelsLastGrad(torch.autograd.Function):
    """Identity; its gradient comes back in channels_last when the input was.

    The decoder concatenates each upsampled map with a skip. In channels_last the
    gradient of one part of a concatenation is a strided view, and bilinear
    upsampling's backward takes a slow path on it: 2.0 ms against 0.4 ms for
    (8, 32, 32, 32) on one CPU thread, a whole ``fast`` step of batch 8 44 ms
    against 46 ms with the copy this makes."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.channels_last = x.is_contiguous(memory_format=torch.channels_last)
        return x

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=torch.channels_last) if ctx.channels_last else grad


def _upsample(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` bilinearly resized to ``like``'s height and width."""
    x = F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)
    return _ChannelsLastGrad.apply(x) if x.requires_grad else x


class FastGenerator(nn.Module):
    """forward: (B, in_channels, H, W) in [0, 1] -> (B, 3, H, W) in [0, 1], any H, W.

    With the defaults (widths 16/32/64, 4 blocks) it costs about 72 kFLOP per
    output pixel (multiply-add = 2 FLOP), against 2.05 M for ``texler``; ``antialias``
    adds about 0.4 kFLOP (its low-passes have no weights), ``edges`` about 0.6 kFLOP
    (its channel's weights) and the median filter's comparisons. ``edge_ridges`` gives that
    channel as :func:`structural_edges`'s ridges (models built before it have the magnitude);
    the ridges' comparisons took the channel from 1.6 to 2.0 ms for a training batch of eight
    32 px patches on one CPU thread, about 1 % of a step. ``edge_link`` (px; models built before
    it have 0) links the ridges along each contour (:func:`structural_edges`'s ``link``).
    """

    def __init__(self, in_channels: int = 3, widths: tuple[int, int, int] = (16, 32, 64),
                 blocks: int = 4, antialias: bool = False, edges: bool = False, edge_ridges: bool = False,
                 edge_link: int = 0) -> None:
        super().__init__()
        if edge_ridges and not edges:
            raise ValueError("edge_ridges is a form of the edge input: it needs edges=True")
        if edge_link and not edge_ridges:
            raise ValueError("edge_link follows the edge input's ridges: it needs edge_ridges=True")
        if edge_link < 0:
            raise ValueError(f"edge_link is a number of pixels, at least 0 (got {edge_link})")
        self.antialias = antialias
        self.edges = edges
        self.edge_ridges = edge_ridges
        self.edge_link = int(edge_link)
        in_channels += int(edges)
        w0, w1, w2 = widths
        self.enc0 = nn.Conv2d(in_channels, w0, 3, 1, 1)
        self.enc1 = nn.Conv2d(w0, w1, 3, 2, 1)
        self.enc2 = nn.Conv2d(w1, w2, 3, 2, 1)
        self.body = nn.Sequential(*(_ResidualBlock(w2) for _ in range(blocks)))
        self.dec1 = nn.Conv2d(w2 + w1, w1, 3, 1, 1)
        self.dec0 = nn.Conv2d(w1 + w0 + in_channels, w0, 3, 1, 1)
        self.out = nn.Conv2d(w0, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.edges:
            layout = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else None
            with torch.autocast(x.device.type, enabled=False):  # fp32 under bf16 training: the ridges as rendered
                edges = structural_edges(x[:, :3].float(), ridges=self.edge_ridges, link=self.edge_link)
            x = torch.cat((x, edges.to(x.dtype)), dim=1)
            if layout is not None:  # the concatenation comes out contiguous: 20 % slower steps on CPU
                x = x.contiguous(memory_format=layout)
        inp = x * 2.0 - 1.0
        e0 = F.leaky_relu(self.enc0(inp), 0.2)
        e1 = F.leaky_relu(self.enc1(_blur(e0) if self.antialias else e0), 0.2)
        y = self.body(F.leaky_relu(self.enc2(_blur(e1) if self.antialias else e1), 0.2))
        y = F.leaky_relu(self.dec1(torch.cat((_upsample(y, e1), e1), dim=1)), 0.2)
        y = F.leaky_relu(self.dec0(torch.cat((_upsample(y, e0), e0, inp), dim=1)), 0.2)
        out = self.out(y) + 0.5
        # Linear while training (a sigmoid saturates on the flat blacks and whites
        # of painted styles and slows learning); clamped to [0, 1] for use.
        return out if self.training else out.clamp(0.0, 1.0)

    @torch.no_grad()
    def fold_colour_map(self, matrix: torch.Tensor, shift: torch.Tensor) -> None:
        """Make the output ``matrix @ rgb + shift`` of what it was (before the clamp), in place.

        The last layer is linear, so the map costs nothing at run time
        (:func:`vidstyle.train.calibrate_colours`).

        Args:
            matrix: (3, 3) colour matrix.
            shift: (3,) offset, [0, 1] RGB units.
        """
        matrix = matrix.to(self.out.weight)
        shift = shift.to(self.out.bias)
        self.out.weight.copy_(torch.einsum("ij,jkxy->ikxy", matrix, self.out.weight))
        # out = W y + b + 0.5  ->  M (W y + b + 0.5) + t = (M W) y + [M (b + 0.5) + t - 0.5] + 0.5
        self.out.bias.copy_(matrix @ (self.out.bias + 0.5) + shift - 0.5)


def build_fast(config: ModelConfig) -> nn.Module:
    options = dict(config.arch_options)
    if "widths" in options:
        options["widths"] = tuple(options["widths"])
    return FastGenerator(config.in_channels, **options)


FAST = register_architecture(Architecture(
    "fast", build_fast, size_multiple=1, cpu_channels_last=True,
    description="vidstyle default: U-Net, work at 1/4 resolution, ~0.07 MFLOP/pixel"))
