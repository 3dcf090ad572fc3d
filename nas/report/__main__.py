"""``python -m nas.report run_dir=...``: regenerate a run's tables and plots from its storage;
``serve=true [port=8080]``: open the run's study in optuna-dashboard instead (live while a search
runs; ``pip install 'nas[dashboard]'``)."""

from __future__ import annotations

from pathlib import Path

import optuna
from omegaconf import DictConfig

from nas.cli import run
from nas.errors import NasError
from nas.report.write import write_report
from nas.search.storage import journal_path, open_storage


def load_study(run_dir: Path, storage: str | None, study_name: str | None) -> optuna.Study:
    journal = journal_path(storage, run_dir)
    if journal is not None and not journal.exists():
        raise NasError(f"no study journal at {journal} (give run_dir=... of a search, "
                       "or storage=URL)")
    backend = open_storage(storage, run_dir)
    names = [summary.study_name for summary in optuna.get_all_study_summaries(backend)]
    if study_name is None:
        if len(names) != 1:
            raise NasError(f"the storage holds studies {names}: give study_name=...")
        study_name = names[0]
    if study_name not in names:
        raise NasError(f"no study {study_name!r} in the storage (it holds {names})")
    return optuna.load_study(study_name=study_name, storage=backend)


def main(cfg: DictConfig) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines say what happened
    if not cfg.run_dir:
        raise NasError("give run_dir=<a search's results directory>")
    run_dir = Path(cfg.run_dir)
    study = load_study(run_dir, cfg.storage, cfg.study_name)
    if cfg.serve:
        return serve(open_storage(cfg.storage, run_dir), study.study_name, cfg.host, cfg.port)
    written = write_report(study, run_dir)
    print(f"{run_dir}/: {', '.join(sorted(p.name for p in written))}")


def serve(storage, study_name: str, host: str, port: int) -> None:
    """optuna-dashboard on the run's storage until Ctrl-C."""
    try:
        from optuna_dashboard import run_server
    except ImportError:
        raise NasError("serve=true needs optuna-dashboard: pip install 'nas[dashboard]'") \
            from None
    print(f"study {study_name!r} at http://{host}:{port}/dashboard/ (Ctrl-C stops)", flush=True)
    run_server(storage, host=host, port=port)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "report")


if __name__ == "__main__":
    cli()
