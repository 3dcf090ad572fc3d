"""Measuring in a clean child process, many jobs per process.

Timing in the process that searches or traces is unreliable: glibc malloc returns freed pages to
the kernel and every depthwise conv then page-faults (3-4x slower, DESIGN.md), and a process that
has just traced with fvcore or exported ONNX reads ~5% slow. So every measurement runs in a fresh
``python -m nas.hardware.child JOBFILE`` whose environment fixes the malloc thresholds and the
thread counts. One child takes a whole list of jobs (parts, whole networks, or both, timed
round-robin together) and prints one JSON line per job as soon as its estimate is settled
(``nas.hardware.timing``), so the parent saves as results arrive and shows progress.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from nas.errors import NasError
from nas.hardware.timing import TimingSettings

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "67108864", "MALLOC_TRIM_THRESHOLD_": "134217728"}
CHUNK = 100  # parts prepared together and timed round-robin (ops: ~10 s between rounds)
NETWORK_CHUNK = 16  # whole networks prepared at once (memory), timed round-robin
PRIORITY = -15  # niceness of the measuring process, where permitted
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class MeasureError(NasError):
    """The measuring process failed."""


def child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ) | MALLOC_ENV | {name: str(threads) for name in THREAD_VARS}
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(PACKAGE_ROOT) + (os.pathsep + path if path else "")
    return env


def op_job(job_id: int, key) -> dict:
    return {"id": job_id, "key": key.to_row()}


def arch_job(job_id: int, arch: str, classes: int) -> dict:
    return {"id": job_id, "arch": arch, "classes": classes}


def interleave(parts: list[dict], networks: list[dict]) -> list[dict]:
    """Whole networks spread evenly among the parts, so every chunk times some of each
    round-robin and a drift of the machine hits parts and networks alike."""
    jobs, step = list(parts), max(1, len(parts) // (len(networks) + 1))
    for j, network in enumerate(networks):
        jobs.insert(min(len(jobs), (j + 1) * step + j), network)
    return jobs


def run_jobs(jobs: Iterable[dict], settings: TimingSettings,
             on_result: Callable[[dict], None], chunk: int = CHUNK,
             network_chunk: int = NETWORK_CHUNK, raw: bool = False) -> None:
    """Measure ``jobs`` in one child process; ``on_result`` gets each result as it arrives
    (a job's result comes as soon as it is settled, so not in the order given).

    A result is the job's ``id`` with the fields of ``Timing`` (``median_ms``, ``p10_ms``,
    ``p90_ms``, ``runs``, ``rounds``, ``spread_pct``, ``stable``), or with ``error`` when that
    job failed; ``raw`` adds every run of every round (``rounds_ms``). Parts and networks may
    be mixed: they are timed round-robin together. Raises MeasureError if the child dies.
    """
    jobs = list(jobs)
    if not jobs:
        return
    with tempfile.TemporaryDirectory(prefix="nas-measure-") as tmp:
        job_file, log_file = Path(tmp) / "jobs.json", Path(tmp) / "stderr.log"
        job_file.write_text(json.dumps({"settings": asdict(settings), "jobs": jobs,
                                        "chunk": chunk, "network_chunk": network_chunk,
                                        "raw": raw}))
        with open(log_file, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "nas.hardware.child", str(job_file)],
                stdout=subprocess.PIPE, stderr=log, text=True, env=child_env(settings.threads),
                cwd=tmp,
            )
            try:
                for line in process.stdout:
                    on_result(json.loads(line))
                code = process.wait()
            except BaseException:
                process.kill()
                process.wait()
                raise
        if code != 0:
            lines = [line for line in log_file.read_text().splitlines() if line.strip()]
            raise MeasureError(f"the measuring process failed (exit {code}): "
                               f"{lines[-1] if lines else 'no message'}")


# --- the child side -------------------------------------------------------------------------
def _module_for(job: dict, settings: TimingSettings):
    from nas.arch import decode
    from nas.hardware.keys import OpKey
    from nas.hardware.ops import build_op, input_shape
    from nas.model import build_model

    if "key" in job:
        key = OpKey.from_row(job["key"])
        return build_op(key), input_shape(key, settings.batch)
    spec = decode(job["arch"])
    model = build_model(spec, num_classes=job["classes"], resolution=spec.resolution).eval()
    return model, (settings.batch, 3, spec.resolution, spec.resolution)


def raise_priority(niceness: int = PRIORITY) -> bool:
    """Run ahead of ordinary processes where allowed (root): on a shared machine, other work
    preempts a long network more often than a short block, which biases the sums low."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except (OSError, AttributeError):
        return False
    return True


def _child_main(job_file: str) -> None:
    import torch

    payload = json.loads(Path(job_file).read_text())
    settings = TimingSettings(**payload["settings"])
    torch.set_num_threads(settings.threads)
    torch.set_num_interop_threads(1)
    raise_priority()
    limits = (int(payload.get("chunk", CHUNK)), int(payload.get("network_chunk", NETWORK_CHUNK)))
    for jobs in chunks(payload["jobs"], *limits):
        _measure_chunk(jobs, settings, raw=bool(payload.get("raw")))


def chunks(jobs: list[dict], parts: int, networks: int) -> Iterable[list[dict]]:
    """Consecutive jobs, at most ``parts`` parts and ``networks`` whole networks a chunk (a
    network's session holds far more memory than a part's)."""
    chunk, counts = [], {"key": 0, "arch": 0}
    for job in jobs:
        kind = "key" if "key" in job else "arch"
        if chunk and counts[kind] >= (parts if kind == "key" else networks):
            yield chunk
            chunk, counts = [], {"key": 0, "arch": 0}
        chunk.append(job)
        counts[kind] += 1
    if chunk:
        yield chunk


def _measure_chunk(jobs: list[dict], settings: TimingSettings, raw: bool = False) -> None:
    """Prepare every job of the chunk, then time them round-robin (``measure_rounds``), printing
    each job's result as soon as it needs no further round."""
    from nas.hardware.timing import measure_rounds, prepare

    prepared = {}
    for job in jobs:
        try:
            module, shape = _module_for(job, settings)
            prepared[job["id"]] = prepare(module, shape, settings)
        except Exception as error:  # one bad job must not lose the others
            _report({"id": job["id"], "error": f"{type(error).__name__}: {error}"})

    def done(job_id, progress, timing, error) -> None:
        if error:
            _report({"id": job_id, "error": error})
            return
        extra = {"rounds_ms": [r.ms for r in progress.raw],
                 "rounds_cpu_ms": [r.cpu_ms for r in progress.raw]} if raw else {}
        _report({"id": job_id} | asdict(timing) | extra)

    measure_rounds(prepared, settings, done)


def _report(result: dict) -> None:
    # NaN is not JSON: a spread that could not be computed travels as null
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in result.items()}
    print(json.dumps(clean), flush=True)


if __name__ == "__main__":
    _child_main(sys.argv[1])
