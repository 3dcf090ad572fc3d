"""Reproductions of published searches: ``python -m nas.experiment experiment=<name>``."""

from nas.experiment.checks import preflight, resolve_network
from nas.experiment.compare import Verdict, summarise, verdicts
from nas.experiment.pipeline import best_by_reward, main
from nas.experiment.stats import difference_interval, mean_interval, t_quantile

__all__ = ["Verdict", "best_by_reward", "difference_interval", "main", "mean_interval",
           "preflight", "resolve_network", "summarise", "t_quantile", "verdicts"]
