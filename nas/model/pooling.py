"""Global average pooling for scoring: ``avg_pool2d`` over the whole map.

``nn.AdaptiveAvgPool2d(1)`` (the squeeze of SE and the pool before the classifier) and
``avg_pool2d`` with the map as its kernel compute the same mean, but not at the same speed on a
CPU. Measured here (one thread, channels-last, 500 images; ``benchmarks/pooling_seconds.py``):
in bf16 the kernel pool is 4-10x faster forward (0.5-1.1 ms against 4-6 ms a batch), the same
values bit for bit; in float32 up to 2.6x faster forward, within 4e-7; but its backward is
1.5-2.4x slower. The global pools took ~9% of an ``evaluator=supernet`` validation pass in bf16.

So the kernel pool is swapped in only where networks are scored (``use_scoring_pools``), and
even there a tensor that needs a gradient (fine-tuning) takes the adaptive pool. Built networks
keep ``nn.AdaptiveAvgPool2d``: training, cost counting (fvcore) and ONNX export
(GlobalAveragePool) see the ordinary module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ScoringAvgPool(nn.Module):
    """The mean over height and width, (N, C, H, W) -> (N, C, 1, 1), fastest way per case."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:  # training: the adaptive pool's backward is the fast one
            return F.adaptive_avg_pool2d(x, 1)
        if x.shape[-2:] == (1, 1):  # nothing to average (the kernel pool is 10x slower here)
            return x
        return F.avg_pool2d(x, kernel_size=x.shape[-2:])


def _is_global(module: nn.Module) -> bool:
    size = getattr(module, "output_size", None)
    return isinstance(module, nn.AdaptiveAvgPool2d) and size in (1, (1, 1))


def use_scoring_pools(model: nn.Module) -> nn.Module:
    """Replace, in place, every global ``nn.AdaptiveAvgPool2d`` of ``model`` by a
    ``ScoringAvgPool`` (no parameters, no state: the state dict is unchanged). Returns ``model``."""
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if _is_global(child):
                setattr(parent, name, ScoringAvgPool())
    return model
