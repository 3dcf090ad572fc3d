"""What a search optimises: objective sets, the MnasNet reward, hard constraints.

The MnasNet reward (Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search for
Mobile", Eq. 2) folds latency into one number: ``ACC x (LAT / TARGET)^w`` with ``w = alpha`` when
``LAT <= TARGET`` and ``w = beta`` otherwise. The paper's soft constraint uses
``alpha = beta = -0.07`` (a network twice as slow must be ~5% more accurate to score the same);
MobileNetV3 (Howard et al. 2019) reuses it, with ``w = -0.15`` for its small models.

Hard constraints (max latency, MACs, params) reach Optuna's samplers (NSGA-II, TPE) through
``Trial.set_constraint``, Optuna 5's successor of ``constraints_func``. Each value is
``value / limit - 1``: ``<= 0`` is feasible, and violations of different units are comparable
when the sampler sums them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nas.errors import NasError

# Objective name -> (trial user attr holding the value, direction, scale to the stored value).
# MACs are stored as objective values in millions so the dashboard reads naturally.
OBJECTIVES: dict[str, tuple[str, str, float]] = {
    "accuracy": ("accuracy", "maximize", 1.0),
    "macs": ("macs", "minimize", 1e-6),
    "latency": ("latency_ms", "minimize", 1.0),
}

# The objective sets a config may name (search.objectives=...).
OBJECTIVE_SETS: dict[str, tuple[str, ...]] = {
    "macs": ("accuracy", "macs"),
    "latency": ("accuracy", "latency"),
    "all": ("accuracy", "macs", "latency"),
}


def objective_set(name: str) -> tuple[str, ...]:
    if name not in OBJECTIVE_SETS:
        raise NasError(f"search.objectives must be one of {tuple(OBJECTIVE_SETS)}, got {name!r}")
    return OBJECTIVE_SETS[name]


def mnasnet_reward(accuracy: float, latency_ms: float, *, target_ms: float, w: float = -0.07,
                   w_above_target: float | None = None) -> float:
    """MnasNet's ``ACC x (LAT/TARGET)^w``; ``w_above_target`` (beta) defaults to ``w`` (alpha)."""
    if target_ms <= 0 or latency_ms <= 0:
        raise NasError(f"latency and target must be positive, got {latency_ms}, {target_ms}")
    exponent = w if (w_above_target is None or latency_ms <= target_ms) else w_above_target
    return accuracy * (latency_ms / target_ms) ** exponent


@dataclass(frozen=True)
class Constraints:
    """Hard limits; None means no limit."""

    max_latency_ms: float | None = None
    max_macs: float | None = None
    max_params: float | None = None

    def __post_init__(self) -> None:
        for name, limit in self.limits().items():
            if not (limit > 0 and math.isfinite(limit)):
                raise NasError(f"search.constraints.{name} must be a positive number, got {limit}")

    def limits(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in ("max_latency_ms", "max_macs", "max_params")
                if getattr(self, name) is not None}

    @property
    def active(self) -> bool:
        return bool(self.limits())

    def violations(self, *, latency_ms: float | None, macs: float, params: float) -> list[float]:
        """One value per limit, ``value / limit - 1``: <= 0 means the limit is met."""
        values = {"max_latency_ms": latency_ms, "max_macs": macs, "max_params": params}
        out = []
        for name, limit in self.limits().items():
            if values[name] is None:
                raise NasError(f"search.constraints.{name} needs a hardware profile (hardware=...)")
            out.append(values[name] / limit - 1.0)
        return out

    def describe_violation(self, *, latency_ms, macs, params) -> str:
        """Human text for the limits a candidate breaks ('' when it meets all)."""
        values = {"max_latency_ms": latency_ms, "max_macs": macs, "max_params": params}
        units = {"max_latency_ms": (1.0, " ms"), "max_macs": (1e-6, "M MACs"),
                 "max_params": (1e-6, "M params")}
        broken = []
        for name, limit in self.limits().items():
            if values[name] is not None and values[name] > limit:
                scale, unit = units[name]
                broken.append(f"{values[name] * scale:.2f}{unit} > {limit * scale:.2f}{unit}")
        return "; ".join(broken)
