"""The hardware-aware search: an Optuna study over a block-wise space (define-by-run).

Multi-objective strategies follow NSGA-II (Deb et al. 2002) and multi-objective TPE (Ozaki et
al. 2020) as Optuna implements them; ``mnasnet`` maximises the MnasNet reward (Tan et al. 2019)
with single-objective TPE (the paper used an RL controller; TPE reaches the same kind of reward
with far fewer samples, which is what a CPU budget allows).

One trial: sample an architecture, compute its cheap costs (MACs, params, predicted latency)
first, and train it only if it meets the hard constraints. A candidate that breaks a constraint
is recorded without training as a COMPLETE trial whose cost values are real, whose accuracy value
is 0.0 (user attr ``trained=False``, ``skipped`` says why) and whose constraint values are > 0:
Optuna's samplers rank infeasible trials by violation alone, so the placeholder never competes,
and the reports leave such trials out of every front. An architecture already measured in the
study is not trained again: its results are copied (``duplicate_of``).

``n_trials`` is the number of finished trials wanted in the study: complete, pruned, or failed
by the candidate itself (NaN loss, an exception). Trials cut off by a killed process are failed
on restart (``interrupted``) and do not count, so re-running the same command makes them up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.arch import PRESETS, ArchSpec, SearchSpace
from nas.arch.space import op_rank
from nas.cost import arch_cost
from nas.errors import NasError
from nas.search.locks import startup_lock
from nas.search.objectives import OBJECTIVES, mnasnet_reward
from nas.search.progress import Progress
from nas.search.settings import SearchSettings
from nas.search.storage import WorkerLock, journal_path, open_storage, repair_journal
from nas.search.workers import STOP, Budget, Worker, WorkerSettings
from nas.supernet.evaluator import PRECISION_BEFORE_THE_SETTING

# Per decision, the option that makes the smallest / largest network (activations by cost).
ACT_COST = {"relu": 0, "relu6": 1, "hswish": 2}


class Hardware(Protocol):
    name: str

    def predict_ms(self, spec: ArchSpec) -> float: ...


class SearchStopped(NasError):
    """The search stopped itself (too many failed trials)."""


def _option_rank(option):
    if isinstance(option, str):
        return ACT_COST[option] if option in ACT_COST else op_rank(option)
    return option


def space_extreme(space: SearchSpace, largest: bool) -> ArchSpec:
    """The space's smallest (or largest) network: the cheapest (dearest) option everywhere."""
    pick = max if largest else min
    return space.build(lambda name, options: pick(options, key=_option_rank))


@dataclass(frozen=True)
class CostBounds:
    macs: float
    params: float
    latency_ms: float | None


def cost_bounds(space: SearchSpace, hardware: Hardware | None, largest: bool) -> CostBounds:
    spec = space_extreme(space, largest)
    cost = arch_cost(spec)
    latency = hardware.predict_ms(spec) if hardware is not None else None
    return CostBounds(float(cost.macs), float(cost.params), latency)


def check_feasible(space: SearchSpace, settings: SearchSettings, hardware: Hardware | None) -> None:
    """Refuse, before anything is trained, a setting no network of the space can meet."""
    if settings.needs_latency and hardware is None:
        raise NasError(f"search.strategy={settings.strategy} with objectives="
                       f"{settings.objectives} needs latency: give hardware=<profile>")
    floor = cost_bounds(space, hardware, largest=False)
    values = {"max_latency_ms": floor.latency_ms, "max_macs": floor.macs,
              "max_params": floor.params}
    units = {"max_latency_ms": (1.0, "ms"), "max_macs": (1e-6, "M MACs"),
             "max_params": (1e-6, "M params")}
    for name, limit in settings.constraints.limits().items():
        if values[name] is not None and values[name] > limit:
            scale, unit = units[name]
            raise NasError(
                f"search.constraints.{name}={limit:g} cannot be met: the smallest network of "
                f"space {space.name!r} already needs {values[name] * scale:.2f} {unit}")


