"""``python -m nas.supernet.settle [evaluator.path=SUPERNET] [references=150] [held_out=50]``:
mark the validation images every reference subnet classifies correctly (``settled.py``).

Draws ``references + held_out`` distinct subnets of the space from ``seed``, scores each on
the whole validation split as ``evaluator=supernet`` does (BN recalibrated, folded, the
evaluator's precision), keeping each one's per-image right/wrong (saved as they come to
``<out>.partial.pt``: the same command continues), settles the images all references got right,
reports on the held-out subnets what the shortcut overstates their accuracy by and how its
scores rank like the whole split's, and writes ``out`` (by default beside the supernet, where
``evaluator.settled=auto`` reads it). The summary JSON is the last line printed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace
from nas.cli import run
from nas.errors import NasError
from nas.io import file_sha256
from nas.predictor.build import sample_architectures
from nas.search.evaluators import check_evaluator_space, evaluator_kind, make_search_evaluator
from nas.supernet import settled
from nas.supernet.store import versions
from nas.torch_files import save_atomically

USAGE = """usage: python -m nas.supernet.settle [evaluator.path=SUPERNET] [space=mobilenet_v3_small]
       [data=fashion_mnist] [references=150] [held_out=50] [seed=1] [out=FILE] [--cfg]
Running the same command again continues the scoring from where it stopped."""
# The seed BN images are drawn by unless evaluator.seed names one: a search's evaluator takes
# the run's seed, 0 by default (conf/config.yaml)
BN_SEED = 0


def score_rows(evaluator, specs, partial: Path, plan: dict) -> torch.Tensor:
    """Per-image correctness of every spec (rows), continuing the partial file of this plan."""
    rows: list[torch.Tensor] = []
    if partial.is_file():
        saved = torch.load(partial, weights_only=True)
        if saved.get("plan") != plan:
            raise NasError(f"{partial} holds results of another settle command (other "
                           f"supernet, split, space or seed): delete it or give another out=")
        rows = list(saved["rows"])
        print(f"continuing {partial}: {len(rows)} of {len(specs)} subnets scored",
              file=sys.stderr)
    started, done_before = time.perf_counter(), len(rows)
    for number in range(len(rows), len(specs)):
        rows.append(evaluator.correct_images(specs[number]))
        save_atomically(partial, {"plan": plan, "rows": torch.stack(rows)})  # ~10 ms
        scored = number + 1 - done_before
        if scored % 5 == 0 or number + 1 == len(specs):
            elapsed = time.perf_counter() - started
            left = elapsed / scored * (len(specs) - number - 1)
            print(f"scored {number + 1}/{len(specs)} subnets ({elapsed:.0f}s, ~{left:.0f}s "
                  f"left); saved {partial}", file=sys.stderr, flush=True)
    return torch.stack(rows)


def main(cfg: DictConfig) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.references < 1 or cfg.held_out < 0:
        raise NasError(f"references must be >= 1 and held_out >= 0, got {cfg.references} "
                       f"and {cfg.held_out}")
    evaluator_cfg = {**OmegaConf.to_container(cfg.evaluator), "settled": "none"}
    if evaluator_kind(evaluator_cfg) != "supernet":
        raise NasError("settled images are a supernet's: give evaluator=supernet")
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    data_cfg = OmegaConf.to_container(cfg.data)
    specs = sample_architectures(space, cfg.references + cfg.held_out, cfg.seed)
    supernet = Path(str(evaluator_cfg["path"]))
    out = Path(cfg.out) if cfg.out else settled.beside(supernet)
    # BN images as a search scores (its evaluator's seed is the run's, 0 by default); the
    # subnets drawn by ``seed``
    evaluator = make_search_evaluator(data_cfg, evaluator_cfg, BN_SEED)
    check_evaluator_space(evaluator, space)
    split = {**settled.split_settings(data_cfg, evaluator_cfg),
             "images": len(evaluator.data.val),
             "fingerprint": settled.split_fingerprint(evaluator.data.val)}
    plan = {"supernet_sha256": file_sha256(supernet), "split": split,
            "space_config": OmegaConf.to_container(cfg.space),
            "subnets": [str(spec) for spec in specs], "bn_images": evaluator.bn_images,
            "bn_seed": evaluator.seed,
            "precision": str(evaluator.dtype).removeprefix("torch.")}
    started, partial = time.perf_counter(), out.with_name(out.name + ".partial.pt")
    rows = score_rows(evaluator, specs, partial, plan)
    mask = settled.settle(rows[:cfg.references])
    report = settled.held_out_report(mask, rows[cfg.references:])
    if cfg.held_out:
        report["by_references"] = settled.by_references(rows[:cfg.references],
                                                        rows[cfg.references:])
    meta = {"supernet": supernet.name,
            **{key: plan[key] for key in ("supernet_sha256", "split")},
            "space": space.name, "references": cfg.references, "seed": cfg.seed,
            **{key: plan[key] for key in ("bn_images", "bn_seed", "precision")},
            "check": report,
            "command": "python -m nas.supernet.settle " + " ".join(
                a for a in sys.argv[1:] if a != "--cfg"),
            "versions": versions()}
    settled.write_settled(out, mask, meta)
    partial.unlink(missing_ok=True)
    print(json.dumps({"out": str(out), "images": len(mask), "settled": int(mask.sum()),
                      "settled_share": round(float(mask.float().mean()), 4),
                      "references": cfg.references, "seconds": round(time.perf_counter()
                                                                      - started, 1),
                      **report}), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "settle", usage=USAGE)


if __name__ == "__main__":
    cli()
