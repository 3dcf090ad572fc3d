"""Proxy accuracy of MobileNetV3-Small with and without BN recalibration before validation.

Two short trainings (3% of Fashion-MNIST's training split, 2 epochs, the proxy recipe) that
differ only in ``bn_recalibration``; prints validation accuracy after each epoch. Accuracy only,
no timing.

    PYTHONPATH=. python benchmarks/bn_recalibration.py
"""

from dataclasses import replace

import torch

from nas.arch import resolve_arch
from nas.evaluate import Recipe, load_dataset, stratified_indices, train
from nas.model import build_model


def main() -> None:
    torch.set_num_threads(1)
    data = load_dataset("fashion_mnist")
    data = replace(data, train=data.train.subset(stratified_indices(data.train.labels, 0.03, 0)),
                   val=data.val.subset(stratified_indices(data.val.labels, 0.2, 0)))
    for images in (0, 1024):
        torch.manual_seed(0)
        model = build_model(resolve_arch("mobilenet_v3_small"), 10, resolution=28, in_channels=1)
        result = train(model, data, epochs=2, seed=0,
                       recipe=Recipe(batch_size=64, lr=0.2, bn_recalibration=images))
        accuracies = ", ".join(f"{100 * r.val_accuracy:.1f}%" for r in result.history)
        print(f"bn_recalibration={images:5d}: val accuracy after each epoch: {accuracies}")


if __name__ == "__main__":
    main()
