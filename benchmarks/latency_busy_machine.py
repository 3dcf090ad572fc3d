"""Issue 17's figures in one command, on the machine as it is, with a known load beside them.

1. Starts ``benchmarks/background_load.py --seed LOAD_SEED`` (bursty load on one core; its
   settings are printed and saved) and keeps it running until the end (``--no-load``: none).
2. ``python -m nas.validate hardware=cpu n_archs=30 seed=SEED`` on a FRESH table (a temporary
   ``NAS_CACHE_DIR``, ``table=`` inside it) with the adaptive protocol: it measures the parts
   of the 36 networks, fits the additivity correction on its own calibration networks the
   first time it predicts, then times the 36 networks end to end in two processes. Gives the
   noise floor (the same 36 networks, two processes: ``noise_mape``), the validation MAPE,
   the share within 10% and Spearman against MACs'.
3. The same with ``hardware.timing.protocol=fixed`` (the protocol before issue 17) on another
   fresh table, in the same session: the measuring-time ratio (``measure_s`` new / old, the
   seconds each validate spent measuring parts, calibration networks and both end-to-end runs)
   and the old protocol's figures beside the new.

Prints each figure against the issue's goal (noise floor <= 3% MAPE; MAPE <= 5%, >= 95% within
10%, Spearman above MACs' by >= 0.03) and writes the pairs, plots, logs and a summary under
``--out``. Whatever else runs on the machine enters every figure: run it with nothing else
heavy running, and say so; the load average before and after is recorded.

    PYTHONPATH=. python benchmarks/latency_busy_machine.py [--seed 4242] [--load-seed 7]
        [--order adaptive,fixed] [--out results/latency_busy_machine]
    # each protocol measures ~570 parts, 10 calibration networks and 2 x 36 networks
    PYTHONPATH=. python benchmarks/latency_busy_machine.py --n-archs 3 --resolution 64 \
        --presets none --no-load --out /tmp/check      # the plumbing only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"noise floor (MAPE, two processes)": ("noise_mape", "<=", 3.0),
         "validation MAPE": ("mape", "<=", 5.0),
         "within 10%": ("within10", ">=", 0.95),
         "Spearman - MACs' Spearman": ("spearman_gain", ">=", 0.03)}


def start_load(args):
    if args.no_load:
        return None
    command = [sys.executable, str(ROOT / "benchmarks" / "background_load.py"),
               "--seed", str(args.load_seed), "--duration", "7200"]
    print("background load:", " ".join(command[1:]), flush=True)
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def stop_load(load) -> dict | None:
    if load is None:
        return None
    load.terminate()
    out = load.communicate(timeout=30)[0].strip().splitlines()
    return json.loads(out[-1]) if out else None


def validate(protocol: str, args, cache: Path, out: Path) -> dict:
    """One ``nas.validate`` run on a fresh table; its summary line as a dict."""
    command = [sys.executable, "-m", "nas.validate", "hardware=cpu", f"n_archs={args.n_archs}",
               f"seed={args.seed}", f"table={cache / f'{protocol}.csv'}",
               f"out={out / f'{protocol}.csv'}", f"hardware.timing.protocol={protocol}"]
    if args.resolution:
        command.append(f"resolution={args.resolution}")
    if args.presets == "none":
        command.append("presets=[]")
    print(f"\n[{dt.datetime.now():%H:%M:%S}] {' '.join(command[1:])}", flush=True)
    env = dict(os.environ, NAS_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    start = time.monotonic()
    with open(out / f"{protocol}.log", "w") as log:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                                cwd=ROOT)
    wall_s = time.monotonic() - start
    (out / f"{protocol}.stdout").write_text(result.stdout)
    if result.returncode != 0:
        raise SystemExit(f"nas.validate ({protocol}) failed, see {out / f'{protocol}.log'}")
    lines = result.stdout.strip().splitlines()
    print("\n".join(line for line in lines if line.startswith("validation:")), flush=True)
    summary = dict(item.split("=", 1) for item in lines[-1].split())
    numbers = {k: float(v) for k, v in summary.items()
               if k in ("mape", "within10", "spearman", "macs_spearman", "noise_mape",
                        "measure_s", "max_error", "correction_nets", "unstable_networks",
                        "unstable_parts")}
    return summary | numbers | {"wall_s": wall_s,
                                "spearman_gain": numbers["spearman"] - numbers["macs_spearman"]}


def verdict(value: float, op: str, goal: float) -> str:
    met = value <= goal if op == "<=" else value >= goal
    return "met" if met else "NOT met"


def report(runs: dict, load: dict | None, args, before, after) -> str:
    lines = [f"issue 17 figures, {dt.datetime.now():%Y-%m-%d %H:%M}, "
             f"nas.validate hardware=cpu n_archs={args.n_archs} seed={args.seed}"
             + (f" resolution={args.resolution}" if args.resolution else ""),
             f"beside: {json.dumps(load) if load else 'no background load'}",
             f"load average before {before}, after {after}", ""]
    new = runs.get("adaptive")
    for name, (key, op, goal) in GOALS.items():
        cells = [f"{protocol} {runs[protocol][key]:.4g}" for protocol in runs]
        mark = f" (goal {op} {goal:g}: {verdict(new[key], op, goal)})" if new else ""
        lines.append(f"{name}: " + ", ".join(cells) + mark)
    if "adaptive" in runs and "fixed" in runs:
        ratio = runs["adaptive"]["measure_s"] / runs["fixed"]["measure_s"]
        lines.append(f"measuring time: adaptive {runs['adaptive']['measure_s']:.0f} s, fixed "
                     f"{runs['fixed']['measure_s']:.0f} s: ratio {ratio:.2f} (whole commands "
                     f"{runs['adaptive']['wall_s']:.0f} s / {runs['fixed']['wall_s']:.0f} s)")
    for protocol, run in runs.items():
        lines.append(f"{protocol}: correction={run.get('correction')} "
                     f"nets={run.get('correction_nets'):.0f} max_error={run['max_error']:.3g} "
                     f"unstable networks={run['unstable_networks']:.0f} "
                     f"parts={run['unstable_parts']:.0f} estimate={run.get('estimate')}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=4242, help="nas.validate's seed")
    parser.add_argument("--n-archs", type=int, default=30)
    parser.add_argument("--load-seed", type=int, default=7)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--order", default="adaptive,fixed",
                        help="protocols in the order run (adaptive, fixed)")
    parser.add_argument("--resolution", type=int, default=None, help="quick checks only")
    parser.add_argument("--presets", choices=("default", "none"), default="default")
    parser.add_argument("--out", default=str(ROOT / "results" / "latency_busy_machine"))
    args = parser.parse_args()
    order = args.order.split(",")
    if not set(order) <= {"adaptive", "fixed"} or not order:
        parser.error("--order takes adaptive and/or fixed, comma-separated")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()
    load = start_load(args)
    runs = {}
    try:
        with tempfile.TemporaryDirectory(prefix="nas-fresh-tables-") as cache:
            for protocol in order:
                runs[protocol] = validate(protocol, args, Path(cache), out)
    finally:
        load_line = stop_load(load)
    text = report(runs, load_line, args, before, os.getloadavg())
    (out / "summary.txt").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
