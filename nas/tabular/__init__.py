"""Tabular benchmarks: NAS-Bench-Macro's fully trained accuracies, shipped with the package."""

from nas.tabular.evaluator import (
    TabularError,
    TabularEvaluator,
    all_specs,
    check_space,
    front_of,
    true_fronts,
    true_points,
)
from nas.tabular.macro import SPACE_NAME, canonical_key, key_to_spec, networks, records

__all__ = [
    "SPACE_NAME",
    "TabularError",
    "TabularEvaluator",
    "all_specs",
    "canonical_key",
    "check_space",
    "front_of",
    "key_to_spec",
    "networks",
    "records",
    "true_fronts",
    "true_points",
]