# --- trial bookkeeping ---------------------------------------------------------------------
def counts_as_done(trial: FrozenTrial) -> bool:
    """Finished trials that count towards n_trials (interrupted ones do not)."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and "failure" in trial.user_attrs


def count_done(study: optuna.Study) -> int:
    return sum(counts_as_done(t) for t in study.get_trials(deepcopy=False))


def best_accuracy(study: optuna.Study) -> float | None:
    """The best accuracy any worker's trial has reached so far (None before the first)."""
    scores = [t.user_attrs["accuracy"] for t in study.get_trials(deepcopy=False)
              if t.state == TrialState.COMPLETE and t.user_attrs.get("accuracy") is not None]
    return max(scores, default=None)


def failure_share(study: optuna.Study) -> tuple[int, int]:
    trials = [t for t in study.get_trials(deepcopy=False) if counts_as_done(t)]
    return sum(t.state == TrialState.FAIL for t in trials), len(trials)


def enqueue_references(study: optuna.Study, space: SearchSpace) -> list[str]:
    """Enqueue each reference network once per study (an interrupted run re-enqueues it)."""
    # A reference whose trial was cut off (FAIL without a candidate "failure") is queued again.
    present = {
        t.user_attrs.get("reference") for t in study.get_trials(deepcopy=False)
        if t.state != TrialState.FAIL or "failure" in t.user_attrs
    }
    enqueued = []
    for name in space.references:
        if name in present:
            continue
        if name not in PRESETS:
            raise NasError(f"space {space.name!r}: unknown reference network {name!r}")
        params = space.encode(PRESETS[name](resolution=space.resolution))
        study.enqueue_trial(params, user_attrs={"reference": name}, skip_if_exists=False)
        enqueued.append(name)
    return enqueued


def suggest_inactive_genes(trial: optuna.Trial, space: SearchSpace) -> None:
    """Also suggest the choices of blocks beyond each stage's sampled depth, unused.

    Optuna's NSGA-II and multivariate TPE model only the intersection of the trials' search
    spaces; with define-by-run depth, every block past a stage's smallest depth falls outside it
    and would be sampled at random for ever. Suggesting those choices as inactive genes (as
    genetic algorithms keep unexpressed genes) gives every trial the same parameters, so the
    samplers evolve all of them; the network built is unchanged. Two trials that differ only in
    inactive genes are one architecture: the second reuses the first's result (``duplicate_of``).
    """
    for index, stage in enumerate(space.stages):
        depth = trial.params.get(f"s{index}_depth", stage.depth[0])
        for block in range(depth, max(stage.depth)):
            for name, options in stage.block_decisions(first=block == 0).items():
                if len(options) > 1:
                    trial.suggest_categorical(f"s{index}_b{block}_{name}", list(options))


