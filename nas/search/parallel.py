"""``search.n_workers=N``: N worker processes on this machine share one study.

The parent starts N copies of the same ``python -m nas.search`` command with
``search.n_workers=1``, each with its own thread budget (``search.threads`` = cores // N, and
``OMP_NUM_THREADS``) and, where GPUs exist, its own GPU (``CUDA_VISIBLE_DEVICES``, round robin).
The workers meet in the study's storage (the run directory's journal file unless ``storage=``
says otherwise) exactly as processes started by hand would; see ``nas.search.workers``. The
parent prefixes each worker's output with its index, forwards Ctrl-C (SIGINT) and SIGTERM to
them, waits for all, and says which failed.

``search.n_workers=auto`` (the default) picks the count: one worker per core for evaluators
that run torch on the CPU (on the README's 2-core CPU the default search scored 100 candidates
in 3.6 minutes with two workers of one thread, 4.1 with one worker of two threads: a small
network's convolutions do not keep two threads busy), one per GPU where GPUs exist, and one
for evaluators that only look a value up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from nas.errors import NasError

# Overrides the parent sets for its workers (a user's own value of these is replaced).
WORKER_OVERRIDES = ("search.n_workers", "search.threads", "report")
EXIT_INTERRUPTED = 130  # nas.cli's exit code after Ctrl-C


# Evaluators whose candidate costs milliseconds (a table lookup, a small MLP): a second process
# would cost more to start than it could save.
SERIAL_EVALUATORS = ("surrogate", "tabular", "predictor")
# Each worker holds its own copy of the dataset and the evaluator (a supernet's weights): the
# count stops here on machines with many cores.
MAX_AUTO_WORKERS = 4


def usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_workers(evaluator_kind: str, *, cores: int | None = None,
                 gpus: Sequence[str] | None = None) -> int:
    """``search.n_workers=auto``: how many workers suit this machine and evaluator."""
    if evaluator_kind in SERIAL_EVALUATORS:
        return 1
    gpus = visible_gpus() if gpus is None else gpus
    if gpus:
        return len(gpus)
    return max(1, min(cores or usable_cores(), MAX_AUTO_WORKERS))


@dataclass(frozen=True)
class WorkerPlan:
    threads: int
    gpu: str | None


def plan_workers(n_workers: int, *, cores: int, gpus: Sequence[str]) -> list[WorkerPlan]:
    """Threads and GPU of each worker: cores shared evenly, GPUs round robin."""
    threads = max(1, cores // n_workers)
    return [WorkerPlan(threads, gpus[i % len(gpus)] if gpus else None) for i in range(n_workers)]


COMMAND_ENV = "NAS_SEARCH_COMMAND"


def search_command(argv: Sequence[str]) -> str:
    """The command line a study records: ``python -m nas.search`` and its overrides."""
    return "python -m nas.search " + " ".join(argv)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [entry for entry in listed.split(",") if entry.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def worker_command(argv: Sequence[str], plan: WorkerPlan) -> list[str]:
    own = [arg for arg in argv
           if arg.lstrip("+").split("=", 1)[0] not in WORKER_OVERRIDES]
    return [sys.executable, "-m", "nas.search", *own, "search.n_workers=1",
            f"search.threads={plan.threads}", "report=false"]


def _relay(index: int, stream, out) -> None:
    for line in stream:
        out.write(f"[worker {index}] {line}")
        out.flush()


def run_local_workers(argv: Sequence[str], n_workers: int, *, cores: int | None = None,
                      out=None) -> None:
    """Run ``n_workers`` workers of the search ``argv`` describes; NasError if any failed."""
    out = out or sys.stderr
    plans = plan_workers(n_workers, cores=cores or usable_cores(), gpus=visible_gpus())
    processes: list[subprocess.Popen] = []
    interrupted = False

    def forward(signum, frame):
        nonlocal interrupted
        interrupted = True
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    # Installed before the first worker starts, so no signal can orphan a worker.
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    relays = []
    try:
        for index, plan in enumerate(plans):
            if interrupted:
                break
            processes.append(_start(argv, plan))
            relays.append(threading.Thread(target=_relay, args=(index, processes[-1].stdout, out),
                                           daemon=True))
            relays[-1].start()
        gpus = [plan.gpu for plan in plans if plan.gpu is not None]
        print(f"search: {len(processes)} workers started ({plans[0].threads} "
              f"thread{'s' if plans[0].threads > 1 else ''} each"
              f"{', GPUs ' + ','.join(gpus) if gpus else ''})", file=out, flush=True)
        codes = [process.wait() for process in processes]
    finally:
        for process in processes:  # only left running when this process itself failed
            if process.poll() is None:
                process.terminate()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for relay in relays:
            relay.join(timeout=5)
    if interrupted or EXIT_INTERRUPTED in codes:
        raise KeyboardInterrupt
    failed = [f"worker {i} exited with {code}" for i, code in enumerate(codes) if code != 0]
    if failed:
        raise NasError("; ".join(failed) + " (its lines above say why); finished trials are "
                       "kept: run the same command to continue")


def _start(argv: Sequence[str], plan: WorkerPlan) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(plan.threads),
           # the command the user typed, for the study's record (not the worker's own)
           COMMAND_ENV: search_command(argv)}
    if plan.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = plan.gpu
    # Its own session: a terminal's Ctrl-C reaches the worker once, through the parent.
    return subprocess.Popen(worker_command(argv, plan), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
