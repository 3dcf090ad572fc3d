"""Training throughput of a built network against the same network in plain PyTorch.

MobileNetV3-Small (Howard et al. 2019, Table 2) for Fashion-MNIST (28x28, 1 channel, 10
classes, stem and first block at stride 1 as ``build_model`` adapts them) is written out below
directly in PyTorch, with no ``nas`` import, and trained step for step against
``nas.model.build_model(mobilenet_v3_small, 10, resolution=28, in_channels=1)`` with the
evaluator's training loop pieces (SGD Nesterov, label smoothing, channels-last). Rounds
alternate between the two to share the machine's noise; the ratio of medians is printed.

    flock /tmp/nas-cpu.lock env PYTHONPATH=. python benchmarks/train_throughput.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

# kernel, expansion channels, out channels, SE, activation, stride (stride-adapted for 28x28)
V3_SMALL_28 = [
    (3, 16, 16, True, "relu", 1), (3, 72, 24, False, "relu", 2), (3, 88, 24, False, "relu", 1),
    (5, 96, 40, True, "hswish", 2), (5, 240, 40, True, "hswish", 1),
    (5, 240, 40, True, "hswish", 1), (5, 120, 48, True, "hswish", 1),
    (5, 144, 48, True, "hswish", 1), (5, 288, 96, True, "hswish", 2),
    (5, 576, 96, True, "hswish", 1), (5, 576, 96, True, "hswish", 1),
]


def act(name: str) -> nn.Module:
    return nn.ReLU(inplace=True) if name == "relu" else nn.Hardswish(inplace=True)


def conv_bn(cin: int, cout: int, k: int, s: int = 1, groups: int = 1, a: str | None = None):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([act(a)] if a else []))


class PlainSE(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        squeezed = max(8, int(channels // 4 + 4) // 8 * 8)
        squeezed += 8 if squeezed < 0.9 * (channels // 4) else 0
        self.fc1, self.fc2 = nn.Conv2d(channels, squeezed, 1), nn.Conv2d(squeezed, channels, 1)

    def forward(self, x):
        scale = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(scale))), inplace=True)


class PlainBlock(nn.Module):
    def __init__(self, cin, k, exp, cout, se, a, s) -> None:
        super().__init__()
        layers = [conv_bn(cin, exp, 1, a=a)] if exp != cin else []
        layers += [conv_bn(exp, exp, k, s, groups=exp, a=a)]
        layers += [PlainSE(exp)] if se else []
        layers += [conv_bn(exp, cout, 1)]
        self.body = nn.Sequential(*layers)
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class PlainMobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        layers, cin = [conv_bn(in_channels, 16, 3, 1, a="hswish")], 16
        for k, exp, cout, se, a, s in V3_SMALL_28:
            layers.append(PlainBlock(cin, k, exp, cout, se, a, s))
            cin = cout
        layers.append(conv_bn(cin, 576, 1, a="hswish"))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(576, 1024), nn.Hardswish(inplace=True),
                                        nn.Linear(1024, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def make_step(model: nn.Module, device: torch.device, batch: int, channels_last: bool):
    model = model.to(device)
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    def step() -> None:
        with autocast:
            loss = F.cross_entropy(model(x).float(), y, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def images_per_second(step, batch: int, steps: int, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - started)


def main() -> None:
    from nas.arch import resolve_arch
    from nas.model import build_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=4, help="steps per round")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    if device.type == "cuda":
        args.steps *= 25
    torch.manual_seed(0)
    built = build_model(resolve_arch("mobilenet_v3_small"), 10, resolution=28, in_channels=1)
    plain = PlainMobileNetV3Small()
    n_built, n_plain = (sum(p.numel() for p in m.parameters()) for m in (built, plain))
    if n_built != n_plain:
        raise SystemExit(f"not the same network: {n_built} vs {n_plain} parameters")
    steps = {"built": make_step(built, device, args.batch, args.channels_last),
             "plain": make_step(plain, device, args.batch, args.channels_last)}
    for step in steps.values():  # warm-up
        images_per_second(step, args.batch, 3, device)
    rates = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            rates[name].append(images_per_second(step, args.batch, args.steps, device))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"device {device}, threads {args.threads}, batch {args.batch}, channels-last "
          f"{args.channels_last}, {n_built:,} parameters, "
          f"{args.rounds} rounds x {args.steps} steps")
    for name, values in rates.items():
        print(f"{name:6s} median {medians[name]:8.1f} img/s  (min {min(values):.1f}, "
              f"max {max(values):.1f})")
    print(f"ratio built/plain: {medians['built'] / medians['plain']:.3f}")


if __name__ == "__main__":
    main()
