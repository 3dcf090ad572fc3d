"""What the supernet benchmarks share: an evaluator built from a composed config, exactly as
``nas.rank`` and ``nas.search`` build theirs, and the space it scores.

Imported as ``benchmarks.scorer`` (the benchmarks run with ``PYTHONPATH=.``).
"""

from __future__ import annotations

from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.search.evaluators import make_search_evaluator

# The MobileNetV3-Small experiment's last-stage choices: the space the shipped supernet was
# trained for (nas/supernet/data/README.md).
EXPERIMENT_HEAD = "space.head={conv:[576,1024],features:[0,1024],act:[relu,hswish]}"


def build_scorer(config: str, overrides: list[str]):
    """The evaluator (seed 0) and the space of ``python -m nas.<config> <overrides>``."""
    cfg = compose_config(config, overrides)
    evaluator = make_search_evaluator(OmegaConf.to_container(cfg.data),
                                      OmegaConf.to_container(cfg.evaluator), seed=0)
    return evaluator, SearchSpace.from_config(OmegaConf.to_container(cfg.space))
