"""Shared pieces of the search tests: the real V3-Small space, the surrogate, a runner."""

from pathlib import Path

import optuna
import pytest

from nas.arch import SearchSpace
from nas.cli import load_space
from nas.search import SearchSettings, SurrogateEvaluator, run_search

ROOT = Path(__file__).resolve().parents[2]

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(scope="session")
def space() -> SearchSpace:
    return load_space("mobilenet_v3_small")


@pytest.fixture
def search(space, tmp_path):
    """run_search on the surrogate in a fresh run dir; keyword arguments go to SearchSettings."""

    def run(evaluator=None, run_dir=None, hardware=None, **settings):
        settings.setdefault("objectives", "macs")
        return run_search(space=space, settings=SearchSettings(**settings),
                          evaluator=evaluator or SurrogateEvaluator(), hardware=hardware,
                          run_dir=run_dir or tmp_path / "run", show_progress=False)

    return run
