"""Timing modules on one backend: rounds of runs, repeated until each estimate is stable.

Backends: ``eager`` (PyTorch on the CPU), ``onnxruntime`` (the module exported to ONNX, run by
ONNX Runtime's CPU provider) and ``cuda`` (PyTorch eager on a GPU, timed with CUDA events;
batch-1 eager latency, launch-bound, not a CUDA graph). A prepared module gives one *round* per
call: a warm-up, then runs for ``target_s``. ``measure_rounds`` times many modules round-robin,
so the rounds of one module lie seconds apart (at least ``min_gap_s``) and a drift of the
machine hits every module alike. The rounds, the statistic and the stopping rule are the same
for every backend; only how one run is timed differs.

Protocols (issue 17). ``adaptive``: at least ``min_rounds`` rounds, then more, up to
``max_rounds``, until the estimate is stable to ``tolerance`` (``spread``); an entry that does
not settle keeps its best estimate, marked unstable. ``fixed``: the protocol before issue 17,
kept for comparison: ``rounds`` rounds, no gap, wall clock, lowest round median.

What is estimated, and why (``benchmarks/timing_statistics.py``, run on the busy development
machine, where other work, our own trainings included, kept both cores loaded: development
measurements, not published figures; README, "Timing protocol"):

- The clock. A run during which the timing thread lost the CPU to another process is not a
  measurement of the module: on a shared machine a 10 ms network is preempted in most runs,
  a 0.1 ms block in few, and raising the measuring process's priority does not help against
  work in other sessions (Linux's autogroup scheduling shares the CPU between sessions
  whatever their niceness). With one thread, ONNX Runtime and eager PyTorch compute in the
  calling thread, so the thread's CPU time of a run is its time without the time it spent
  descheduled; on runs that kept the CPU the two clocks agree to microseconds, and the wall
  time counts (``RoundRuns.on``).
  ``clock="auto"`` takes the CPU time for one-thread CPU backends and the wall clock
  otherwise (several threads: the timing thread's CPU time misses the others'; cuda: CUDA
  events).
- The statistic: ``min_round_p10``, the fastest tenth of the quietest round. Other work
  also slows the CPU without preempting it (cache and memory traffic of the other core, the
  host's load on a virtual machine), in states lasting seconds; a round (~0.1 s) lies in one
  state, so the round with the lowest low quantile is the quiet state, and its tenth
  percentile is robust to a short disturbance inside that round. Against the median-based
  and pooled statistics it gave the lowest disagreement between two processes on networks
  and on predictions, in both recordings; the minimum run was steadiest on parts alone but
  depends on how many runs an entry got (up to 200 a round for a small block, 10 for a
  network), which biases sums against whole networks.
- The stopping rule: the statistic on the even rounds against the statistic on the odd
  rounds (``spread``): two independent halves agreeing within ``tolerance`` is what a second
  process measuring the same module would see. At least 4 rounds (two a half): with 3, one
  round alone made a half, and halves that agreed by chance stopped entries early; replayed
  on the same recordings, a minimum of 4 reached the agreement of all their rounds with
  fewer rounds.

Call these only in a clean measuring process (``nas.hardware.child``): its environment fixes
the malloc thresholds and thread counts, and it has not traced or exported anything else first.
"""

from __future__ import annotations

import io
import math
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from nas.errors import NasError

BACKENDS = ("eager", "onnxruntime", "cuda")
PROTOCOLS = ("adaptive", "fixed")
CLOCKS = ("auto", "wall", "cpu")
CPU_BACKENDS = ("eager", "onnxruntime")


# --- statistics: an estimate of a module's quiet latency from its rounds ------------------------
def _median(values: list[float]) -> float:
    return statistics.median(values)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def min_round_median(rounds: list[list[float]]) -> float:
    """The lowest of the rounds' medians (the protocol before issue 17)."""
    return min(_median(r) for r in rounds)


def low2_round_median(rounds: list[list[float]]) -> float:
    """The mean of the two lowest round medians (one round when there is only one)."""
    medians = sorted(_median(r) for r in rounds)[:2]
    return sum(medians) / len(medians)


def median_round_median(rounds: list[list[float]]) -> float:
    return _median([_median(r) for r in rounds])


def min_round_quantile(q: float) -> Callable[[list[list[float]]], float]:
    """The lowest of the rounds' ``q`` quantiles."""
    return lambda rounds: min(_quantile(r, q) for r in rounds)


def pooled_quantile(q: float) -> Callable[[list[list[float]]], float]:
    """The ``q`` quantile of every run of every round."""
    return lambda rounds: _quantile([ms for r in rounds for ms in r], q)


