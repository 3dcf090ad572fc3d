"""Weight inheritance for NetAdapt: a shrunk network starts from its parent's weights.

NetAdapt (Yang et al. 2018, Sec. 3.2) fine-tunes each proposal from the previous step's trained
network rather than from scratch. Layers are matched by their fixed submodule names
(``blocks.3.expand.conv``, ``blocks.3.se.reduce``, see ``nas/model/blocks.py``); every tensor of
the new network takes the *leading* slice of its counterpart along each dimension (output
filters, input channels, BN statistics, SE and linear weights). The original NetAdapt keeps the
filters of largest L2 norm instead; leading filters keep a residual chain's channels aligned
across its blocks without bookkeeping, which is what MobileNetV3's NetAdapt needs.
"""

from __future__ import annotations

import torch
from torch import nn


def truncate_weights(model: nn.Module, new_model: nn.Module) -> nn.Module:
    """Copy the leading channels of every tensor of ``model`` into ``new_model`` (in place).

    ``new_model`` must have the same submodule names and no dimension larger than ``model``'s;
    raises ValueError otherwise. Returns ``new_model``.
    """
    old_state = model.state_dict()
    new_state = new_model.state_dict()
    missing = sorted(set(new_state) - set(old_state))
    if missing:
        raise ValueError(f"the new network has layers the old one lacks: {missing[:3]}")
    with torch.no_grad():
        for name, target in new_state.items():
            source = old_state[name]
            if source.dim() != target.dim() or any(
                new > old for new, old in zip(target.shape, source.shape)
            ):
                raise ValueError(f"{name}: cannot truncate {tuple(source.shape)} "
                                 f"to {tuple(target.shape)}")
            target.copy_(source[tuple(slice(0, n) for n in target.shape)])
    return new_model
