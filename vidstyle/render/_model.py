"""The model as the renderer runs it: device, memory format, number format, compilation.

One place prepares and calls the model, so the benchmark's "model only" figure
measures exactly what the render does. On CPU, bf16 runs with the weights and
the frames converted (no casts around every layer: 1.4-1.8x faster than autocast
for the ``fast`` generator on AMX in our runs); on CUDA under autocast. A model that fails on its
first call in a reduced precision is retried in the next safer mode (autocast,
then fp32) with one warning line; a failing ``torch.compile`` falls back to eager.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import threading
from typing import Callable

import torch

from ..models import Stylizer, flush_negligible_weights
from ..progress import warn
from ._runtime import Precision, RuntimePlan


class Numerics(enum.Enum):
    """How the model's arithmetic is done."""

    FP32 = "fp32"
    AUTOCAST = "autocast"  # fp32 weights; convolutions cast to fp16/bf16 on the fly
    CONVERTED = "converted"  # weights and frames in bf16 (CPU)


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:120]}"


class ModelRunner:
    """Callable: (B, C, H, W) float32 frames on the plan's device -> (B, 3, H, W)
    float32, in the plan's precision and memory format. The caller's model is
    copied, never modified. ``numerics`` overrides how a reduced precision is
    applied (default: autocast on CUDA, converted weights on CPU). Several threads
    may call it at once (the model workers of a CPU render) on the same weights."""

    def __init__(self, model: Stylizer, plan: RuntimePlan, *, compile_model: bool = False,
                 numerics: Numerics | None = None) -> None:
        self.plan = plan
        self.memory_format = torch.channels_last if plan.channels_last else torch.contiguous_format
        self._fp32_model = copy.deepcopy(model).to(plan.device).eval().to(memory_format=self.memory_format)
        flush_negligible_weights(self._fp32_model)  # denormal products: several times slower on CPU
        self.model = self._fp32_model
        self.numerics = Numerics.FP32
        if plan.precision is not Precision.FP32:
            self._use(numerics or (Numerics.AUTOCAST if plan.is_cuda else Numerics.CONVERTED))
        self._forward: Callable[[torch.Tensor], torch.Tensor] = self.model
        self._compiled = compile_model and self._compile()
        self._tried = False
        self._first_lock = threading.Lock()  # model workers: one first call, the others wait for it

    @property
    def precision(self) -> Precision:
        """The precision the model actually runs in (after any fallback)."""
        return Precision.FP32 if self.numerics is Numerics.FP32 else self.plan.precision

    def describe(self) -> str:
        """E.g. ``bf16 (weights converted), channels_last``."""
        how = {Numerics.FP32: "", Numerics.AUTOCAST: " (autocast)",
               Numerics.CONVERTED: " (weights converted)"}[self.numerics]
        layout = "channels_last" if self.plan.channels_last else "contiguous"
        compiled = ", compiled" if self._compiled else ""
        return f"{self.precision.value}{how}, {layout}{compiled}"

    def _use(self, numerics: Numerics) -> None:
        self.numerics = numerics
        # A converted copy: the fp32 model stays for the fallbacks.
        self.model = (copy.deepcopy(self._fp32_model).to(self.plan.precision.dtype)
                      if numerics is Numerics.CONVERTED else self._fp32_model)
        self._forward = self.model

    def _compile(self) -> bool:
        try:
            # CUDA graphs ("reduce-overhead") remove per-layer launch costs for a fixed batch shape.
            mode = "reduce-overhead" if self.plan.is_cuda else "default"
            self._forward = torch.compile(self.model, mode=mode, dynamic=False)  # type: ignore[assignment]
        except Exception as err:  # noqa: BLE001 - no compiler, unsupported platform
            warn(f"torch.compile unavailable ({type(err).__name__}: {err}); running eagerly")
            return False
        return True

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        dtype = self.plan.precision.dtype if self.numerics is Numerics.CONVERTED else torch.float32
        autocast = (torch.autocast(self.plan.device.type, dtype=self.plan.precision.dtype)
                    if self.numerics is Numerics.AUTOCAST else contextlib.nullcontext())
        with autocast:
            return self._forward(x.to(dtype=dtype, memory_format=self.memory_format))

    def _first_run(self, x: torch.Tensor) -> torch.Tensor:
        """The first call, where compilation happens and missing kernels show up."""
        if self._compiled:
            try:
                return self._run(x)
            except Exception as err:  # noqa: BLE001 - a missing C++ compiler shows up here
                warn(f"torch.compile failed ({_first_line(err)}); running eagerly")
                self._compiled, self._forward = False, self.model
        modes = [Numerics.CONVERTED, Numerics.AUTOCAST, Numerics.FP32]
        tried = self.describe()
        failure: BaseException | None = None
        for numerics in modes[modes.index(self.numerics):]:
            if numerics is not self.numerics:
                self._use(numerics)
            try:
                out = self._run(x)
            except Exception as err:  # noqa: BLE001 - e.g. an op without a bf16 kernel
                if numerics is Numerics.FP32:
                    raise  # not a precision problem: the model fails in fp32 too
                failure = failure or err
                continue
            if failure is not None:
                warn(f"the model fails in {tried} ({_first_line(failure)}); running it in {self.describe()}")
            return out
        raise AssertionError("unreachable: FP32 either returns or raises")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        real = x.shape[0]
        if self._compiled and real < self.plan.batch:  # keep the compiled (graph) shape fixed
            x = torch.cat((x, x[-1:].expand(self.plan.batch - real, -1, -1, -1)), dim=0)
        if self._tried:
            out = self._run(x)
        else:
            with self._first_lock:
                if self._tried:
                    out = self._run(x)
                else:
                    out = self._first_run(x)
                    self._tried = True
        # Not a copy in fp32: with CUDA graphs the next call overwrites it, so do not modify it in place.
        return out[:real].float()
