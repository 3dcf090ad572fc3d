"""``python -m nas.search``: a hardware-aware architecture search, then its report."""

from __future__ import annotations

from pathlib import Path

import optuna
from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace
from nas.cli import run
from nas.errors import NasError
from nas.search.evaluators import (
    check_evaluator_space,
    evaluator_identity,
    evaluator_kind,
    make_search_evaluator,
)
from nas.search.objectives import Constraints
from nas.search.parallel import run_local_workers
from nas.search.settings import SearchSettings
from nas.search.storage import journal_path, open_storage, refuse_packed_journal
from nas.search.study import check_feasible, check_study_settings, run_search
from nas.search.workers import split_worker_settings

USAGE = """usage: python -m nas.search [hardware=pixel] [space=mobilenet_v3_small] [search=tpe]
       [search.n_trials=48] [search.objectives=macs|latency|all]
       [search.constraints.max_latency_ms=..] [run_dir=..] [storage=URL] [seed=0]
       [study_name=NAME] [search.n_workers=auto|N] [search.n_trials_per_worker=N]
Re-running the same command continues the study up to search.n_trials finished trials.
Processes given the same storage and study_name share the study (README: Many workers)."""

def settings_from_config(search: dict, seed: int) -> SearchSettings:
    """The strategy's settings; ``search`` is typed and its keys checked by nas.schema.Search."""
    search = dict(search)
    constraints = Constraints(**dict(search.pop("constraints", None) or {}))
    return SearchSettings(constraints=constraints, seed=seed, **search)


def load_hardware_profile(config: dict | None):
    if config is None:
        return None
    try:
        from nas.hardware import load_hardware
    except ImportError as error:
        raise NasError(f"hardware profiles need nas.hardware, which failed to import: {error}") \
            from None
    return load_hardware(config)


def default_run_dir(cfg: DictConfig, space: SearchSpace, hardware) -> Path:
    name = OmegaConf.select(cfg, "experiment.name", default=None) or space.name
    return Path("results") / f"{name}-{hardware.name if hardware is not None else 'nohw'}"


def main(cfg: DictConfig, worker_args: list[str] | None = None) -> None:
    """``worker_args``: the overrides ``search.n_workers`` > 1 starts its workers with (this
    command's by default; ``nas.experiment`` gives its own, with the search's run_dir)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines say what happened
    seed = cfg.seed
    container = OmegaConf.to_container(cfg, resolve=True)
    workers, search = split_worker_settings(container["search"],
                                            evaluator_kind(container["evaluator"]))
    settings = settings_from_config(search, seed)
    space = SearchSpace.from_config(container["space"])
    hardware = load_hardware_profile(container.get("hardware"))
    if hasattr(hardware, "calibration_space"):  # an uncorrected table calibrates on this space
        hardware.calibration_space = space
    check_feasible(space, settings, hardware)  # before any dataset is loaded or net trained
    tabular = container["evaluator"].get("kind") == "tabular"
    if tabular:  # refuse a network the table lacks now, not mid-run
        from nas.tabular import check_space
        check_space(space)
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(cfg, space, hardware)
    study_name = cfg.study_name or run_dir.name
    refuse_packed_journal(cfg.storage, run_dir)
    evaluator_id = {"evaluator": evaluator_identity(container["evaluator"], container.get("data")),
                    "data": None if tabular else container.get("data")}
    if workers.n_workers > 1:  # this process only starts the workers, then reports
        # Bad input ends here, in one line, before any worker starts (not once per worker).
        check_evaluator(container, space, seed)
        check_study_settings(space=space, settings=settings, hardware=hardware,
                             evaluator_id=evaluator_id, run_dir=run_dir, storage=cfg.storage,
                             study_name=study_name)
        run_local_workers(cfg_overrides() if worker_args is None else worker_args,
                          workers.n_workers)
        study = optuna.load_study(study_name=study_name, storage=open_storage(cfg.storage, run_dir))
    else:
        if workers.threads is not None:
            import torch
            torch.set_num_threads(workers.threads)
        evaluator = make_search_evaluator(container.get("data"), container["evaluator"], seed)
        check_evaluator_space(evaluator, space)
        metadata = {"command": typed_command(),
                    "hardware_metadata": _plain(getattr(hardware, "metadata", None)),
                    "evaluator_config": container["evaluator"],
                    "data_config": None if tabular else container.get("data")}
        if tabular:  # the benchmark's exact fronts, for the report to measure the search by
            from nas.tabular import true_fronts
            metadata["true_fronts"] = true_fronts(space, hardware)
        study = run_search(space=space, settings=settings, evaluator=evaluator, run_dir=run_dir,
                           hardware=hardware, storage=cfg.storage, study_name=study_name,
                           evaluator_id=evaluator_id, metadata=metadata, workers=workers)
    print(f"study {study_name!r}: {len(study.trials)} trials in "
          f"{cfg.storage or journal_path(None, run_dir)}")
    if cfg.report:
        from nas.report import write_report
        written = write_report(study, run_dir)
        print(f"results: {run_dir}/ ({', '.join(sorted(p.name for p in written))})")


def check_evaluator(container: dict, space: SearchSpace, seed: int) -> None:
    """Build the evaluator once, as each worker will, and drop it: a missing or corrupt file,
    another space or a missing dataset is reported by this process."""
    evaluator = make_search_evaluator(container.get("data"), container["evaluator"], seed)
    check_evaluator_space(evaluator, space)


def typed_command() -> str:
    """The command the user typed: a worker started by ``search.n_workers`` is told it."""
    import os

    from nas.search.parallel import COMMAND_ENV, search_command
    return os.environ.get(COMMAND_ENV) or search_command(cfg_overrides())


def cfg_overrides() -> list[str]:
    import sys
    return [arg for arg in sys.argv[1:] if arg != "--cfg"]


def _plain(value):
    """Metadata as JSON-safe plain data for the study's user attrs."""
    import json
    return None if value is None else json.loads(json.dumps(value, default=str))


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "config", usage=USAGE)


if __name__ == "__main__":
    cli()