# --- the objective -------------------------------------------------------------------------
@dataclass
class Objective:
    space: SearchSpace
    settings: SearchSettings
    evaluator: object
    hardware: Hardware | None

    def _costs(self, trial: optuna.Trial, spec: ArchSpec) -> dict:
        cost = arch_cost(spec)
        latency = self.hardware.predict_ms(spec) if self.hardware is not None else None
        attrs = {"arch": str(spec), "macs": cost.macs, "params": cost.params,
                 "latency_ms": latency}
        constraints = self.settings.constraints
        if constraints.active:
            # Optuna 5's Trial.set_constraint (it replaces samplers' constraints_func): NSGA-II
            # and TPE read these values; <= 0 is feasible.
            violations = constraints.violations(latency_ms=latency, macs=cost.macs,
                                                params=cost.params)
            for name, value in zip(constraints.limits(), violations):
                trial.set_constraint(name, value)
            attrs["skipped"] = constraints.describe_violation(
                latency_ms=latency, macs=cost.macs, params=cost.params)
        for key, value in attrs.items():
            if value is not None and value != "":
                trial.set_user_attr(key, value)
        return attrs

    def _values(self, attrs: dict):
        if self.settings.single_objective:
            reward = mnasnet_reward(attrs["accuracy"], attrs["latency_ms"],
                                    target_ms=self.settings.target_ms, w=self.settings.w,
                                    w_above_target=self.settings.w_above_target)
            return reward
        return [attrs[OBJECTIVES[name][0]] * OBJECTIVES[name][2]
                for name in self.settings.objective_names]

    def _measured(self, study: optuna.Study, arch: str) -> FrozenTrial | None:
        for old in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if old.user_attrs.get("arch") == arch and "duplicate_of" not in old.user_attrs:
                return old
        return None

    def __call__(self, trial: optuna.Trial):
        spec = self.space.sample(trial)
        if self.settings.inactive_genes:
            suggest_inactive_genes(trial, self.space)
        attrs = self._costs(trial, spec)
        old = self._measured(trial.study, attrs["arch"])
        if old is not None:
            trial.set_user_attr("duplicate_of", old.number)
            for key in ("accuracy", "train_seconds", "epochs", "trained", "reward"):
                if key in old.user_attrs:
                    trial.set_user_attr(key, old.user_attrs[key])
            return old.values[0] if self.settings.single_objective else list(old.values)
        if attrs.get("skipped"):
            trial.set_user_attr("trained", False)
            attrs["accuracy"] = 0.0  # placeholder, see the module docstring
            return self._values(attrs)
        attrs["accuracy"] = self._train(trial, spec)
        if self.settings.single_objective:
            trial.set_user_attr("reward", self._values(attrs))
        return self._values(attrs)

    def _train(self, trial: optuna.Trial, spec: ArchSpec) -> float:
        report_to = trial if (self.settings.single_objective
                              and self.settings.pruner != "none") else None
        try:
            result = self.evaluator.evaluate(spec, trial=report_to)
        except optuna.TrialPruned:
            trial.set_user_attr("trained", True)
            raise
        except Exception as error:
            trial.set_user_attr("failure", f"{type(error).__name__}: {error}"[:300])
            raise
        accuracy = float(result.val_accuracy)
        trial.set_user_attr("train_seconds", float(result.train_seconds))
        trial.set_user_attr("epochs", int(result.epochs))
        history = getattr(result, "history", None)  # per-epoch accuracy, when the evaluator has it
        if history:
            trial.set_user_attr("history", [float(value) for value in history])
        if not math.isfinite(accuracy):
            trial.set_user_attr("failure", f"accuracy is {accuracy} (loss diverged)")
            raise FloatingPointError(f"accuracy is {accuracy}")
        trial.set_user_attr("accuracy", accuracy)
        trial.set_user_attr("trained", True)
        return accuracy


# --- samplers ------------------------------------------------------------------------------
def make_sampler(settings: SearchSettings, seed: int) -> optuna.samplers.BaseSampler:
    # Hard constraints reach NSGA-II and TPE through Trial.set_constraint (see Objective).
    builders: dict[str, Callable[[], optuna.samplers.BaseSampler]] = {
        "nsga2": lambda: optuna.samplers.NSGAIISampler(
            population_size=settings.population_size, seed=seed),
        "tpe": lambda: optuna.samplers.TPESampler(
            n_startup_trials=settings.n_startup_trials, multivariate=True, seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "mnasnet": lambda: optuna.samplers.TPESampler(
            n_startup_trials=settings.n_startup_trials, multivariate=True, seed=seed),
    }
    return builders[settings.strategy]()


def make_pruner(settings: SearchSettings) -> optuna.pruners.BasePruner:
    if settings.pruner == "median" and settings.single_objective:
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


def directions(settings: SearchSettings) -> list[str]:
    if settings.single_objective:
        return ["maximize"]
    return [OBJECTIVES[name][1] for name in settings.objective_names]


# --- the study -----------------------------------------------------------------------------
def _open_study(storage, study_name: str, settings: SearchSettings, fingerprint: dict,
                metadata: dict) -> optuna.Study:
    study = optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True,
                                directions=directions(settings))
    old = with_later_defaults(study.user_attrs.get("fingerprint"))
    if old is None:
        study.set_user_attr("fingerprint", fingerprint)
        for key, value in metadata.items():
            study.set_user_attr(key, value)
    else:
        _refuse_other_settings(study_name, old, fingerprint)
    return study


