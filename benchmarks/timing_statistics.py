"""Which estimate of a part's quiet latency is steadiest between two processes (issue 17).

Times the same whole networks and all their parts in two fresh measuring processes (the second
in reverse order), each job ``--rounds`` rounds (the fixed protocol, every run kept), parts and
networks interleaved round-robin in one chunk, as ``nas.hardware.child`` times them. Then, for
every statistic of ``nas.hardware.timing.STATISTICS``, from the first 3, 5 and all rounds:

- ``parts``: MAPE between the two processes' estimates of the same parts (their noise floor);
- ``nets``: the same for the whole networks (what ``nas.validate`` reports as noise_mape);
- ``pred``: each network predicted from process A (its parts summed, times a ratio fitted
  leave-one-out on A's other networks) against process B's measurement of it: what a table
  built in one process meets in ``nas.validate``.

Then the adaptive protocol replayed on the same rounds, for each statistic and tolerance:
rounds taken on average and the same three figures at the stopping point, so the statistic,
the tolerance and the cost are chosen on one set of measurements.

    python benchmarks/timing_statistics.py [--networks 8] [--rounds 8] [--seed 0]
        [--load SEED] [--raw FILE]           # measure (and keep every run in FILE)
    python benchmarks/timing_statistics.py --from FILE   # analyse a kept measurement again

Whatever else runs on the machine enters the figures: say what (``--load`` starts
``benchmarks/background_load.py`` with that seed beside the measurement; the load average
before and after is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from nas.arch import decode, encode
from nas.cli import load_space
from nas.hardware.calibration import calibration_specs
from nas.hardware.child import arch_job, interleave, op_job, run_jobs
from nas.hardware.keys import OpKey, arch_keys
from nas.hardware.timing import STATISTICS, RoundRuns, TimingSettings, spread

ROOT = Path(__file__).resolve().parents[1]
CLASSES = 1000
TOLERANCES = (0.005, 0.01, 0.02, 0.03)
MIN_ROUNDS = 4  # timing.min_rounds


def jobs_for(specs) -> tuple[list[dict], list[str], list[dict]]:
    """Parts and networks interleaved (networks spread evenly among the parts)."""
    parts = list(dict.fromkeys(key for spec in specs for key in arch_keys(spec, CLASSES)))
    archs = [encode(spec) for spec in specs]
    jobs = interleave([op_job(i, key) for i, key in enumerate(parts)],
                      [arch_job(len(parts) + j, arch, CLASSES) for j, arch in enumerate(archs)])
    return jobs, archs, [key.to_row() for key in parts]


def measure(jobs: list[dict], settings: TimingSettings) -> dict[int, dict]:
    rounds: dict[int, dict] = {}

    def keep(result: dict) -> None:
        if "error" in result:
            raise SystemExit(f"job {result['id']} failed: {result['error']}")
        rounds[result["id"]] = {"wall": result["rounds_ms"], "cpu": result["rounds_cpu_ms"]}

    run_jobs(jobs, settings, keep, chunk=len(jobs), network_chunk=len(jobs), raw=True)
    return rounds


def mape(a: list[float], b: list[float]) -> float:
    return 100 * sum(abs(x - y) / y for x, y in zip(a, b)) / len(a)


def figures(estimates_a: dict, estimates_b: dict, data: dict) -> dict[str, float]:
    """parts floor, networks floor, and A's table predicting B's networks (LOO ratio)."""
    n_parts = len(data["parts"])
    parts = range(n_parts)
    nets = range(n_parts, n_parts + len(data["networks"]))
    index = {OpKey.from_row(row): i for i, row in enumerate(data["parts"])}
    sums = [sum(estimates_a[index[key]] for key in arch_keys(decode(arch), CLASSES))
            for arch in data["networks"]]
    wholes_a = [estimates_a[i] for i in nets]
    predicted = []
    for n, summed in enumerate(sums):
        others = [(s, w) for m, (s, w) in enumerate(zip(sums, wholes_a)) if m != n]
        ratio = sum(s * w for s, w in others) / sum(s * s for s, _ in others)
        predicted.append(ratio * summed)
    return {
        "parts": mape([estimates_a[i] for i in parts], [estimates_b[i] for i in parts]),
        "nets": mape(wholes_a, [estimates_b[i] for i in nets]),
        "pred": mape(predicted, [estimates_b[i] for i in nets]),
    }


CLOCKS = ("wall", "clean", "cpu_raw", "cpu")


def cpu_rounds(job: dict) -> list[list[float]]:
    """nas.hardware.timing's ``cpu`` clock: each run's wall time, or its thread CPU time where
    less (the thread lost the CPU); ``cpu_raw`` is the thread CPU time of every run."""
    return [RoundRuns(walls, cpus).on("cpu") for walls, cpus in zip(job["wall"], job["cpu"])]


def clean_rounds(job: dict) -> list[list[float]]:
    """Wall times of the runs during which the thread kept the CPU (wall - CPU time within
    1% + 2 us); a round with none left is dropped; a job with none at all keeps its CPU times."""
    rounds = [[w for w, c in zip(walls, cpus) if w - c <= 0.01 * w + 0.002]
              for walls, cpus in zip(job["wall"], job["cpu"])]
    kept = [r for r in rounds if r]
    return kept or job["cpu"]


def view(data: dict, clock: str) -> dict:
    """The kept runs seen through one clock: every job's rounds, as lists of ms."""
    pick = {"wall": lambda job: job["wall"], "cpu": cpu_rounds, "cpu_raw": lambda job: job["cpu"],
            "clean": clean_rounds}[clock]
    return data | {run: {i: pick(job) for i, job in data[run].items()} for run in ("A", "B")}


