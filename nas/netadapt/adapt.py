"""The NetAdapt loop (Yang et al. 2018), as modified for MobileNetV3 (Howard et al. 2019, 4.2).

From a trained seed network, each step:

1. makes one proposal per shrinkable width (``proposals``): each cuts the predicted latency by
   at least ``delta`` = ``delta_fraction`` x the seed's latency (the paper: 0.01);
2. builds each proposal, inherits weights (the ``Tuner`` says whence: the current network's
   truncated to its widths, ``truncate_weights``, when the proposals are trained on the proxy;
   the supernet's slices when a supernet scores them, ``nas.netadapt.supernet``), and fine-tunes
   it for ``steps_per_proposal`` (T) steps, every proposal of a step on the same batches;
3. keeps the proposal with the largest ``delta accuracy / |delta latency|`` (MobileNetV3's
   change: the original NetAdapt kept the most accurate proposal);

until the latency meets the target. The entry point then trains the result from scratch.
A tuner without weights (a zero-cost score) scores each proposal's architecture instead.

Every proposal of every finished step is a row of ``steps.csv`` in the run directory; the kept
network's weights are ``current.pt`` and ``state.json`` records the finished step. A killed run
started again continues after its last finished step.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from nas.arch import ArchSpec, decode
from nas.errors import NasError
from nas.netadapt.proposals import LatencyFn, Proposal, proposals, smallest

LOG_NAME = "steps.csv"
STATE_NAME = "state.json"
CHECKPOINT_NAME = "current.pt"
COLUMNS = [
    "step", "proposal", "kind", "layer", "old_width", "new_width", "latency_before_ms",
    "latency_ms", "accuracy_before", "accuracy_inherited", "accuracy_finetuned", "score",
    "kept", "arch",
]


class NetAdaptError(NasError):
    """A NetAdapt run that cannot start or cannot go on (a target out of reach, say)."""


class Tuner(Protocol):
    """How NetAdapt gets, fine-tunes and scores networks (``nas.netadapt.tuning``).

    ``source`` names where the weights come from ("proxy", "supernet:FILE", ...): a run
    directory is only continued by a tuner of the same source."""

    source: str

    def build(self, spec: ArchSpec) -> nn.Module:
        """``spec``'s network, for a checkpoint's weights to be loaded into (a rerun)."""

    def seed_network(self, spec: ArchSpec, settings: NetAdaptSettings) -> nn.Module:
        """The seed, ready to be scored: trained on the proxy, or inherited and fine-tuned."""

    def inherit(self, model: nn.Module, spec: ArchSpec) -> nn.Module:
        """A proposal's network before fine-tuning, from the current network ``model``."""

    def describe(self, settings: NetAdaptSettings) -> str:
        """One line on how the seed and the proposals get their weights."""

    def finetune(self, model: nn.Module, steps: int, seed: int) -> None: ...

    def accuracy(self, model: nn.Module) -> float: ...


@dataclass(frozen=True, kw_only=True)
class NetAdaptSettings:
    target_ms: float
    delta_fraction: float = 0.01
    steps_per_proposal: int = 50
    seed_steps: int = 200
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.target_ms > 0:
            raise NetAdaptError(f"target_ms must be positive, got {self.target_ms}")
        if not 0 < self.delta_fraction < 1:
            raise NetAdaptError(f"delta_fraction must be in (0, 1), got {self.delta_fraction}")
        if self.steps_per_proposal < 0 or self.seed_steps < 0:
            raise NetAdaptError("steps_per_proposal and seed_steps must be >= 0")
        if self.max_steps is not None and self.max_steps < 1:
            raise NetAdaptError(f"max_steps must be >= 1, got {self.max_steps}")


@dataclass(frozen=True)
class NetAdaptResult:
    spec: ArchSpec
    latency_ms: float
    accuracy: float
    steps: int
    reached: bool
    message: str


