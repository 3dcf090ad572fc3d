"""MACs, parameters and elementwise work of architectures (fvcore, cached per part)."""

from nas.cost.counter import Cost, LayerCost, arch_cost, layer_costs

__all__ = ["Cost", "LayerCost", "arch_cost", "layer_costs"]