def _refuse_other_settings(study_name: str, old: dict, fingerprint: dict) -> None:
    if old == fingerprint:
        return
    before, now = _flat(old), _flat(fingerprint)
    changed = [f"{key}: {before.get(key)!r} then, {now.get(key)!r} now"
               for key in sorted(set(before) | set(now)) if before.get(key) != now.get(key)]
    raise NasError(f"study {study_name!r} was made with other settings ({'; '.join(changed)})"
                   ": give another run_dir or study_name, or the same settings")


def check_study_settings(*, space: SearchSpace, settings: SearchSettings, hardware,
                         evaluator_id: object, run_dir: Path, storage: str | None,
                         study_name: str) -> None:
    """Before worker processes start: a study of this journal made with other settings is
    refused here, in one line, rather than once by each worker. Nothing is written; a journal
    that is absent, or whose last line a killed run cut (the first worker repairs it), is left
    for the workers to check."""
    journal = journal_path(storage, run_dir)
    if journal is None or not journal.exists() or not _ends_with_newline(journal):
        return
    backend = open_storage(storage, run_dir)
    if study_name not in optuna.get_all_study_names(backend):
        return
    study = optuna.load_study(study_name=study_name, storage=backend)
    old = with_later_defaults(study.user_attrs.get("fingerprint"))
    if old is not None:
        _refuse_other_settings(study_name, old,
                               _fingerprint(space, settings, hardware, evaluator_id))


def _ends_with_newline(path: Path) -> bool:
    if path.stat().st_size == 0:
        return False
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _flat(settings: dict, prefix: str = "") -> dict:
    """Nested settings as dotted keys, so that a refusal names the very setting that changed
    (``evaluator.evaluator.bn_images``), not only its section."""
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def with_later_defaults(fingerprint: dict | None) -> dict | None:
    """A study's fingerprint with the settings added since it was made, at the values it ran
    with: a supernet evaluator without ``precision`` scored in float32."""
    evaluator = (fingerprint or {}).get("evaluator")
    if not isinstance(evaluator, dict) or not isinstance(evaluator.get("evaluator"), dict):
        return fingerprint
    config = evaluator["evaluator"]
    if config.get("kind") == "supernet" and "precision" not in config:
        config = {**config, "precision": PRECISION_BEFORE_THE_SETTING}
    if config.get("kind") == "supernet" and "settled" not in config:
        config = {**config, "settled": "none"}  # every image was scored
    return {**fingerprint, "evaluator": {**evaluator, "evaluator": config}}


def _fingerprint(space: SearchSpace, settings: SearchSettings, hardware, evaluator_id) -> dict:
    """What must not change when a study is continued."""
    return {
        "space": space.name, "space_size": float(space.size()),
        "strategy": settings.strategy, "objectives": list(settings.objective_names),
        "constraints": settings.constraints.limits(),
        "hardware": None if hardware is None else hardware.name,
        "evaluator": evaluator_id,
        "reward": [settings.target_ms, settings.w, settings.w_above_target]
        if settings.single_objective else None,
    }


@dataclass
class _Monitor:
    """Optuna callback: progress, the failure-rate stop, and the n_trials stop across workers."""

    settings: SearchSettings
    progress: Progress | None
    study_wide: bool = True  # n_trials counts the study's trials (not one worker's own)
    stopped: str = ""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.progress is not None:
            seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
            outcome = trial.state.name.lower()
            if "failure" in trial.user_attrs:
                outcome += f" ({trial.user_attrs['failure'][:60]})"
            elif trial.user_attrs.get("skipped"):
                outcome = f"skipped ({trial.user_attrs['skipped']})"
        failed, done = failure_share(study)
        if self.progress is not None:
            self.progress.update(number=trial.number, outcome=outcome, seconds=seconds,
                                 accuracy=trial.user_attrs.get("accuracy"),
                                 counted=counts_as_done(trial),
                                 study_done=done if self.study_wide else None,
                                 study_best=best_accuracy(study) if self.study_wide else None)
        if done >= self.settings.min_trials_for_failure_rate and \
                failed / done > self.settings.max_failure_rate:
            self.stopped = (f"search stopped: {failed} of {done} trials failed, more than "
                            f"search.max_failure_rate={self.settings.max_failure_rate:g}; last: "
                            f"{trial.user_attrs.get('failure', '?')}")
            study.stop()
        elif done >= self.settings.n_trials:
            study.stop()


