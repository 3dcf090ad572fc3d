"""``python -m nas.supernet.pack src=FILE out=FILE``: a trained supernet made small enough to ship.

A training file holds the optimizer's state (as large as the weights) and float32 weights; a
file that is only to be scored needs neither. Packing drops the optimizer's state and stores the
floating-point tensors as float16 (a quarter of the training file); ``build_supernet`` loads them
back into the float32 supernet, so a packed file is read by everything that reads a supernet
(``evaluator=supernet``, ``nas.export``, ``nas.rank``) and refused where its source would be. The
metadata are kept whole (space, dataset, recipe, command, steps done), with ``packed`` added: the
source file's SHA-256 and the stored dtype. What float16 weights cost in ranking is measured, not
assumed (README "Supernet"): ``python -m nas.rank evaluator=supernet evaluator.path=PACKED``.

``dtype=float32`` of an unfinished training carries it elsewhere (another machine, a later
checkout where only committed files survive) at half the training file's size: ``python -m
nas.supernet`` given it as ``out=`` continues the training from those exact weights with the
SGD momentum restarted from zero, and records that step in ``meta["momentum_restarts"]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from omegaconf import DictConfig

from nas.cli import run
from nas.errors import NasError
from nas.io import file_sha256
from nas.supernet.store import FORMAT, build_supernet, read_supernet
from nas.torch_files import save_atomically

USAGE = "usage: python -m nas.supernet.pack src=FILE out=FILE [dtype=float16|float32] [--cfg]"
DTYPES = {"float16": torch.float16, "float32": torch.float32}


def pack_supernet(src: str | Path, out: str | Path, dtype: str = "float16") -> dict:
    """Write ``src``'s weights without optimizer state, floats as ``dtype``; the summary."""
    if dtype not in DTYPES:
        raise NasError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    src, out = Path(src), Path(out)
    if out.resolve() == src.resolve():
        raise NasError(f"out={out} is the source file: packing writes a new file")
    payload = read_supernet(src)
    build_supernet(payload, src)  # a damaged file is refused here, not when it is scored
    state = {name: tensor.to(DTYPES[dtype]) if tensor.is_floating_point() else tensor
             for name, tensor in payload["state_dict"].items()}
    meta = dict(payload["meta"], packed={"from_sha256": file_sha256(src), "dtype": dtype})
    save_atomically(out, {"format": FORMAT, "meta": meta, "state_dict": state, "optimizer": None})
    return {"src": str(src), "out": str(out), "dtype": dtype,
            "src_bytes": src.stat().st_size, "out_bytes": out.stat().st_size,
            "steps_done": meta.get("steps_done"), "steps": meta.get("steps")}


def main(cfg: DictConfig) -> None:
    summary = pack_supernet(cfg.src, cfg.out, cfg.dtype)
    print(json.dumps(summary), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "supernet_pack", usage=USAGE)


if __name__ == "__main__":
    cli()
