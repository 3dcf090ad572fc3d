"""The accuracy yardstick: a ground truth of networks trained at a long budget, and the rank
agreement of any accuracy signal with it (Kendall tau, Spearman, top-k overlap)."""

from nas.yardstick.metrics import RankScores, kendall_tau, rank_scores, spearman, top_k_overlap
from nas.yardstick.selection import Candidate, select_networks
from nas.yardstick.table import GroundTruth, GroundTruthError, load_ground_truth, seed_ceiling

__all__ = [
    "Candidate",
    "GroundTruth",
    "GroundTruthError",
    "RankScores",
    "kendall_tau",
    "load_ground_truth",
    "rank_scores",
    "seed_ceiling",
    "select_networks",
    "spearman",
    "top_k_overlap",
]
