"""Progress of a search: trials done, best so far, time per trial, time left.

A tqdm bar on a terminal; on anything else (CI logs, a file) one short line per trial. With
several workers on one study each prints the study's count (every worker's trials), and the
time left comes from the study's pace since this worker started, so it is right for any number
of workers.
"""

from __future__ import annotations

import statistics
import sys
import time

from tqdm import tqdm


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    def __init__(self, *, total: int, done: int, stream=None) -> None:
        self.total, self.done = total, done
        self.started, self.done_at_start = time.monotonic(), done
        self.stream = stream or sys.stderr
        self.durations: list[float] = []
        self.best: float | None = None
        self.bar = None
        if self.stream.isatty():
            self.bar = tqdm(total=total, initial=done, file=self.stream, unit="trial",
                            dynamic_ncols=True, leave=True)
        else:
            print(f"search: {done}/{total} trials done, {total - done} to go", file=self.stream)

    def _left(self) -> str:
        finished = self.done - self.done_at_start
        if finished <= 0:  # nothing counted yet (a failure, say): the trials' own time
            if not self.durations:
                return "?"
            per_trial = statistics.median(self.durations)
        else:  # wall time per finished trial: every worker's trials, overheads included
            per_trial = (time.monotonic() - self.started) / finished
        return _clock(per_trial * max(self.total - self.done, 0))

    def update(self, *, number: int, outcome: str, seconds: float, accuracy: float | None,
               counted: bool, study_done: int | None = None,
               study_best: float | None = None) -> None:
        """One trial ended; ``counted`` when it counts towards the total. ``study_done`` and
        ``study_best``: the study's count of such trials and best accuracy, other workers'
        included, where the total is the study's."""
        self.durations.append(seconds)
        before = self.done
        self.done = self.done + counted if study_done is None else study_done
        for score in (accuracy, study_best):
            if score is not None and (self.best is None or score > self.best):
                self.best = score
        best = "-" if self.best is None else f"{self.best:.4f}"
        if self.bar is not None:
            self.bar.update(self.done - before)
            self.bar.set_postfix_str(f"best acc {best}, last {_clock(seconds)}, "
                                     f"left ~{self._left()}")
            return
        print(f"trial {number}: {outcome} in {_clock(seconds)} | {self.done}/{self.total} done, "
              f"best acc {best}, ~{self._left()} left", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
