"""Building a ground truth: every selected network trained stand-alone at a long budget, on
every seed, resumable one training at a time.

A run folder holds ``plan.json`` (the networks, the budget, the command; written once, and a
rerun with other settings is refused rather than mixing budgets) and ``runs/<name>-seed<k>.json``,
one file per finished training, written atomically. A rerun skips what is there, so a killed run
loses only the trainings in flight. Several workers (processes, ``threads`` each) take the
next unfinished training from one queue, so a worker that drew small networks does not sit idle
while another trains the largest; two 1-thread processes train small 28x28 networks faster on 2
cores than one 2-thread process. Workers start with the malloc thresholds that keep depthwise
convs from page-faulting (``nas.hardware.child``; 15% faster training measured here). After
every finished training the table (``table.py``'s format) is rewritten from what has finished.
``nas.experiment``'s final trainings (found networks beside the references, at the ground
truth's budget) use the same machinery (``label``, ``source``, the settings compared).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nas.errors import NasError
from nas.io import atomic_write
from nas.yardstick.selection import Candidate
from nas.yardstick.table import save_ground_truth, seed_ceiling


@dataclass(frozen=True)
class Job:
    name: str
    arch: str
    seed: int
    macs: int

    @property
    def file_name(self) -> str:
        return f"{self.name}-seed{self.seed}.json"


def make_plan(candidates: list[Candidate], *, space: str, data: dict, evaluator: dict,
              epochs: int, seeds: list[int], command: str) -> dict:
    return {
        "space": space, "dataset": data.get("name"), "data": data, "evaluator": evaluator,
        "epochs": epochs, "seeds": seeds, "command": command,
        "networks": [{"name": c.name, "role": c.role, "arch": str(c.spec), "macs": c.macs,
                      "params": c.params} for c in candidates],
    }


SETTINGS = ("space", "data", "evaluator", "epochs", "seeds")


def changed_settings(folder: Path, plan: dict, keys: tuple[str, ...] = SETTINGS) -> list[str]:
    """The ``keys`` in which ``folder``'s saved plan differs from ``plan`` (none if no plan)."""
    path = folder / "plan.json"
    if not path.is_file():
        return []
    saved = json.loads(path.read_text())
    return [key for key in keys if saved.get(key) != plan.get(key)]


def write_or_check_plan(folder: Path, plan: dict, *, keys: tuple[str, ...] = SETTINGS,
                        what: str = "a ground truth",
                        hint: str = "give another out= or restore the settings") -> dict:
    """Save ``plan`` in a new folder; in an existing one, the saved plan if its ``keys`` match
    (a folder never mixes budgets: a finished training is only reused for the same one)."""
    path = folder / "plan.json"
    if path.is_file():
        changed = changed_settings(folder, plan, keys)
        if changed:
            raise NasError(f"{folder} holds {what} made with other {', '.join(changed)}; {hint}")
        return json.loads(path.read_text())
    atomic_write(path, json.dumps(plan, indent=2) + "\n")
    return plan


def jobs_of(plan: dict) -> list[Job]:
    """Every (network, seed), network by network so finished networks have all their seeds."""
    return [Job(n["name"], n["arch"], seed, n["macs"])
            for n in plan["networks"] for seed in plan["seeds"]]


def finished(folder: Path) -> dict[str, dict]:
    runs = {}
    for path in sorted((folder / "runs").glob("*.json")):
        try:
            runs[path.name] = json.loads(path.read_text())
        except json.JSONDecodeError:
            print(f"warning: {path} is corrupt; it will be trained again", file=sys.stderr)
    return runs


def train_one(job: Job, plan: dict, threads: int | None) -> dict:
    import torch

    from nas.arch import decode
    from nas.evaluate import Evaluator, load_data_config, recipe_from_config

    if threads:
        torch.set_num_threads(threads)
    evaluator_cfg = dict(plan["evaluator"])
    recipe = recipe_from_config(evaluator_cfg)
    data = load_data_config(dict(plan["data"]))
    evaluator = Evaluator(data=data, recipe=recipe, epochs=int(plan["epochs"]), seed=job.seed,
                          train_fraction=float(evaluator_cfg.get("train_fraction", 1.0)),
                          device=evaluator_cfg.get("device", "auto"),
                          split_seed=int(plan["data"].get("split_seed") or 0))
    result = evaluator.evaluate(decode(job.arch))
    return {"name": job.name, "arch": job.arch, "seed": job.seed,
            "val_accuracy": result.val_accuracy, "history": list(result.history),
            "epochs": result.epochs, "train_seconds": round(result.train_seconds, 1),
            "seconds": round(result.seconds, 1), "val_images": len(evaluator.data.val),
            "train_images": len(evaluator.data.train), "threads": torch.get_num_threads()}


def work(folder: str, plan: dict, queue, threads: int | None, parent: int) -> None:
    """Train jobs from ``queue`` until its end marker (None), saving each as it finishes; stop
    taking jobs once the parent is gone (killed: its rerun would train the same jobs again)."""
    folder = Path(folder)
    while os.getppid() == parent and (job := queue.get()) is not None:
        record = train_one(job, plan, threads)
        atomic_write(folder / "runs" / job.file_name, json.dumps(record) + "\n")


