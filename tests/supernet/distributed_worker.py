"""Run by tests/supernet/test_distributed.py under ``torchrun --nproc_per_node=2``: each process
prints one JSON line (its rank, the averaged gradients of a known case, and a checksum of the
supernet it trained a few steps), so the test can compare the processes."""

import json
import os
import select
import sys

import torch

from nas.evaluate import load_dataset, stratified_indices
from nas.evaluate.training import Recipe
from nas.supernet import Supernet
from nas.supernet.distributed import start_processes, stop_processes
from nas.supernet.training import Sandwich, train_supernet
from tests.supernet.conftest import TINY_SPACE


def main() -> None:
    from dataclasses import replace

    from nas.arch import SearchSpace

    torch.set_num_threads(1)
    processes, device = start_processes(torch.device("cpu"))
    # a known case: 5 images split 3 + 2, each process's gradient its rank + 1
    model = torch.nn.Linear(2, 1, bias=False)
    model.weight.grad = torch.full((1, 2), float(processes.rank + 1))
    images = len(processes.share(torch.zeros(5, 1), torch.zeros(5))[0])
    losses = processes.average(model, torch.tensor([10.0 * (processes.rank + 1)]), images, 5)

    data = load_dataset("fashion_mnist")
    data = replace(data, train=data.train.subset(stratified_indices(data.train.labels, 0.005, 0)))
    torch.manual_seed(processes.rank)  # different starts: broadcast_state must make them one
    net = Supernet(SearchSpace.from_config(TINY_SPACE), num_classes=10, resolution=16,
                   in_channels=1)
    processes.broadcast_state(net)
    recipe = Recipe(batch_size=32, lr=0.4, kd_alpha=1.0, kd_temperature=1.0,
                    channels_last=False, resolution=16)
    train_supernet(net, data, recipe=recipe, steps=3, seed=0, sandwich=Sandwich(random_subnets=1),
                   checkpoint_every=3, processes=processes)
    weights = [float(p.double().sum()) for p in net.parameters()]
    buffers = [float(b.double().sum()) for b in net.buffers() if b.is_floating_point()]
    line = json.dumps({"rank": processes.rank, "images": images,
                       "gradient": model.weight.grad.tolist(), "losses": losses.tolist(),
                       "weights": weights, "buffers": buffers}) + "\n"
    # One write call: both processes share the stdout pipe, and print's separate write of the
    # newline let the other process's line land between (CI saw two objects on one line). A
    # pipe write up to PIPE_BUF bytes is atomic.
    assert len(line.encode()) <= select.PIPE_BUF, len(line)
    os.write(sys.stdout.fileno(), line.encode())
    stop_processes(processes)


if __name__ == "__main__":
    main()
