"""Streaming renderer: stylize hours of footage with constant memory, on CPU or CUDA.

Public API::

    result = render("gameplay.mp4", "model.pt", "styled.mp4", stabilize=0.5, keep_hud="hud.png")
    result.frames, result.fps, result.realtime_factor, result.times.shares()
    export_onnx("model.pt", "model.onnx", size=(640, 480))   # or size=None for any size
    frames_out = stylize_clip(model, frames_in)   # in-memory frames, temporal stage included
    render_on_ray("session.mkv", "model.pt", "styled.mp4", address=None)   # chunks on Ray actors, joined
    render_many(["a.mp4", "b.mp4"], "model.pt", "out/", use_ray=True)      # one Ray task per file

The pipeline is decode thread -> model -> encode thread with bounded queues;
output is written as ``OUTPUT.<pid>-<random>.partial`` and renamed when complete.
"""

from ..flow import Motion, MotionEstimator  # re-exported: the renderer streams them
from ._chunks import DEFAULT_WARMUP, Chunk, ChunkResult, FileResult, plan_chunks, source_keyframes
from ._fusion import FusionRunner, fusion_motion_estimator, stylize_clip
from ._hud import composite_hud, load_hud_mask
from ._model import ModelRunner, Numerics
from ._onnx import OnnxExport, export_onnx
from ._pipeline import Pipeline, Stage, StageFailure, StageTimes, run_sequential
from ._processor import FrameProcessor, RenderedBatch, SourceFrame
from ._render import (CPU_RENDER_PRESET, RenderOptions, RenderResult, default_preset, render,
                      working_size)
from ._ray import RayRenderResult, render_many, render_on_ray
from ._runtime import Device, Precision, RuntimePlan, cpu_has_native_bf16, resolve_runtime
from ._stabilize import Stabilizer, TemporalBlend, temporal_blend
from ._yuv import RgbToYuv420, rgb_to_yuv420

__all__ = [
    "CPU_RENDER_PRESET", "Chunk", "ChunkResult", "DEFAULT_WARMUP", "Device", "FileResult", "FrameProcessor",
    "FusionRunner", "ModelRunner", "Motion", "MotionEstimator", "Numerics", "OnnxExport", "Pipeline", "Precision",
    "RayRenderResult", "RenderOptions", "RenderResult", "RenderedBatch", "RgbToYuv420", "RuntimePlan",
    "SourceFrame", "Stabilizer", "Stage", "StageFailure", "StageTimes", "TemporalBlend", "composite_hud",
    "cpu_has_native_bf16", "default_preset", "export_onnx", "fusion_motion_estimator", "load_hud_mask",
    "plan_chunks", "render", "render_many", "render_on_ray", "resolve_runtime", "rgb_to_yuv420", "run_sequential",
    "source_keyframes", "stylize_clip", "temporal_blend", "working_size"
]