def min_run(rounds: list[list[float]]) -> float:
    return min(ms for r in rounds for ms in r)


# name -> estimate from rounds (each a list of run times in ms); benchmarks/timing_statistics.py
# compares them all, the README says which won and why.
STATISTICS: dict[str, Callable[[list[list[float]]], float]] = {
    "min_round_p10": min_round_quantile(0.10),
    "min_round_p25": min_round_quantile(0.25),
    "min_round_median": min_round_median,
    "low2_round_median": low2_round_median,
    "median_round_median": median_round_median,
    "pooled_p02": pooled_quantile(0.02),
    "pooled_p05": pooled_quantile(0.05),
    "pooled_p10": pooled_quantile(0.10),
    "pooled_p25": pooled_quantile(0.25),
    "pooled_median": pooled_quantile(0.5),
    "min_run": min_run,
}
FIXED_ESTIMATE = ("wall", "min_round_median")  # the protocol before issue 17


@dataclass(frozen=True, kw_only=True)
class TimingSettings:
    """How to time. A round warms up for ``warmup_s``, then runs until ``target_s`` is spent,
    within [min_runs, max_runs]. ``protocol="adaptive"``: at least ``min_rounds`` rounds of
    each module, at least ``min_gap_s`` apart, then more until ``spread`` <= ``tolerance`` (a
    fraction), at most ``max_rounds``; the estimate is ``statistic`` of the runs as ``clock``
    times them. ``protocol="fixed"``: ``rounds`` rounds, wall clock, lowest round median,
    no gap (the protocol before issue 17; only the run settings and ``rounds`` apply)."""

    backend: str = "onnxruntime"
    threads: int = 1
    batch: int = 1
    warmup_s: float = 0.03
    min_runs: int = 10
    max_runs: int = 200
    target_s: float = 0.06
    rounds: int = 3
    protocol: str = "adaptive"
    clock: str = "auto"
    statistic: str = "min_round_p10"
    tolerance: float = 0.01
    min_rounds: int = 8
    max_rounds: int = 16
    min_gap_s: float = 1.0

    def __post_init__(self) -> None:
        choices = (("backend", BACKENDS), ("protocol", PROTOCOLS), ("clock", CLOCKS),
                   ("statistic", STATISTICS))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise NasError(f"timing {name} must be one of {', '.join(allowed)}, "
                               f"got {getattr(self, name)!r}")
        for name in ("threads", "batch", "min_runs", "max_runs", "rounds", "min_rounds",
                     "max_rounds"):
            if getattr(self, name) < 1:
                raise NasError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_runs < self.min_runs:
            raise NasError(f"max_runs ({self.max_runs}) < min_runs ({self.min_runs})")
        if self.max_rounds < self.min_rounds:
            raise NasError(f"timing max_rounds ({self.max_rounds}) < min_rounds "
                           f"({self.min_rounds})")
        if min(self.warmup_s, self.target_s, self.min_gap_s) < 0:
            raise NasError("warmup_s, target_s and min_gap_s must be >= 0")
        if not self.tolerance > 0:
            raise NasError(f"timing tolerance must be > 0 (a fraction: 0.01 is 1%), got "
                           f"{self.tolerance}")
        if self.clock == "cpu" and (self.backend not in CPU_BACKENDS or self.threads != 1):
            raise NasError("timing clock=cpu counts the timing thread's CPU time: it needs a CPU "
                           f"backend and threads=1 (got backend={self.backend}, "
                           f"threads={self.threads}); use clock=auto or wall")

    @property
    def clock_used(self) -> str:
        """``cpu`` or ``wall`` (CUDA events for cuda)."""
        if self.protocol == "fixed":
            return FIXED_ESTIMATE[0]
        if self.clock != "auto":
            return self.clock
        return "cpu" if self.backend in CPU_BACKENDS and self.threads == 1 else "wall"

    @property
    def statistic_used(self) -> str:
        return FIXED_ESTIMATE[1] if self.protocol == "fixed" else self.statistic

    @property
    def estimate(self) -> str:
        """What a table entry holds, e.g. ``cpu:min_round_p10``: entries of one table must
        agree on it, or their sums mix two yardsticks."""
        return f"{self.clock_used}:{self.statistic_used}"

    @property
    def gap_s(self) -> float:
        return 0.0 if self.protocol == "fixed" else self.min_gap_s


