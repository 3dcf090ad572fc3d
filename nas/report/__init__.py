"""Search results: trials table, Pareto fronts, hypervolume, plots, summary."""

from nas.report.hypervolume import hypervolume_2d, hypervolume_history
from nas.report.pareto import non_dominated, pareto_front
from nas.report.table import evaluated, trials_frame
from nas.report.write import write_report

__all__ = [
    "evaluated",
    "hypervolume_2d",
    "hypervolume_history",
    "non_dominated",
    "pareto_front",
    "trials_frame",
    "write_report",
]
