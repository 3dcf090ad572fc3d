"""A tiny block-wise space whose supernet trains in seconds, for NetAdapt and experiment tests.

Unlike tests/supernet's space, every network of this one is deep enough (fixed depth, SE and
h-swish where it matters) that a NetAdapt target above the floor of its largest network is
below the latency of its smallest: NetAdapt always has work, whatever a search finds.
"""

from pathlib import Path

import yaml

from nas.cli import compose_config

FIXED_SPACE = {
    "name": "tiny_fixed",
    "resolution": 224,
    "stem": {"width": [8, 16], "act": ["hswish"]},
    "stages": [
        {"stride": 2, "depth": [2], "width": [16, 24], "kernel": [3, 5], "expand": [2, 3],
         "se": [False, True], "act": ["hswish"]},
        {"stride": 2, "depth": [2], "width": [32, 40], "kernel": [3, 5], "expand": [2, 4],
         "se": [True], "act": ["hswish"]},
    ],
    "head": {"conv": [64], "features": [0], "act": ["hswish"]},
}
# Overrides that make an experiment's space exactly FIXED_SPACE (an experiment sets its head).
EXPERIMENT_SPACE = ["space=tiny_fixed", "space.head={conv:[64],features:[0],act:[hswish]}",
                    "space.references=[]"]
# A few seconds of training: enough for the file's plumbing, not for its accuracy.
FAST = ["steps=4", "checkpoint_every=2", "train_images=200", "recipe.batch_size=32",
        "recipe.resolution=16", "random_subnets=1", "score_bn_images=64",
        "score_val_images=200", "threads=1"]


def space_searchpath(root: Path) -> str:
    """A user config folder holding the space (README: hydra.searchpath); the override."""
    (root / "space").mkdir(parents=True, exist_ok=True)
    (root / "space" / "tiny_fixed.yaml").write_text(yaml.safe_dump(
        {"defaults": ["/schema/space/blockwise@_here_", "_self_"]} | FIXED_SPACE))
    return f"hydra.searchpath=[file://{root}]"


def train_supernet(root: Path, out: Path, *, val_size: int) -> Path:
    """Train the space's supernet in this process (a few steps) into ``out``."""
    from nas.supernet.__main__ import main

    cfg = compose_config("supernet", [space_searchpath(root), "space=tiny_fixed", *FAST,
                                      f"data.val_size={val_size}", f"out={out}"])
    main(cfg)
    return out