@dataclass(frozen=True)
class Timing:
    """Milliseconds. ``ms`` is the estimate a table predicts with (the protocol's statistic;
    ``median_ms`` when not given, as in tables from before issue 17); ``median_ms``, ``p10_ms``
    and ``p90_ms`` describe the round the estimate came from; ``runs`` runs in ``rounds``
    rounds in all. ``spread_pct`` is how far the estimate could still move (``spread``) and
    ``stable`` whether that reached the tolerance (None: not recorded)."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    runs: int
    rounds: int = 0
    spread_pct: float = math.nan
    stable: bool | None = None
    ms: float = field(default=math.nan)

    def __post_init__(self) -> None:
        if math.isnan(self.ms):
            object.__setattr__(self, "ms", self.median_ms)


def timing_from(result: dict) -> Timing:
    """The ``Timing`` of a child's result line (JSON has no NaN: a missing spread is null)."""
    spread_pct = result.get("spread_pct")
    return Timing(float(result["median_ms"]), float(result["p10_ms"]), float(result["p90_ms"]),
                  int(result["runs"]), int(result.get("rounds", 0)),
                  math.nan if spread_pct is None else float(spread_pct), result.get("stable"),
                  float(result.get("ms", result["median_ms"])))


# --- the stopping rule --------------------------------------------------------------------------
def spread(rounds: list[list[float]], statistic: str) -> float:
    """How far the estimate could still move, relative to it: the statistic on the even
    rounds against the statistic on the odd rounds (rounds interleaved in time, so both halves
    saw the same drift). Two independent halves agreeing is what a second process measuring
    the same module would see, without running one; infinite with fewer than two rounds."""
    if len(rounds) < 2:
        return math.inf
    estimate = STATISTICS[statistic]
    return abs(estimate(rounds[0::2]) - estimate(rounds[1::2])) / estimate(rounds)


def settled(rounds: list[list[float]], settings: TimingSettings) -> bool:
    """Whether a module needs no further round."""
    taken = len(rounds)
    if settings.protocol == "fixed":
        return taken >= settings.rounds
    if taken >= settings.max_rounds:
        return True
    return (taken >= settings.min_rounds
            and spread(rounds, settings.statistic_used) <= settings.tolerance)


def summarise(rounds: list[list[float]], settings: TimingSettings) -> Timing:
    """The estimate of ``rounds``, with the median and percentiles of the round it came from
    (the round whose own statistic lies closest to it: the quietest round for ``min_round_*``)."""
    statistic = STATISTICS[settings.statistic_used]
    estimate = statistic(rounds)
    source = min(rounds, key=lambda r: abs(statistic([r]) - estimate))
    gap = spread(rounds, settings.statistic_used)
    return Timing(_median(source), _quantile(source, 0.1), _quantile(source, 0.9),
                  sum(len(r) for r in rounds), len(rounds),
                  100 * gap if math.isfinite(gap) else math.nan, gap <= settings.tolerance,
                  estimate)


# --- one round of runs --------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundRuns:
    """One round's runs in milliseconds: wall (for cuda: CUDA-event) times, and the timing
    thread's CPU time of each run where the backend computes in that thread (None for cuda)."""

    ms: list[float]
    cpu_ms: list[float] | None = None

    def on(self, clock: str) -> list[float]:
        """The runs as ``clock`` times them. ``cpu``: the wall time, or the thread's CPU time
        where that is less (the thread lost the CPU during the run); reading the CPU clock
        costs ~1 us inside the bracket, which would bias a 50 us part on every run."""
        if clock != "cpu":
            return self.ms
        return [min(wall, cpu) for wall, cpu in zip(self.ms, self.cpu_ms)]


def _run_count(per_run_s: float, settings: TimingSettings) -> int:
    wanted = int(settings.target_s / max(per_run_s, 1e-6))
    return max(settings.min_runs, min(settings.max_runs, wanted))


def timed_round(run: Callable[[], object], timer: Callable[[Callable], tuple],
                settings: TimingSettings) -> RoundRuns:
    """One round: warm up for ``warmup_s`` (at least 3 runs), then ``_run_count`` runs, each
    timed by ``timer(run)`` as (seconds, thread CPU seconds or None)."""
    start, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - start < settings.warmup_s:
        timer(run)
        warm += 1
    per_run = (time.perf_counter() - start) / warm
    runs = [timer(run) for _ in range(_run_count(per_run, settings))]
    cpu = None if runs[0][1] is None else [1e3 * c for _, c in runs]
    return RoundRuns([1e3 * w for w, _ in runs], cpu)


