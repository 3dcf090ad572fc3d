"""Paired Kendall differences between signals already ranked by ``python -m nas.rank``: reads
their outputs (``<dir>/<label>.csv``: each ground-truth network's accuracy and score) and prints
each label's tau against the ground truth and its difference to the ``--versus`` label's, with
the paired bootstrap 95% interval of ``benchmarks/rank_signals.py`` (both taus on the same
resampled networks). Nothing is scored again.

    PYTHONPATH=. python benchmarks/rank_pairs.py --versus LABEL LABEL [LABEL ...]
        [--dir results/rank/mobilenet_v3_small-fashion_mnist]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmarks.rank_signals import differences
from nas.errors import NasError
from nas.yardstick.metrics import kendall_tau


def ranked(folder: Path, label: str) -> pd.DataFrame:
    path = folder / f"{label}.csv"
    if not path.is_file():
        raise NasError(f"{path} does not exist: rank the signal first (python -m nas.rank ... "
                       f"label={label})")
    return pd.read_csv(path).set_index("arch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="+")
    parser.add_argument("--versus", required=True)
    parser.add_argument("--dir", default="results/rank/mobilenet_v3_small-fashion_mnist")
    args = parser.parse_args()
    folder = Path(args.dir)
    base = ranked(folder, args.versus)
    truth = base["accuracy"].tolist()
    scores = {label: ranked(folder, label).loc[base.index, "score"].tolist()
              for label in [args.versus, *args.labels]}
    print(f"{len(truth)} networks of {folder}; paired against {args.versus} "
          f"(Kendall {kendall_tau(scores[args.versus], truth):.3f})")
    for label, (difference, low, high) in differences(scores, truth, args.versus).items():
        print(f"  {label}: Kendall {kendall_tau(scores[label], truth):.3f}, "
              f"{difference:+.3f} [{low:+.2f}, {high:+.2f}]")


if __name__ == "__main__":
    try:
        main()
    except NasError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