@dataclass
class _State:
    """What a rerun needs: the finished step, the current network and the fixed delta."""

    step: int
    arch: str
    latency_ms: float
    accuracy: float
    seed_arch: str
    seed_latency_ms: float
    delta_ms: float
    hardware: str
    source: str = "proxy"  # the tuner's: runs before this field were all proxy-trained

    def save(self, run_dir: Path) -> None:
        path = run_dir / STATE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=1))
        tmp.replace(path)  # the state file is the commit mark of a finished step

    @classmethod
    def load(cls, run_dir: Path) -> _State | None:
        path = run_dir / STATE_NAME
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as error:
            raise NetAdaptError(f"{path} is corrupt ({error}); remove the run directory "
                                "to start again") from None


def netadapt(seed_spec: ArchSpec, *, latency: LatencyFn, tuner: Tuner,
             settings: NetAdaptSettings, run_dir: Path, hardware: str = "",
             log: Callable[[str], None] = print) -> NetAdaptResult:
    """Shrink ``seed_spec`` until ``latency`` meets ``settings.target_ms``; see module doc."""
    run_dir = Path(run_dir)
    seed_latency = latency(seed_spec)
    state = _State.load(run_dir)
    if state is None and seed_latency <= settings.target_ms:
        message = (f"the seed already meets the target ({seed_latency:.2f} ms <= "
                   f"{settings.target_ms:g} ms): nothing to do")
        log(message)
        return NetAdaptResult(seed_spec, seed_latency, float("nan"), 0, True, message)
    floor = smallest(seed_spec, latency)
    if latency(floor) > settings.target_ms:
        raise NetAdaptError(
            f"target {settings.target_ms:g} ms is out of reach: shrinking every width of the "
            f"seed ({seed_latency:.2f} ms) to 8 channels still takes {latency(floor):.2f} ms")
    run_dir.mkdir(parents=True, exist_ok=True)
    if state is None:
        state, model = _start(seed_spec, seed_latency, latency, tuner, settings, run_dir,
                              hardware, log)
    else:
        model = _resume(state, seed_spec, hardware, tuner, run_dir, log)
    return _adapt(state, model, latency, tuner, settings, run_dir, log)


def _start(seed_spec, seed_latency, latency, tuner, settings, run_dir, hardware, log):
    """The seed network (NetAdapt starts from a trained network); step 0."""
    log(f"seed: {seed_latency:.2f} ms; {tuner.describe(settings)}")
    model = tuner.seed_network(seed_spec, settings)
    accuracy = tuner.accuracy(model)
    row = _row(0, 0, "seed", "-", 0, 0, seed_latency, seed_latency, float("nan"), float("nan"),
               accuracy, float("nan"), True, seed_spec)
    state = _State(0, str(seed_spec), seed_latency, accuracy, str(seed_spec), seed_latency,
                   settings.delta_fraction * seed_latency, hardware, tuner.source)
    _commit(run_dir, [row], model, state, first=True)
    log(f"step 0: seed accuracy {accuracy:.4f}")
    return state, model


def _resume(state, seed_spec, hardware, tuner, run_dir, log):
    if state.seed_arch != str(seed_spec) or state.hardware != hardware:
        raise NetAdaptError(f"{run_dir} holds a run from another seed or hardware "
                            f"({state.seed_arch} on {state.hardware!r}); give another run_dir")
    if state.source != tuner.source:
        raise NetAdaptError(f"{run_dir} holds a run whose proposals were scored by "
                            f"{state.source!r}, not {tuner.source!r}; give another run_dir")
    log_path = run_dir / LOG_NAME
    rows = pd.read_csv(log_path)
    rows[rows["step"] <= state.step].to_csv(log_path, index=False)  # drop an unfinished step
    model = tuner.build(decode(state.arch))
    model.load_state_dict(torch.load(run_dir / CHECKPOINT_NAME, weights_only=True))
    log(f"resuming after step {state.step}: {state.latency_ms:.2f} ms, "
        f"accuracy {state.accuracy:.4f}")
    return model


