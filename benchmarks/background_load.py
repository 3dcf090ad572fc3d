"""A reproducible stand-in for "other work on the machine": bursty load on one core.

Busy and idle periods alternate, their lengths drawn uniformly from ``--busy`` and ``--idle``
(seconds, min max) by ``random.Random(--seed)``, for ``--duration`` seconds. The process has
one thread, so it loads one core at a time, at ordinary priority (niceness 0 unless
``--nice``), in a session of its own (``--same-session``: not), as a browser tab, a compiler or
another user's script would: Linux's autogroup scheduling then shares the CPU between it and
the measuring process whatever their niceness. Busy work:

- ``memory`` (default): numpy adds over three 32 MiB arrays, streaming ~100 MB per step: it
  evicts the shared L3 cache and takes memory bandwidth, the way most real work disturbs a
  neighbour on another core;
- ``compute``: pure-Python arithmetic, which touches almost no memory (it disturbs only the
  core it runs on).

Every figure measured beside it names the command line, e.g.
``python benchmarks/background_load.py --seed 7 --duration 1800``; on exit (the duration
spent, or SIGTERM/SIGINT) it prints one JSON line: its settings, the periods it ran and the
busy fraction reached.

    python benchmarks/background_load.py [--seed 7] [--duration 600] [--busy 0.2 3]
        [--idle 0.2 3] [--work memory|compute] [--nice 0] [--same-session]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time

WORK = ("memory", "compute")
MIB = 1 << 20


def schedule(seed: int, duration: float, busy: tuple[float, float],
             idle: tuple[float, float]) -> list[tuple[str, float]]:
    """The (state, seconds) periods of a run, from the seed alone: busy first, then idle..."""
    rng, periods, total = random.Random(seed), [], 0.0
    while total < duration:
        for state, (low, high) in (("busy", busy), ("idle", idle)):
            seconds = min(rng.uniform(low, high), duration - total)
            if seconds > 0:
                periods.append((state, seconds))
                total += seconds
    return periods


def memory_work():
    import numpy as np

    a, b = np.ones(4 * MIB), np.full(4 * MIB, 2.0)  # 32 MiB each (float64)
    out = np.empty_like(a)

    def step() -> None:
        np.add(a, b, out=out)

    return step


def compute_work():
    def step() -> None:
        total = 0
        for i in range(20_000):
            total += i * i
        return total

    return step


def run(periods: list[tuple[str, float]], step) -> None:
    """Busy periods run ``step`` until their time is spent; idle ones sleep."""
    for state, seconds in periods:
        end = time.monotonic() + seconds
        if state == "idle":
            time.sleep(seconds)
            continue
        while time.monotonic() < end:
            step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--busy", type=float, nargs=2, default=(0.2, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--idle", type=float, nargs=2, default=(0.2, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--work", choices=WORK, default="memory")
    parser.add_argument("--nice", type=int, default=0, help="niceness added to this process")
    parser.add_argument("--same-session", action="store_true",
                        help="stay in the caller's session (and autogroup)")
    args = parser.parse_args()
    for name in ("busy", "idle"):
        low, high = getattr(args, name)
        if not 0 <= low <= high:
            parser.error(f"--{name} needs 0 <= MIN <= MAX, got {low} {high}")
    if args.duration <= 0:
        parser.error("--duration must be > 0")
    os.environ["OMP_NUM_THREADS"] = "1"  # numpy's adds are single-threaded anyway
    own_session = False
    if not args.same_session:
        try:
            os.setsid()
            own_session = True
        except OSError:  # already a session or group leader (started as a shell job)
            own_session = os.getsid(0) == os.getpid()
    if args.nice:
        os.nice(args.nice)
    periods = schedule(args.seed, args.duration, tuple(args.busy), tuple(args.idle))
    step = memory_work() if args.work == "memory" else compute_work()
    started = time.monotonic()

    def report(*_) -> None:
        elapsed = time.monotonic() - started
        print(json.dumps({"seed": args.seed, "duration_s": args.duration, "busy": args.busy,
                          "idle": args.idle, "work": args.work, "nice": args.nice,
                          "own_session": own_session,
                          "periods": len(periods), "ran_s": round(elapsed, 1),
                          "scheduled_busy_fraction": round(
                              sum(s for state, s in periods if state == "busy")
                              / args.duration, 3)}), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)
    run(periods, step)
    report()


if __name__ == "__main__":
    main()
