"""Reproductions of published searches: ``python -m nas.experiment experiment=<name>``."""

from nas.experiment.pipeline import best_by_reward, main, resolve_network, summarise, verdicts

__all__ = ["best_by_reward", "main", "resolve_network", "summarise", "verdicts"]