def table_of(plan: dict, runs: dict[str, dict]) -> pd.DataFrame:
    """One row per network with at least one finished seed, in the table format (percent)."""
    rows = []
    for network in plan["networks"]:
        accuracies = {seed: runs[f"{network['name']}-seed{seed}.json"]["val_accuracy"] * 100
                      for seed in plan["seeds"] if f"{network['name']}-seed{seed}.json" in runs}
        if not accuracies:
            continue
        values = list(accuracies.values())
        row = {"arch": network["arch"], "name": network["name"], "role": network["role"],
               "accuracy": statistics.fmean(values),
               "accuracy_std": statistics.stdev(values) if len(values) > 1 else float("nan")}
        row.update({f"seed_{seed}": accuracies.get(seed) for seed in plan["seeds"]})
        row.update(macs=network["macs"], params=network["params"])
        rows.append(row)
    return pd.DataFrame(rows)


def write_table(folder: Path, plan: dict, out: Path,
                source: str = "python -m nas.ground_truth") -> pd.DataFrame:
    runs = finished(folder)
    frame = table_of(plan, runs)
    if frame.empty:
        return frame
    first = next(iter(runs.values()))
    meta = {"space": plan["space"], "dataset": plan["dataset"],
            "budget": f"{plan['epochs']} epochs on {first['train_images']} training images, "
                      f"validated on {first['val_images']} (evaluator recipe of the plan)",
            "seeds": len(plan["seeds"]), "source": source,
            "command": plan["command"], "networks_planned": len(plan["networks"]),
            "trainings_done": len(runs), "ceiling": seed_ceiling(frame)}
    save_ground_truth(frame, meta, out)
    return frame


def _left(plan: dict, folder: Path, started: float, done_at_start: int) -> str:
    runs = finished(folder)
    jobs = jobs_of(plan)
    new = [j for j in jobs if j.file_name in runs][done_at_start:]
    remaining = sum(j.macs for j in jobs if j.file_name not in runs)
    if not new:
        return "?"
    rate = (time.time() - started) / sum(j.macs for j in new)  # wall seconds per MAC, all workers
    return f"{remaining * rate / 60:.0f} min"


@contextlib.contextmanager
def _malloc_settings():
    """The workers' environment gets the malloc thresholds; the caller's is restored after."""
    from nas.hardware.child import MALLOC_ENV

    saved = {name: os.environ.get(name) for name in MALLOC_ENV}
    os.environ.update(MALLOC_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def run(folder: Path, plan: dict, out: Path, *, workers: int, threads: int | None,
        label: str = "ground truth", source: str = "python -m nas.ground_truth",
        on_progress=None) -> pd.DataFrame:
    """Train every unfinished job with ``workers`` processes; rewrite the table as they finish.

    ``label`` starts the progress lines and ``source`` names the command in the table's
    metadata: the same machinery serves ``nas.ground_truth`` and ``nas.experiment``'s final
    trainings, whose report is rewritten by ``on_progress()`` after the table."""
    from tqdm import tqdm

    (folder / "runs").mkdir(parents=True, exist_ok=True)
    jobs = jobs_of(plan)
    done = sum((folder / "runs" / j.file_name).is_file() for j in jobs)
    print(f"{label}: {done}/{len(jobs)} trainings done, {len(jobs) - done} to go, "
          f"{workers} worker(s) x {threads or 'default'} thread(s)", file=sys.stderr, flush=True)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for job in jobs:  # the plan's order: a network's seeds one after the other
        if not (folder / "runs" / job.file_name).is_file():
            queue.put(job)
    for _ in range(workers):
        queue.put(None)
    processes = [context.Process(target=work, daemon=True,
                                 args=(str(folder), plan, queue, threads, os.getpid()))
                 for _ in range(workers)]
    with _malloc_settings():
        for process in processes:
            process.start()
    started, start_done, seen = time.time(), done, done
    bar = tqdm(total=len(jobs), initial=done, unit="training", file=sys.stderr,
               disable=not sys.stderr.isatty())
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        while any(p.is_alive() for p in processes):
            time.sleep(5)
            now = sum((folder / "runs" / j.file_name).is_file() for j in jobs)
            if now > seen:
                bar.update(now - seen)
                seen = now
                write_table(folder, plan, out, source)
                if on_progress is not None:
                    on_progress()
                left = _left(plan, folder, started, start_done)
                bar.set_postfix_str(f"~{left} left")
                if bar.disable:
                    print(f"{label}: {now}/{len(jobs)} trainings done, ~{left} left",
                          file=sys.stderr, flush=True)
    except BaseException:  # Ctrl-C, kill: the trainings in flight stop with this process
        for process in processes:
            process.terminate()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
        for process in processes:
            process.join()
    failed = [p.exitcode for p in processes if p.exitcode]
    frame = write_table(folder, plan, out, source)
    if failed:
        raise NasError(f"{len(failed)} worker(s) failed (exit {failed}); finished trainings are "
                       f"kept in {folder / 'runs'}: run the same command to continue")
    return frame
