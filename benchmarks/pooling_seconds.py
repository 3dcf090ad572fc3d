"""Global pooling for scoring: ``avg_pool2d`` over the whole map against ``AdaptiveAvgPool2d(1)``.

Two parts, both in this process:

1. the ops alone, on channels-last batches of the shapes a MobileNetV3-Small-space network
   pools at 28x28 input (SE squeezes and the head): forward in bf16 and float32 (no grad), and
   forward + backward in float32, each the best of 10; whether the values agree;
2. whole candidates of ``evaluator=supernet`` on the shipped supernet (or ``--file``): its
   scoring path (``evaluate``: kernel pools, ``nas.model.pooling``) against the same path with
   the adaptive pools (``subnet`` + fold + ``accuracy`` under the same precision), alternated
   per candidate; wall and CPU seconds, their ratio, and the largest accuracy difference.

Quote wall seconds from an idle machine only.

    PYTHONPATH=. python benchmarks/pooling_seconds.py [--threads 1] [--candidates 10]
        [--precision bfloat16]
"""

import argparse
import random
import statistics
import time

import torch
import torch.nn.functional as F

from benchmarks.scorer import EXPERIMENT_HEAD, build_scorer
from nas.evaluate.training import accuracy
from nas.model.fold import fold_batch_norm
from nas.model.pooling import ScoringAvgPool

SHIPPED = "nas/supernet/data/mobilenet_v3_small-fashion_mnist.pt"
SHAPES = [(500, 72, 14, 14), (500, 96, 14, 14), (500, 240, 7, 7), (500, 672, 4, 4),
          (500, 1024, 4, 4), (128, 72, 14, 14), (128, 240, 7, 7), (128, 1024, 4, 4)]


def best_ms(run, repeats: int = 10) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def ops() -> None:
    adaptive, kernel = torch.nn.AdaptiveAvgPool2d(1), ScoringAvgPool()
    print("shape: forward bf16 adaptive/kernel ms (x); forward float32 (x); "
          "forward+backward float32 adaptive/F.avg_pool2d (x); max |difference| bf16, float32")
    for shape in SHAPES:
        row, worst = [], []
        for dtype in (torch.bfloat16, torch.float32):
            x = torch.randn(*shape).to(dtype).contiguous(memory_format=torch.channels_last)
            with torch.no_grad():
                slow, fast = best_ms(lambda x=x: adaptive(x)), best_ms(lambda x=x: kernel(x))
                worst.append((adaptive(x).float() - kernel(x).float()).abs().max().item())
            row.append(f"{slow:.2f}/{fast:.2f} ({slow / fast:.1f}x)")
        x = torch.randn(*shape).contiguous(memory_format=torch.channels_last).requires_grad_()

        def backward(pool, x=x):
            pool(x).sum().backward()

        slow = best_ms(lambda: backward(lambda t: F.adaptive_avg_pool2d(t, 1)))
        fast = best_ms(lambda: backward(lambda t: F.avg_pool2d(t, t.shape[-2:])))
        row.append(f"{slow:.2f}/{fast:.2f} ({slow / fast:.1f}x)")
        print(f"  {shape}: " + "; ".join(row) + f"; {worst[0]:.1e}, {worst[1]:.1e}")


def timed(score):
    wall, cpu = time.perf_counter(), time.process_time()
    value = score()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def candidates(path: str, count: int, precision: str) -> None:
    evaluator, space = build_scorer("rank", ["space=mobilenet_v3_small", EXPERIMENT_HEAD,
                                             "evaluator=supernet", f"evaluator.path={path}",
                                             f"evaluator.precision={precision}"])
    rng = random.Random(0)
    specs = [space.sample_random(rng) for _ in range(count)]

    def adaptive(spec):
        model = fold_batch_norm(evaluator.subnet(spec))
        with evaluator.scoring_precision():
            return accuracy(model, evaluator.data.val, batch_size=evaluator.eval_batch_size)

    def kernel(spec):
        return evaluator.evaluate(spec).val_accuracy

    paths = {"adaptive": adaptive, "kernel": kernel}
    rows = {name: [] for name in paths}
    for number, spec in enumerate(specs):
        for name in (list(paths) if number % 2 == 0 else list(paths)[::-1]):
            rows[name].append(timed(lambda name=name, spec=spec: paths[name](spec)))
    print(f"{count} random candidates, {torch.get_num_threads()} threads, {precision}, "
          f"{len(evaluator.data.val)} validation images, {evaluator.bn_images} BN images")
    for index, unit in ((0, "wall"), (1, "CPU")):
        medians = [statistics.median(r[index] for r in rows[name]) for name in paths]
        ratios = [a[index] / k[index] for a, k in zip(rows["adaptive"], rows["kernel"])]
        print(f"  {unit} s per candidate: adaptive {medians[0]:.2f}, kernel {medians[1]:.2f} "
              f"median; adaptive / kernel {medians[0] / medians[1]:.2f}x (per candidate "
              f"{min(ratios):.2f}-{max(ratios):.2f}x)")
    gaps = [abs(a[2] - k[2]) for a, k in zip(rows["adaptive"], rows["kernel"])]
    print(f"  accuracies that differ: {sum(g > 0 for g in gaps)} of {count}, largest "
          f"{100 * max(gaps):.2f} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--precision", default="bfloat16", choices=("bfloat16", "float32"))
    parser.add_argument("--file", default=SHIPPED, help="a trained mobilenet_v3_small supernet")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ops()
    candidates(args.file, args.candidates, args.precision)


if __name__ == "__main__":
    main()
