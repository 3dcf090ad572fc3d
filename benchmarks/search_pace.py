"""How fast a finished search went, read from its Optuna journal: minutes from the first trial's
start until the 100th, 500th, 1,000th... trial finished, and until the 100th, 500th... distinct
candidate was scored (a trial that proposes an architecture already scored copies its result:
``duplicate_of``), the median seconds a candidate's evaluation took, and the spread of the
accuracy signal over the scored candidates.

A record of the run that wrote the journal (its machine, its load), not a new measurement.
Committed experiment journals are gzipped: ``gunzip -k`` first.

    PYTHONPATH=. python benchmarks/search_pace.py results/mobilenet_v3_small/search/study.journal
"""

import argparse
import statistics

import optuna
from optuna.storages.journal import JournalFileBackend, JournalStorage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("journal")
    parser.add_argument("--at", default="100,500,1000", help="trial counts to report")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = JournalStorage(JournalFileBackend(args.journal))
    (summary,) = optuna.get_all_study_summaries(storage)
    trials = [t for t in optuna.load_study(study_name=summary.study_name, storage=storage).trials
              if t.datetime_complete is not None]
    trials.sort(key=lambda t: t.datetime_complete)
    first = min(t.datetime_start for t in trials)
    print(f"{len(trials)} finished trials in {args.journal}")
    scored = [t for t in trials if "duplicate_of" not in t.user_attrs]
    for count in (int(n) for n in args.at.split(",")):
        for name, finished in (("trials", trials), ("distinct candidates", scored)):
            if count <= len(finished):
                minutes = (finished[count - 1].datetime_complete - first).total_seconds() / 60
                print(f"  {count} {name} finished {minutes:.1f} min after the first began")
    seconds = [t.user_attrs["train_seconds"] for t in trials
               if t.user_attrs.get("train_seconds") is not None]
    accuracy = [t.user_attrs["accuracy"] for t in trials
                if t.user_attrs.get("accuracy") is not None]
    if seconds:
        print(f"  evaluation: median {statistics.median(seconds):.2f} s a candidate")
    if len(accuracy) > 1:
        print(f"  accuracy signal: {min(accuracy):.4f}-{max(accuracy):.4f}, "
              f"std {statistics.stdev(accuracy):.4f}")


if __name__ == "__main__":
    main()