def fixed_rounds(data: dict, statistic: str, count: int) -> dict[str, float]:
    estimate = STATISTICS[statistic]
    a = {int(i): estimate(r[:count]) for i, r in data["A"].items()}
    b = {int(i): estimate(r[:count]) for i, r in data["B"].items()}
    return figures(a, b, data)


def stopping_point(rounds: list[list[float]], statistic: str, tolerance: float,
                   min_rounds: int) -> int:
    for taken in range(min(min_rounds, len(rounds)), len(rounds) + 1):
        if spread(rounds[:taken], statistic) <= tolerance:
            return taken
    return len(rounds)


def adaptive(data: dict, statistic: str, tolerance: float,
             min_rounds: int) -> tuple[dict[str, float], float]:
    estimate, taken, out = STATISTICS[statistic], [], {}
    for run in ("A", "B"):
        out[run] = {}
        for i, r in data[run].items():
            count = stopping_point(r, statistic, tolerance, min_rounds)
            taken.append(count)
            out[run][int(i)] = estimate(r[:count])
    return figures(out["A"], out["B"], data), sum(taken) / len(taken)


def start_load(seed: int | None):
    if seed is None:
        return None
    return subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "background_load.py"),
                             "--seed", str(seed), "--duration", "3600"],
                            stdout=subprocess.PIPE, text=True)


def stop_load(load) -> str | None:
    if load is None:
        return None
    load.terminate()
    return load.communicate(timeout=30)[0].strip()


def record(args) -> dict:
    space = load_space("mobilenet_v3_large")
    specs = calibration_specs(space, args.networks, seed=args.seed)
    jobs, archs, parts = jobs_for(specs)
    settings = TimingSettings(backend=args.backend, protocol="fixed", rounds=args.rounds,
                              min_gap_s=0.0)
    print(f"{len(parts)} parts and {len(archs)} networks, {args.rounds} rounds each, "
          f"two processes; load average before: {os.getloadavg()}", flush=True)
    load = start_load(args.load)
    started = time.monotonic()
    try:
        first = measure(jobs, settings)
        second = measure(jobs[::-1], settings)
    finally:
        load_line = stop_load(load)
    data = {"networks": archs, "parts": parts, "settings": vars(args),
            "seconds": time.monotonic() - started, "loadavg_after": os.getloadavg(),
            "background_load": load_line,
            "A": {str(k): v for k, v in first.items()}, "B": {str(k): v for k, v in second.items()}}
    if args.raw:
        Path(args.raw).write_text(json.dumps(data))
    return data


def report(data: dict, min_rounds: int = MIN_ROUNDS) -> None:
    rounds = len(next(iter(data["A"].values()))["wall"])
    print(f"{len(data['parts'])} parts, {len(data['networks'])} networks, {rounds} rounds, "
          f"{data['seconds']:.0f} s; load average after: {data['loadavg_after']}; "
          f"background load: {data['background_load']}")
    runs = [(w, c) for run in ("A", "B") for job in data[run].values()
            for ws, cs in zip(job["wall"], job["cpu"]) for w, c in zip(ws, cs)]
    kept = sorted(1e3 * (c - w) for w, c in runs if w - c <= 0.01 * w + 0.002)
    lost = 1 - len(kept) / len(runs)
    print(f"runs during which the thread lost the CPU: {100 * lost:.1f}% of {len(runs)}; on the "
          f"others, CPU time - wall time: median {kept[len(kept) // 2]:.2f} us, 1st-99th "
          f"percentile {kept[len(kept) // 100]:.2f} to {kept[99 * len(kept) // 100]:.2f} us")
    counts = sorted({3, 5, rounds} & set(range(1, rounds + 1)))
    print("clock statistic".ljust(28)
          + "".join(f"  {c} rounds: parts  nets  pred" for c in counts))
    for clock in CLOCKS:
        seen = view(data, clock)
        for name in STATISTICS:
            cells = ""
            for count in counts:
                f = fixed_rounds(seen, name, count)
                cells += f"           {f['parts']:5.2f} {f['nets']:5.2f} {f['pred']:5.2f}"
            print(f"{clock:8}{name}".ljust(28) + cells)
    print(f"\nadaptive (at least {min_rounds} rounds, at most {rounds}): mean rounds, then "
          "parts / nets / pred MAPE (%) at the stopping point")
    print("clock statistic".ljust(28) + "".join(f"   tol {t:<5}            " for t in TOLERANCES))
    for clock in CLOCKS:
        seen = view(data, clock)
        for name in STATISTICS:
            cells = ""
            for tolerance in TOLERANCES:
                f, taken = adaptive(seen, name, tolerance, min_rounds)
                cells += f"   {taken:4.1f}: {f['parts']:4.2f} {f['nets']:4.2f} {f['pred']:4.2f}"
            print(f"{clock:8}{name}".ljust(28) + cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="draws the networks")
    parser.add_argument("--backend", default="onnxruntime")
    parser.add_argument("--load", type=int, default=None,
                        help="run benchmarks/background_load.py --seed LOAD beside it")
    parser.add_argument("--raw", help="keep every run here (JSON)")
    parser.add_argument("--from", dest="source", help="analyse a kept JSON instead of measuring")
    parser.add_argument("--min-rounds", type=int, default=MIN_ROUNDS,
                        help="the adaptive replay's fewest rounds (timing.rounds)")
    args = parser.parse_args()
    data = json.loads(Path(args.source).read_text()) if args.source else record(args)
    report(data, args.min_rounds)


if __name__ == "__main__":
    main()
