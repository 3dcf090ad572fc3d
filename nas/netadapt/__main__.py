"""``python -m nas.netadapt arch=<seed> target_ms=<ms> [hardware=pixel] [steps_per_proposal=T]
[evaluator=proxy|supernet|zero_cost] [run_dir=DIR]``: shrink a network with NetAdapt until it
meets a latency target, then (with the proxy) train the result from scratch. With
``evaluator=supernet evaluator.path=FILE`` the seed and every proposal take the supernet's
weights (``nas.netadapt.supernet``). Rerunning the same command continues after the last
finished step."""

from __future__ import annotations

import json
import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, ArchSpec, resolve_arch
from nas.cli import run
from nas.cost import arch_cost
from nas.errors import NasError
from nas.netadapt.adapt import NetAdaptResult, NetAdaptSettings, netadapt

FINAL_NAME = "final.json"


def settings_from(cfg: DictConfig) -> NetAdaptSettings:
    # typed by nas.schema.NetAdaptVerb / NetAdaptStage
    return NetAdaptSettings(target_ms=cfg.target_ms, delta_fraction=cfg.delta_fraction,
                            steps_per_proposal=cfg.steps_per_proposal, seed_steps=cfg.seed_steps,
                            max_steps=cfg.max_steps, seed=cfg.seed)


def make_tuner(cfg: DictConfig, seed_spec: ArchSpec):
    """The tuner of ``cfg.evaluator`` (proxy, supernet or a weight-free score)."""
    from nas.netadapt.tuning import make_tuner as tuner_for

    return tuner_for(data_cfg=OmegaConf.to_container(cfg.data),
                     evaluator_cfg=OmegaConf.to_container(cfg.evaluator), seed_spec=seed_spec,
                     finetune_lr=cfg.finetune_lr,
                     finetune_batch_size=cfg.get("finetune_batch_size"),
                     train_images=cfg.train_images, val_images=cfg.val_images, seed=cfg.seed,
                     device=str(cfg.get("device") or "cpu"))


def final_training(cfg: DictConfig) -> bool:
    """Whether to train the result from scratch: null means "when the evaluator trains"."""
    from nas.search.evaluators import evaluator_kind

    kind = evaluator_kind(OmegaConf.to_container(cfg.evaluator))
    if cfg.final_train is None:
        return kind == "proxy"
    if cfg.final_train and kind != "proxy":
        raise NasError(f"final_train=true trains the result with the proxy evaluator's recipe; "
                       f"evaluator={kind} has none: give final_train=false (then train the "
                       "result with python -m nas.train arch=...)")
    return bool(cfg.final_train)


def default_run_dir(arch: str, hardware: str) -> Path:
    name = arch if arch in PRESETS else re.sub(r"\W+", "_", Path(arch).stem)[:40]
    return Path("results") / f"netadapt-{name}-{hardware}"


def train_final(cfg: DictConfig, spec: ArchSpec, seed: int) -> dict:
    """Train ``spec`` from scratch with the evaluator's recipe (the last step of NetAdapt)."""
    from nas.evaluate import make_evaluator

    evaluator = make_evaluator(OmegaConf.to_container(cfg.data),
                               OmegaConf.to_container(cfg.evaluator), seed)
    result = evaluator.evaluate(spec)
    return {"val_accuracy": result.val_accuracy, "train_seconds": result.train_seconds,
            "epochs": result.epochs}


def summary(result: NetAdaptResult, hardware, seed_spec: ArchSpec) -> dict:
    cost = arch_cost(result.spec)
    return {
        "arch": str(result.spec),
        "seed_arch": str(seed_spec),
        "hardware": hardware.name,
        "seed_latency_ms": hardware.predict_ms(seed_spec),
        "latency_ms": result.latency_ms,
        "macs": cost.macs,
        "params": cost.params,
        "steps": result.steps,
        "reached": result.reached,
        "finetuned_val_accuracy": result.accuracy,
        "message": result.message,
    }


def set_threads(threads) -> None:
    import torch

    if threads is not None:
        torch.set_num_threads(threads)


def main(cfg: DictConfig) -> dict:
    from nas.hardware import load_hardware

    set_threads(cfg.get("threads"))
    seed_spec = resolve_arch(str(cfg.arch))
    settings = settings_from(cfg)
    train_result = final_training(cfg)
    hardware = load_hardware(OmegaConf.to_container(cfg.hardware))
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(str(cfg.arch), hardware.name)
    result = netadapt(seed_spec, latency=hardware.predict_ms, tuner=make_tuner(cfg, seed_spec),
                      settings=settings, run_dir=run_dir, hardware=hardware.name)
    if result.steps == 0:
        return {"message": result.message}
    report = summary(result, hardware, seed_spec)
    final_path = run_dir / FINAL_NAME
    if result.reached and train_result:
        previous = json.loads(final_path.read_text()) if final_path.exists() else {}
        if previous.get("arch") == report["arch"] and "final" in previous:
            report["final"] = previous["final"]  # a rerun of a finished run trains nothing
        else:
            report["final"] = train_final(cfg, result.spec, settings.seed)
    final_path.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return report


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "netadapt", usage=__doc__)


if __name__ == "__main__":
    cli()
