"""NetAdapt (Yang et al. 2018) as used to finish MobileNetV3 (Howard et al. 2019, Sec. 4.2).

It lives in its own package, not in ``nas.search``: it is not an Optuna study but a greedy loop
over a trained network's weights, with its own entry point (``python -m nas.netadapt``), run
directory and resume logic; the search only hands it a seed architecture.
"""

from nas.netadapt.adapt import (
    NetAdaptError,
    NetAdaptResult,
    NetAdaptSettings,
    Tuner,
    load_log,
    netadapt,
)
from nas.netadapt.inherit import truncate_weights
from nas.netadapt.proposals import (
    Chain,
    Proposal,
    chains,
    proposals,
    smallest,
    with_chain_width,
    with_expansion,
)

__all__ = [
    "Chain",
    "NetAdaptError",
    "NetAdaptResult",
    "NetAdaptSettings",
    "Proposal",
    "Tuner",
    "chains",
    "load_log",
    "netadapt",
    "proposals",
    "smallest",
    "truncate_weights",
    "with_chain_width",
    "with_expansion",
]
