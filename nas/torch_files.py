"""Torch files of this project (checkpoints, supernets, predictors): written in one step, read
back with a clear error.

A write goes to a temporary file beside the target, then ``os.replace``: an interrupt leaves the
old file or the new one, never half of one. A read loads tensors only (``weights_only``, so a
crafted file cannot run code) and, for files that carry a format mark, refuses one without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from nas.errors import NasError


def cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """The module's state dict on the CPU, detached and contiguous: what a file should hold."""
    return {name: tensor.detach().cpu().contiguous()
            for name, tensor in module.state_dict().items()}


def save_atomically(path: str | Path, payload: dict) -> Path:
    """``torch.save(payload)`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)
    return path


def read_marked(path: str | Path, mark: str, kind: str, error: type[NasError],
                missing_hint: str) -> dict:
    """The payload of a ``kind`` file whose ``format`` is ``mark``; ``error`` (one line) when
    the file is missing (with ``missing_hint``: how to make one), unreadable, or unmarked."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{kind} file not found: {path} ({missing_hint})")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as failure:  # torch raises many kinds for a damaged or foreign file
        raise error(f"{path} is not a readable {kind} file "
                    f"({failure.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != mark:
        raise error(f"{path} is not a {kind} file (no {mark!r} format mark)")
    return payload
