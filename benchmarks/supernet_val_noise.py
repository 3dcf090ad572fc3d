"""How much of the supernet evaluator's score is the validation subset's noise: read from the
``nas.rank`` outputs of one supernet scored on 2,000 / 5,000 / all validation images and with
another BN seed (README "The yardstick", the commands there). Prints, in accuracy points, the
spread of the scores over the ground truth's networks, how far a network's score moves between
settings (root mean square over the networks), and each setting's Kendall tau; then how far
bfloat16 scoring moves the packed file's scores (``--packed-stem``, README "Seconds per
candidate"), and how far re-estimating BN on 1,000 or 500 images instead of 2,000 moves them
(bf16), with each count's tau and its paired difference to 2,000's (``evaluator.bn_images``).

    PYTHONPATH=. python benchmarks/supernet_val_noise.py [--dir results/rank/<ground truth>]
        [--stem supernet-mobilenet_v3_small-experiment]
"""

import argparse
import json
from pathlib import Path

import pandas as pd

from nas.yardstick.rank import kendall_difference_interval

SETTINGS = ("valall", "valall-seed1", "val2000", "val2000-seed1", "val5000", "valall-bn10000")


def scores(folder: Path, label: str) -> pd.Series:
    return pd.read_csv(folder / f"{label}.csv")["score"] * 100


def rms(a: pd.Series, b: pd.Series) -> float:
    return float(((a - b) ** 2).mean() ** 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="results/rank/mobilenet_v3_small-fashion_mnist")
    parser.add_argument("--stem", default="supernet-mobilenet_v3_small-experiment")
    parser.add_argument("--packed-stem", default="supernet-mobilenet_v3_small-experiment.fp16")
    args = parser.parse_args()
    folder, label = Path(args.dir), lambda setting: f"{args.stem}-{setting}"
    whole, small = scores(folder, label("valall")), scores(folder, label("val2000"))
    print(f"spread of the scores over {len(whole)} networks (std, whole split): "
          f"{whole.std():.2f} pts")
    print(f"2,000 images against the whole split (RMS): {rms(small, whole):.2f} pts")
    print(f"another BN seed, whole split (RMS): "
          f"{rms(scores(folder, label('valall-seed1')), whole):.2f} pts")
    print(f"another BN seed, 2,000 images (RMS): "
          f"{rms(scores(folder, label('val2000-seed1')), small):.2f} pts")
    for setting in SETTINGS:
        row = json.loads((folder / f"{label(setting)}.json").read_text())["rows"][0]
        print(f"Kendall tau, {setting}: {row['kendall']:.3f} "
              f"[{row['kendall_low']:.2f}, {row['kendall_high']:.2f}]")
    packed = f"{args.packed_stem}-valall"
    if (folder / f"{packed}-bf16.csv").is_file():
        change = scores(folder, f"{packed}-bf16") - scores(folder, packed)
        print(f"bfloat16 against float32, {packed}: RMS {rms(change, 0 * change):.2f} pts, "
              f"largest {change.abs().max():.2f} pts over {len(change)} networks")
    bn_counts(folder, f"{packed}-bf16")


# evaluator.bn_images: the label suffix of each count's nas.rank run (2,000: none)
BN_RUNS = {2000: "", 1000: "-bn1000-seed0", 500: "-bn500"}


def bn_counts(folder: Path, stem: str) -> None:
    """Scores with fewer BN images against 2,000 (the same packed file, bf16, whole split)."""
    if not all((folder / f"{stem}{suffix}.csv").is_file() for suffix in BN_RUNS.values()):
        return
    base = pd.read_csv(folder / f"{stem}.csv").set_index("arch")
    base_tau = json.loads((folder / f"{stem}.json").read_text())["rows"][0]["kendall"]
    for count, suffix in BN_RUNS.items():
        table = pd.read_csv(folder / f"{stem}{suffix}.csv").set_index("arch").loc[base.index]
        tau = json.loads((folder / f"{stem}{suffix}.json").read_text())["rows"][0]["kendall"]
        line = f"BN on {count} images: Kendall {tau:.3f}"
        if count != 2000:
            low, high = kendall_difference_interval(list(table["score"]), list(base["score"]),
                                                    list(base["accuracy"]))
            move = (table["score"] - base["score"]) * 100
            line += (f", {tau - base_tau:+.3f} [{low:+.2f}, {high:+.2f}] paired against 2,000;"
                     f" scores move RMS {rms(move, 0 * move):.2f} pts, largest "
                     f"{move.abs().max():.2f}")
        print(line)


if __name__ == "__main__":
    main()
