"""Typed settings of a search (what ``conf/search/*.yaml`` holds, checked)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nas.errors import NasError
from nas.search.objectives import Constraints, objective_set

STRATEGIES = ("nsga2", "tpe", "random", "mnasnet")
PRUNERS = ("none", "median")


@dataclass(frozen=True, kw_only=True)
class SearchSettings:
    """``n_trials`` is the total wanted in the study (references included), not more per run."""

    strategy: str = "nsga2"
    n_trials: int = 24
    objectives: str = "latency"
    constraints: Constraints = field(default_factory=Constraints)
    max_failure_rate: float = 0.5
    min_trials_for_failure_rate: int = 4
    population_size: int = 8
    n_startup_trials: int = 8
    target_ms: float = 15.8
    w: float = -0.07
    w_above_target: float | None = None
    pruner: str = "none"
    inactive_genes: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise NasError(f"search.strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.n_trials < 1:
            raise NasError(f"search.n_trials must be >= 1, got {self.n_trials}")
        objective_set(self.objectives)
        if not 0 <= self.max_failure_rate <= 1:
            raise NasError(f"search.max_failure_rate must be in [0, 1], got "
                           f"{self.max_failure_rate}")
        if self.population_size < 2:
            raise NasError(f"search.population_size must be >= 2, got {self.population_size}")
        if self.n_startup_trials < 0 or self.min_trials_for_failure_rate < 1:
            raise NasError("search.n_startup_trials must be >= 0, "
                           "min_trials_for_failure_rate >= 1")
        if self.target_ms <= 0:
            raise NasError(f"search.target_ms must be positive, got {self.target_ms}")
        if not isinstance(self.inactive_genes, bool):
            raise NasError(f"search.inactive_genes must be true or false, got "
                           f"{self.inactive_genes!r}")
        if self.pruner not in PRUNERS:
            raise NasError(f"search.pruner must be one of {PRUNERS}, got {self.pruner!r}")

    @property
    def single_objective(self) -> bool:
        return self.strategy == "mnasnet"

    @property
    def objective_names(self) -> tuple[str, ...]:
        """Names of the values Optuna optimises, in order."""
        return ("reward",) if self.single_objective else objective_set(self.objectives)

    @property
    def needs_latency(self) -> bool:
        return (self.single_objective or "latency" in self.objective_names
                or self.constraints.max_latency_ms is not None)
