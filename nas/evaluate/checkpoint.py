"""Checkpoints that rebuild their network: weights plus arch string, classes, resolution."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from nas.arch import resolve_arch
from nas.errors import NasError
from nas.model import build_model
from nas.torch_files import cpu_state, save_atomically


def save_checkpoint(path: str | Path, model: nn.Module, *, arch: str, num_classes: int,
                    resolution: int, in_channels: int, **extra) -> Path:
    """Write atomically (temp file, then rename), so an interrupt never leaves half a file."""
    return save_atomically(path, {"state_dict": cpu_state(model), "arch": arch,
                                  "num_classes": num_classes, "resolution": resolution,
                                  "in_channels": in_channels, **extra})


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, dict]:
    """The network saved at ``path`` (eval mode, on ``device``) and the checkpoint's metadata."""
    path = Path(path)
    if not path.is_file():
        raise NasError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        spec = resolve_arch(payload["arch"])
        model = build_model(spec, payload["num_classes"], resolution=payload["resolution"],
                            in_channels=payload.get("in_channels", 3))
        model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError, EOFError, OSError) as error:
        raise NasError(f"{path} is not a nas.train checkpoint ({error.__class__.__name__}: "
                       f"{str(error).splitlines()[0] if str(error) else ''})") from None
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    return model.to(device).eval(), meta
