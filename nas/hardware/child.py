"""Measuring in a clean child process, many jobs per process.

Timing in the process that searches or traces is unreliable: glibc malloc returns freed pages to
the kernel and every depthwise conv then page-faults (3-4x slower, DESIGN.md), and a process that
has just traced with fvcore or exported ONNX reads ~5% slow. So every measurement runs in a fresh
``python -m nas.hardware.child JOBFILE`` whose environment fixes the malloc thresholds and the
thread counts. One child takes a whole list of jobs (ops or whole networks) and prints one JSON
line per finished job, so the parent can save as results arrive and show progress.
"""

from __future__ import annotations

import json
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
CHUNK = 100  # jobs prepared together and timed round-robin (ops: ~10 s between rounds)
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


def run_jobs(jobs: Iterable[dict], settings: TimingSettings,
             on_result: Callable[[dict], None], chunk: int = CHUNK) -> None:
    """Measure ``jobs`` in one child process; ``on_result`` gets each result as it arrives.

    A result is the job's ``id`` with ``median_ms``, ``p10_ms``, ``p90_ms``, ``runs``, or with
    ``error`` when that job failed. Raises MeasureError if the child dies.
    """
    jobs = list(jobs)
    if not jobs:
        return
    with tempfile.TemporaryDirectory(prefix="nas-measure-") as tmp:
        job_file, log_file = Path(tmp) / "jobs.json", Path(tmp) / "stderr.log"
        job_file.write_text(json.dumps({"settings": asdict(settings), "jobs": jobs,
                                        "chunk": chunk}))
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

    from nas.hardware.timing import best_of, prepare

    payload = json.loads(Path(job_file).read_text())
    settings = TimingSettings(**payload["settings"])
    torch.set_num_threads(settings.threads)
    torch.set_num_interop_threads(1)
    raise_priority()
    jobs, chunk = payload["jobs"], int(payload.get("chunk", CHUNK))
    for first in range(0, len(jobs), chunk):
        _measure_chunk(jobs[first:first + chunk], settings, prepare, best_of)


def _measure_chunk(jobs: list[dict], settings: TimingSettings, prepare, best_of) -> None:
    """Prepare every job of the chunk, then time them round-robin ``settings.rounds`` times, so
    the rounds of one job lie seconds apart; print each job's best round."""
    bursts, rounds, errors = {}, {}, {}
    for job in jobs:
        try:
            module, shape = _module_for(job, settings)
            bursts[job["id"]] = prepare(module, shape, settings)
        except Exception as error:  # one bad job must not lose the others
            errors[job["id"]] = f"{type(error).__name__}: {error}"
    for _ in range(settings.rounds):
        for job_id, burst in bursts.items():
            try:
                rounds.setdefault(job_id, []).append(burst(settings))
            except Exception as error:
                errors[job_id] = f"{type(error).__name__}: {error}"
    for job in jobs:
        job_id = job["id"]
        if job_id in errors:
            result = {"id": job_id, "error": errors[job_id]}
        else:
            result = {"id": job_id} | asdict(best_of(rounds[job_id]))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    _child_main(sys.argv[1])