def run_search(*, space: SearchSpace, settings: SearchSettings, evaluator, run_dir: Path,
               hardware: Hardware | None = None, storage: str | None = None,
               study_name: str = "search", evaluator_id: object = None,
               metadata: dict | None = None, show_progress: bool = True,
               workers: WorkerSettings | None = None) -> optuna.Study:
    """Run (or continue) the study until it holds ``settings.n_trials`` finished trials.

    Other workers may share the study (``nas.search.workers``): ``workers`` says how this one
    counts its trials and how quickly a database notices a dead one.
    """
    check_feasible(space, settings, hardware)
    workers = workers or WorkerSettings()
    run_dir = Path(run_dir)
    journal = journal_path(storage, run_dir)
    lock = WorkerLock(journal) if journal is not None else None
    alone = lock.acquire() if lock is not None else True
    worker = None
    try:
        if lock is not None and alone:
            repair_journal(journal)
        largest = cost_bounds(space, hardware, largest=True)
        metadata = {**(metadata or {}), "space": space.name,
                    "hardware": None if hardware is None else hardware.name,
                    "objectives": list(settings.objective_names), "strategy": settings.strategy,
                    "macs_setting": f"{space.resolution}x{space.resolution}, "
                                    f"{space.classes or 1000} classes",
                    "reference_point": {"accuracy": 0.0, "macs": largest.macs,
                                        "latency_ms": largest.latency_ms}}
        # One worker at a time opens the study, fails dead workers' trials, enqueues references.
        with startup_lock(storage, journal):
            backend = open_storage(storage, run_dir, heartbeat_seconds=workers.heartbeat_seconds,
                                   grace_seconds=workers.grace_seconds)
            study = _open_study(backend, study_name, settings,
                                _fingerprint(space, settings, hardware, evaluator_id), metadata)
            worker = Worker.start(study, workers, journal=journal,
                                  alone=lock is not None and alone)
            enqueue_references(study, space)
        if lock is not None:
            lock.share()
        return _optimize(study, space, settings, evaluator, hardware, show_progress, worker)
    finally:
        if worker is not None:
            worker.close()
        if lock is not None:
            lock.release()


def _optimize(study, space, settings, evaluator, hardware, show_progress,
              worker: Worker) -> optuna.Study:
    budget = Budget(settings.n_trials, worker.settings.n_trials_per_worker, counts_as_done)
    done = budget.done(study.get_trials(deepcopy=False), mine=0)
    if budget.next_step(study.get_trials(deepcopy=False), mine=0) == STOP:
        return study
    # A resumed run (or another worker) must not replay the same random proposals.
    study.sampler = make_sampler(
        settings, seed=settings.seed * 100_003 + len(study.trials) + worker.seed_offset)
    study.pruner = make_pruner(settings)
    progress = Progress(total=budget.goal, done=done) if show_progress else None
    monitor = _Monitor(settings, progress, study_wide=budget.per_worker is None)
    objective = Objective(space, settings, evaluator, hardware)
    start = time.perf_counter()
    try:
        worker.run(study, objective, budget, callbacks=[monitor],
                   stopped=lambda: bool(monitor.stopped))
    finally:
        if progress is not None:
            progress.close()
    if monitor.stopped:
        raise SearchStopped(monitor.stopped)
    study.set_user_attr("last_run_seconds", time.perf_counter() - start)
    return study
