"""A weight-sharing supernet over a block-wise search space (Once-for-All, Cai et al. 2020;
BigNAS, Yu et al. 2020): elastic blocks, subnet extraction, sandwich training, the evaluator."""

from nas.supernet.network import Supernet, UnsupportedSpaceError

__all__ = ["Supernet", "UnsupportedSpaceError"]