def wall_and_cpu(run: Callable[[], object]) -> tuple[float, float]:
    """Seconds of one synchronous run (CPU backends), and the CPU seconds the timing thread
    spent in it: less than the wall time when the thread lost the CPU during the run."""
    cpu0 = time.thread_time()
    t0 = time.perf_counter()
    run()
    t1 = time.perf_counter()
    return t1 - t0, time.thread_time() - cpu0


def time_callable(run: Callable[[], object], settings: TimingSettings) -> RoundRuns:
    """One round of a synchronous ``run`` (CPU backends)."""
    return timed_round(run, wall_and_cpu, settings)


# A prepared timer: built once (export, session), then asked for one round at a time.
Round = Callable[[TimingSettings], RoundRuns]


def prepare_eager(module: nn.Module, shape: tuple, settings: TimingSettings) -> Round:
    x = torch.randn(shape)

    def one_round(settings: TimingSettings) -> RoundRuns:
        with torch.inference_mode():
            return time_callable(lambda: module(x), settings)

    return one_round


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


def prepare_onnxruntime(module: nn.Module, shape: tuple, settings: TimingSettings) -> Round:
    session = onnxruntime_session(export_onnx(module, shape), settings.threads)
    feed = {"x": torch.randn(shape).numpy()}
    return lambda settings: time_callable(lambda: session.run(None, feed), settings)


def cuda_events(run: Callable[[], object]) -> tuple[float, None]:
    """Seconds of one GPU run between two CUDA events, synchronised: launch overhead counts,
    as it does for a batch-1 request."""
    begin = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    begin.record()
    run()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end) / 1e3, None


def prepare_cuda(module: nn.Module, shape: tuple, settings: TimingSettings) -> Round:
    """Eager batch-``batch`` latency on the GPU, each run bracketed by CUDA events; the rounds,
    statistic and stopping rule are the CPU backends' (the backend was checked on an H100
    before issue 17, README "On a GPU"; the adaptive protocol has not run on a GPU yet)."""
    if not torch.cuda.is_available():
        raise NasError("backend 'cuda' needs a CUDA GPU; none is visible to torch")
    module = module.cuda()
    x = torch.randn(shape, device="cuda")

    def one_round(settings: TimingSettings) -> RoundRuns:
        with torch.inference_mode():
            return timed_round(lambda: module(x), cuda_events, settings)

    return one_round


PREPARERS = {"eager": prepare_eager, "onnxruntime": prepare_onnxruntime, "cuda": prepare_cuda}


def prepare(module: nn.Module, shape: tuple, settings: TimingSettings) -> Round:
    return PREPARERS[settings.backend](module, shape, settings)


# --- many modules, round-robin ------------------------------------------------------------------
@dataclass
class Progress:
    """What ``measure_rounds`` hands back for one module: its rounds (as the clock sees them),
    every round's raw runs, and the summary once settled (or the error that ended it)."""

    rounds: list[list[float]] = field(default_factory=list)
    raw: list[RoundRuns] = field(default_factory=list)


def measure_rounds(prepared: dict, settings: TimingSettings,
                   on_done: Callable[[object, Progress, Timing | None, str | None], None]
                   ) -> None:
    """Time every prepared module round-robin until each is settled; ``on_done(id, progress,
    timing, error)`` is called as soon as one needs no further round (or failed), so results
    can be saved while the others continue. Rounds of one module lie at least ``gap_s``
    apart (a short list sleeps between rounds rather than time them back to back)."""
    clock = settings.clock_used
    progress = {job_id: Progress() for job_id in prepared}
    active, last_start = list(prepared), -math.inf
    while active:
        time.sleep(max(0.0, settings.gap_s - (time.monotonic() - last_start)))
        last_start, done = time.monotonic(), set()
        for job_id in active:
            state = progress[job_id]
            try:
                runs = prepared[job_id](settings)
            except Exception as error:  # one failing module must not lose the others
                on_done(job_id, state, None, f"{type(error).__name__}: {error}")
                done.add(job_id)
                continue
            state.raw.append(runs)
            state.rounds.append(runs.on(clock))
            if settled(state.rounds, settings):
                on_done(job_id, state, summarise(state.rounds, settings), None)
                done.add(job_id)
        active = [job_id for job_id in active if job_id not in done]


def time_module(module: nn.Module, shape: tuple, settings: TimingSettings) -> Timing:
    """One module alone, with the protocol's rounds (spread by ``min_gap_s``)."""
    results = {}

    def keep(job_id, progress, timing, error):
        if error:
            raise NasError(error)
        results[job_id] = timing

    measure_rounds({0: prepare(module, shape, settings)}, settings, keep)
    return results[0]