def _adapt(state, model, latency, tuner, settings, run_dir, log) -> NetAdaptResult:
    while state.latency_ms > settings.target_ms:
        # Steps since the seed, counting those of an earlier, resumed run.
        if settings.max_steps is not None and state.step >= settings.max_steps:
            message = f"stopped after max_steps={settings.max_steps} at {state.latency_ms:.2f} ms"
            log(message)
            return _result(state, False, message)
        spec = decode(state.arch)
        candidates = proposals(spec, latency, state.delta_ms)
        if not candidates:  # no single move cuts delta: stop with what was reached
            message = (f"no proposal cuts {state.delta_ms:.3f} ms from {state.latency_ms:.2f} "
                       f"ms: target {settings.target_ms:g} ms not reached (a smaller "
                       f"delta_fraction may go further); the last network is in {run_dir}")
            log(message)
            return _result(state, False, message)
        state, model = _step(state, model, candidates, tuner, settings, run_dir)
        log(f"step {state.step}: kept {_kept_description(run_dir, state.step)} -> "
            f"{state.latency_ms:.2f} ms, accuracy {state.accuracy:.4f}")
    message = f"target met: {state.latency_ms:.2f} ms <= {settings.target_ms:g} ms"
    log(message)
    return _result(state, True, message)


def _step(state, model, candidates: list[Proposal], tuner, settings, run_dir):
    """Fine-tune every proposal from the current weights; keep the best trade-off."""
    step = state.step + 1
    rows, best, best_key, best_index = [], None, (float("-inf"), 0.0), -1
    bar = tqdm(candidates, desc=f"step {step}", unit="proposal", leave=False,
               disable=not sys.stderr.isatty())
    for index, proposal in enumerate(bar):
        child = tuner.inherit(model, proposal.spec)
        inherited = tuner.accuracy(child)
        if settings.steps_per_proposal > 0:
            tuner.finetune(child, settings.steps_per_proposal, settings.seed + step)
            finetuned = tuner.accuracy(child)
        else:  # nothing changed the weights: scoring them again would only cost time
            finetuned = inherited
        # MobileNetV3's criterion: accuracy change per latency change (both measured here).
        score = (finetuned - state.accuracy) / (state.latency_ms - proposal.latency_ms)
        rows.append(_row(step, index, proposal.kind, proposal.layer, proposal.old_width,
                         proposal.new_width, state.latency_ms, proposal.latency_ms,
                         state.accuracy, inherited, finetuned, score, False, proposal.spec))
        # Ties (often: no accuracy change after a short fine-tune) go to the larger cut.
        key = (score, state.latency_ms - proposal.latency_ms)
        if key > best_key:
            best, best_key, best_index = (proposal, child, finetuned), key, index
    proposal, child, finetuned = best
    rows[best_index]["kept"] = True
    new_state = _State(step, str(proposal.spec), proposal.latency_ms, finetuned, state.seed_arch,
                       state.seed_latency_ms, state.delta_ms, state.hardware, state.source)
    _commit(run_dir, rows, child, new_state)
    return new_state, child


def _row(step, index, kind, layer, old, new, latency_before, latency_ms, accuracy_before,
         inherited, finetuned, score, kept, spec) -> dict:
    values = [step, index, kind, layer, old, new, round(latency_before, 4), round(latency_ms, 4),
              accuracy_before, inherited, finetuned, score, kept, str(spec)]
    return dict(zip(COLUMNS, values))


def _commit(run_dir: Path, rows, model, state: _State, first: bool = False) -> None:
    """Log rows, then the checkpoint, then the state: a crash in between loses only this step."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.to_csv(run_dir / LOG_NAME, mode="w" if first else "a", header=first, index=False)
    tmp = run_dir / (CHECKPOINT_NAME + ".tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(run_dir / CHECKPOINT_NAME)
    state.save(run_dir)


def _kept_description(run_dir: Path, step: int) -> str:
    rows = pd.read_csv(run_dir / LOG_NAME)
    kept = rows[(rows["step"] == step) & rows["kept"]].iloc[0]
    return f"{kept['kind']} {kept['layer']} {kept['old_width']}->{kept['new_width']}"


def _result(state: _State, reached: bool, message: str) -> NetAdaptResult:
    return NetAdaptResult(decode(state.arch), state.latency_ms, state.accuracy, state.step,
                          reached, message)


def load_log(run_dir: Path) -> pd.DataFrame:
    """The step log of a run directory."""
    return pd.read_csv(Path(run_dir) / LOG_NAME)
