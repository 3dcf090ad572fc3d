"""The progress line of a search: the study's count and best, time left from the study's pace."""

import io

from nas.search import progress as progress_module
from nas.search.progress import Progress


def test_one_worker_counts_its_trials(monkeypatch):
    clock = iter([100.0, 130.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = Progress(total=5, done=2, stream=stream)
    bar.update(number=2, outcome="complete", seconds=30, accuracy=0.8, counted=True)
    line = stream.getvalue().splitlines()[-1]
    assert "3/5 done" in line and "best acc 0.8000" in line and "~1m00s left" in line


def test_a_worker_among_others_shows_the_studys_count_best_and_pace(monkeypatch):
    """Another worker finished 3 trials while this one ran its first (40 s): 4 of 10 done in
    40 s of wall time is 10 s a trial, so 60 s left, not this worker's 40 s x 6."""
    clock = iter([100.0, 140.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = Progress(total=10, done=0, stream=stream)
    bar.update(number=3, outcome="complete", seconds=40, accuracy=0.85, counted=True,
               study_done=4, study_best=0.9)
    line = stream.getvalue().splitlines()[-1]
    assert "4/10 done" in line and "best acc 0.9000" in line and "~1m00s left" in line
