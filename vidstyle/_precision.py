"""The number format a model runs in, one choice for the renderer and the trainer."""

from __future__ import annotations

import torch

from ._choice import Choice


class Precision(Choice):
    """``--precision``. AUTO is each command's own choice: the renderer runs fp16
    on CUDA (tensor cores) and bf16 on CPUs that compute it natively, the
    trainer bf16 autocast wherever the hardware computes bf16 natively; fp32
    elsewhere."""

    AUTO = "auto"
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"

    @classmethod
    def label(cls) -> str:
        return "precision"

    @property
    def dtype(self) -> torch.dtype:
        return {Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16}.get(self, torch.float32)
