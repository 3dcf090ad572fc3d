"""Hardware-aware architecture search with Optuna: strategies, objectives, storage, surrogate."""

from nas.search.evaluators import make_search_evaluator
from nas.search.objectives import OBJECTIVE_SETS, OBJECTIVES, Constraints, mnasnet_reward
from nas.search.settings import SearchSettings
from nas.search.study import (
    SearchStopped,
    check_feasible,
    count_done,
    counts_as_done,
    enqueue_references,
    make_sampler,
    run_search,
    space_extreme,
)
from nas.search.surrogate import CandidateFailure, SurrogateEvaluator

__all__ = [
    "OBJECTIVES",
    "OBJECTIVE_SETS",
    "CandidateFailure",
    "Constraints",
    "SearchSettings",
    "SearchStopped",
    "SurrogateEvaluator",
    "check_feasible",
    "count_done",
    "counts_as_done",
    "enqueue_references",
    "make_sampler",
    "make_search_evaluator",
    "mnasnet_reward",
    "run_search",
    "space_extreme",
]
