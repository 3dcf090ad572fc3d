"""``python -m nas.export arch=... supernet=FILE out=DIR``: a subnet with the weights it
inherits from a trained supernet, as a ``nas.train`` checkpoint and as ONNX.

The network is what ``evaluator=supernet`` scores (``nas.supernet.evaluator``): extracted with
``Supernet.subnet``, its BN statistics recalibrated on ``bn_images`` fixed training images. It is
written as ``DIR/model.pt`` (``nas.evaluate.save_checkpoint``: ``load_checkpoint`` rebuilds it,
``python -m nas.train init=DIR/model.pt`` fine-tunes it) and ``DIR/model.onnx`` (opset 17,
dynamic batch, input ``x``: images normalised as the dataset's mean and std say, at the
supernet's resolution; the ONNX metadata records both). The ONNX model is run with ONNX Runtime
on real validation images and checked against torch's logits before the command succeeds. The
summary JSON (validation accuracy, the largest logit difference) is the last line printed.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from nas.arch import resolve_arch
from nas.cli import run
from nas.evaluate import accuracy, save_checkpoint
from nas.evaluate.training import prepare
from nas.io import atomic_write, file_sha256
from nas.supernet.evaluator import make_supernet_evaluator

USAGE = """usage: python -m nas.export arch=<string, JSON file or preset> supernet=FILE out=DIR
       [data=fashion_mnist] [bn_images=1000] [val_size=2000] [seed=0] [--cfg]"""
CHECK_IMAGES = 64  # validation images ONNX Runtime's logits are compared on
TOLERANCE = 1e-3  # largest logit difference allowed (float32 kernels differ by ~1e-5)


def export_onnx(model: torch.nn.Module, path: Path, *, channels: int, resolution: int,
                metadata: dict, opset: int = 17) -> None:
    """``model`` (eval mode, CPU) as ONNX with a dynamic batch, written atomically."""
    import onnx

    dummy = torch.zeros(1, channels, resolution, resolution)
    temporary = path.with_name(path.name + ".tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        torch.onnx.export(model, (dummy,), str(temporary), dynamo=False, opset_version=opset,
                          input_names=["x"], output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(temporary))
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.save(proto, str(temporary))
    temporary.replace(path)


def onnx_difference(path: Path, model: torch.nn.Module, images: torch.Tensor) -> float:
    """Largest absolute difference between ONNX Runtime's and torch's logits on ``images``."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"x": images.numpy()})
    with torch.inference_mode():
        expected = model(images).numpy()
    return float(np.max(np.abs(logits - expected)))


def main(cfg: DictConfig) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    spec = resolve_arch(str(cfg.arch))
    data_cfg = OmegaConf.to_container(cfg.data)
    evaluator = make_supernet_evaluator(data_cfg, {
        "path": str(cfg.supernet), "bn_images": cfg.bn_images, "val_size": cfg.val_size,
        "device": "cpu", "precision": "float32"}, cfg.seed)  # BN statistics a checkpoint keeps
    model = evaluator.subnet(spec).to(memory_format=torch.contiguous_format)  # NotInSpaceError
    net, data = evaluator.supernet, evaluator.data
    val_accuracy = accuracy(model, data.val)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m nas.export " + " ".join(a for a in sys.argv[1:] if a != "--cfg")
    source = {"supernet": str(cfg.supernet), "supernet_sha256": file_sha256(cfg.supernet),
              "bn_images": cfg.bn_images, "seed": cfg.seed, "command": command}
    checkpoint = save_checkpoint(
        out / "model.pt", model, arch=str(spec), num_classes=net.num_classes,
        resolution=net.resolution, in_channels=net.in_channels, dataset=data.name,
        val_accuracy=val_accuracy, seed=cfg.seed, exported_from=source)
    onnx_path = out / "model.onnx"
    export_onnx(model, onnx_path, channels=net.in_channels, resolution=net.resolution,
                opset=cfg.opset, metadata={
                    "arch": spec, "dataset": data.name, "num_classes": net.num_classes,
                    "resolution": net.resolution, "input": "x: N x C x H x W float32, "
                    "(pixel / 255 - mean) / std", "mean": list(data.val.mean),
                    "std": list(data.val.std), **source})
    images = prepare(data.val, data.val.images[:CHECK_IMAGES], net.resolution,
                     channels_last=False)
    difference = onnx_difference(onnx_path, model, images)
    if not difference <= TOLERANCE:
        raise RuntimeError(f"{onnx_path}: ONNX Runtime's logits differ from torch's by "
                           f"{difference:.3g} (> {TOLERANCE}): an export bug, please report it")
    summary = {"arch": str(spec), "checkpoint": str(checkpoint), "onnx": str(onnx_path),
               "dataset": data.name, "val_accuracy": val_accuracy,
               "val_images": len(data.val), "onnx_max_logit_difference": difference,
               "supernet": str(cfg.supernet), "bn_images": cfg.bn_images}
    atomic_write(out / "export.json", json.dumps(summary | {"command": command}, indent=2) + "\n")
    print(json.dumps(summary), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "export", usage=USAGE)


if __name__ == "__main__":
    cli()
