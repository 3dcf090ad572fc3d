"""Timing one module on one backend: warm-up, many runs, median and spread.

Backends: ``eager`` (PyTorch on the CPU), ``onnxruntime`` (the module exported to ONNX, run by
ONNX Runtime's CPU provider) and ``cuda`` (PyTorch eager on a GPU, timed with CUDA events;
batch-1 eager latency, launch-bound, not a CUDA graph). Each returns a ``Timing``.

Call these only in a clean measuring process (``nas.hardware.child``): its environment fixes
the malloc thresholds and thread counts, and it has not traced or exported anything else first.
"""

from __future__ import annotations

import io
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nas.errors import NasError

BACKENDS = ("eager", "onnxruntime", "cuda")


@dataclass(frozen=True, kw_only=True)
class TimingSettings:
    """How to time. A burst warms up for ``warmup_s``, then runs until ``target_s`` is spent,
    within [min_runs, max_runs]. Each module gets ``rounds`` bursts seconds apart (the child
    interleaves many modules); the round with the lowest median counts. Other work on a shared
    machine only ever adds time, and it comes in bursts of seconds, so the best round is the
    one that ran undisturbed."""

    backend: str = "onnxruntime"
    threads: int = 1
    batch: int = 1
    warmup_s: float = 0.03
    min_runs: int = 10
    max_runs: int = 200
    target_s: float = 0.06
    rounds: int = 3

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise NasError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        for name in ("threads", "batch", "min_runs", "max_runs", "rounds"):
            if getattr(self, name) < 1:
                raise NasError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_runs < self.min_runs:
            raise NasError(f"max_runs ({self.max_runs}) < min_runs ({self.min_runs})")
        if self.warmup_s < 0 or self.target_s < 0:
            raise NasError("warmup_s and target_s must be >= 0")


@dataclass(frozen=True)
class Timing:
    """Milliseconds: median, 10th and 90th percentile over ``runs`` runs."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    runs: int


def _summarise(seconds: list[float]) -> Timing:
    ms = sorted(s * 1e3 for s in seconds)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return Timing(statistics.median(ms), pick(0.1), pick(0.9), len(ms))


def _run_count(per_run_s: float, settings: TimingSettings) -> int:
    wanted = int(settings.target_s / max(per_run_s, 1e-6))
    return max(settings.min_runs, min(settings.max_runs, wanted))


def time_callable(run: Callable[[], object], settings: TimingSettings) -> Timing:
    """Wall-clock timing of a synchronous ``run`` (CPU backends): one burst."""
    start, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - start < settings.warmup_s:
        run()
        warm += 1
    per_run = (time.perf_counter() - start) / warm
    seconds = []
    for _ in range(_run_count(per_run, settings)):
        t0 = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - t0)
    return _summarise(seconds)


# A prepared timer: built once (export, session), then asked for one burst per round.
Burst = Callable[[TimingSettings], Timing]


def prepare_eager(module: nn.Module, shape: tuple, settings: TimingSettings) -> Burst:
    x = torch.randn(shape)

    def burst(settings: TimingSettings) -> Timing:
        with torch.inference_mode():
            return time_callable(lambda: module(x), settings)

    return burst


def export_onnx(module: nn.Module, shape: tuple) -> bytes:
    """The module as an ONNX model (TorchScript exporter: fast and enough for these convs)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(shape),), buffer, dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"], do_constant_folding=True)
    return buffer.getvalue()


def onnxruntime_session(model: bytes, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def prepare_onnxruntime(module: nn.Module, shape: tuple, settings: TimingSettings) -> Burst:
    session = onnxruntime_session(export_onnx(module, shape), settings.threads)
    feed = {"x": torch.randn(shape).numpy()}
    return lambda settings: time_callable(lambda: session.run(None, feed), settings)


def prepare_cuda(module: nn.Module, shape: tuple, settings: TimingSettings) -> Burst:
    """Eager batch-``batch`` latency on the GPU, each run bracketed by CUDA events.

    Checked on an H100 (README, "On a GPU"). Each run is synchronised, so launch overhead
    counts, as it does for a batch-1 request.
    """
    if not torch.cuda.is_available():
        raise NasError("backend 'cuda' needs a CUDA GPU; none is visible to torch")
    module = module.cuda()
    x = torch.randn(shape, device="cuda")

    def burst(settings: TimingSettings) -> Timing:
        with torch.inference_mode():
            start, warm = time.perf_counter(), 0
            while warm < 3 or time.perf_counter() - start < settings.warmup_s:
                module(x)
                torch.cuda.synchronize()
                warm += 1
            per_run = (time.perf_counter() - start) / warm
            seconds = []
            for _ in range(_run_count(per_run, settings)):
                begin = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                begin.record()
                module(x)
                end.record()
                end.synchronize()
                seconds.append(begin.elapsed_time(end) / 1e3)
        return _summarise(seconds)

    return burst


PREPARERS = {"eager": prepare_eager, "onnxruntime": prepare_onnxruntime, "cuda": prepare_cuda}


def prepare(module: nn.Module, shape: tuple, settings: TimingSettings) -> Burst:
    return PREPARERS[settings.backend](module, shape, settings)


def best_of(rounds: list[Timing]) -> Timing:
    """The round with the lowest median, counting every run made."""
    best = min(rounds, key=lambda timing: timing.median_ms)
    return Timing(best.median_ms, best.p10_ms, best.p90_ms, sum(t.runs for t in rounds))


def time_module(module: nn.Module, shape: tuple, settings: TimingSettings) -> Timing:
    """``settings.rounds`` back-to-back bursts of one module (the child interleaves instead)."""
    burst = prepare(module, shape, settings)
    return best_of([burst(settings) for _ in range(settings.rounds)])
