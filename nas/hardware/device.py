"""Which machine and libraries a table was measured with."""

from __future__ import annotations

import platform
from importlib import metadata as importlib_metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(backend: str) -> str:
    """The device a backend runs on: the GPU's name for cuda, else the CPU's model."""
    if backend == "cuda":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
        return "cuda (no GPU visible)"
    return cpu_model()


def versions() -> dict[str, str]:
    found = {}
    for package in ("torch", "onnxruntime", "onnx"):
        try:
            found[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            found[package] = "absent"
    found["python"] = platform.python_version()
    return found
