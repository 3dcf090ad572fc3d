"""Several processes training one supernet (``torchrun --nproc_per_node=N -m nas.supernet``).

Data parallel as DistributedDataParallel does it (Li et al. 2020, "PyTorch Distributed"): every
process holds the whole supernet, takes its share of each step's batch, and the gradients are
averaged across processes with one all-reduce before the optimizer step, so the weights stay
identical everywhere. The all-reduce is done here rather than by the ``DistributedDataParallel``
wrapper because a sandwich step runs several forward and backward passes through different
subnets (``training.py``), which DDP's reducer (one synchronised backward per forward, every
parameter used or declared unused) does not fit without ``no_sync`` tricks whose last pass
would miss the parameters only earlier subnets used.

What each process does is fixed by the step and its rank alone: every process prepares the
whole batch (the single-process run's, from the same seeds) and keeps its contiguous share;
shares that differ by an image are weighted by their size, so the averaged gradient is the
whole batch's mean loss gradient except for batch norm, which normalises each share with its
own statistics (no SyncBatchNorm: the evaluator re-estimates BN statistics per subnet anyway).
Running BN statistics are averaged across processes at every checkpoint, so the file holds
what all of them saw. Rank 0 writes the checkpoints and prints; the stop decision (a time
budget) is rank 0's, broadcast, so all processes stop at the same step.

Backends: NCCL on CUDA (one GPU a process, ``cuda:LOCAL_RANK``), gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Processes:
    """This process's place among ``world`` training processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def several(self) -> bool:
        return self.world > 1

    def share(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's contiguous share of a batch (sizes differ by at most one image)."""
        if not self.several:
            return x, labels
        mine = torch.tensor_split(torch.arange(len(x)), self.world)[self.rank]
        start, stop = int(mine[0]) if len(mine) else 0, int(mine[-1]) + 1 if len(mine) else 0
        return x[start:stop], labels[start:stop]

    def average(self, model: nn.Module, losses: torch.Tensor, images: int, total: int
                ) -> torch.Tensor:
        """Gradients of ``model`` and ``losses`` (a vector) averaged over the processes,
        each weighted by its ``images`` of the batch's ``total``, in one all-reduce. The
        averaged losses are returned (every process sees the same, NaN included)."""
        if not self.several:
            return losses
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads] + [losses.reshape(-1).float()])
        flat.mul_(images / total)
        dist.all_reduce(flat)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()
        return flat[offset:].to(losses.dtype)

    def average_buffers(self, model: nn.Module) -> None:
        """Floating-point buffers (BN running statistics) averaged over the processes."""
        if not self.several:
            return
        buffers = [b for b in model.buffers() if b.is_floating_point()]
        flat = torch.cat([b.reshape(-1) for b in buffers]) / self.world
        dist.all_reduce(flat)
        offset = 0
        for buffer in buffers:
            buffer.copy_(flat[offset:offset + buffer.numel()].view_as(buffer))
            offset += buffer.numel()

    def broadcast_state(self, model: nn.Module) -> None:
        """Rank 0's parameters and buffers everywhere (a fresh start's weights)."""
        if not self.several:
            return
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                dist.broadcast(tensor.data, src=0)

    def agree(self, flag: bool, device: torch.device) -> bool:
        """Rank 0's ``flag``, in every process."""
        if not self.several:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.broadcast(value, src=0)
        return bool(value.item())

    def barrier(self) -> None:
        if self.several:
            dist.barrier()


def start_processes(device: torch.device) -> tuple[Processes, torch.device]:
    """The process group ``torchrun`` describes in the environment (one process otherwise),
    and this process's device: ``cuda:LOCAL_RANK`` when ``device`` is CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Processes(), device
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(rank=rank, world=world, local_rank=local), device


def stop_processes(processes: Processes, together: bool = True) -> None:
    """Leave the process group. ``together``: first wait for every process (a barrier), so
    that no process tears its connections down while rank 0 still writes the file and scores
    the corners (without it, a clean-clone CI run once saw gloo abort the process that left
    early: "terminate called without an active exception")."""
    if processes.several and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()
