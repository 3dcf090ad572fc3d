"""Progress of a search: trials done, best so far, time per trial, time left.

A tqdm bar on a terminal; on anything else (CI logs, a file) one short line per trial.
"""

from __future__ import annotations

import statistics
import sys

from tqdm import tqdm


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    def __init__(self, *, total: int, done: int, stream=None) -> None:
        self.total, self.done = total, done
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
        if not self.durations:
            return "?"
        return _clock(statistics.median(self.durations) * max(self.total - self.done, 0))

    def update(self, *, number: int, outcome: str, seconds: float, accuracy: float | None,
               counted: bool) -> None:
        """One trial ended; ``counted`` when it counts towards the total."""
        self.durations.append(seconds)
        self.done += counted
        if accuracy is not None and (self.best is None or accuracy > self.best):
            self.best = accuracy
        best = "-" if self.best is None else f"{self.best:.4f}"
        if self.bar is not None:
            self.bar.update(int(counted))
            self.bar.set_postfix_str(f"best acc {best}, last {_clock(seconds)}, "
                                     f"left ~{self._left()}")
            return
        print(f"trial {number}: {outcome} in {_clock(seconds)} | {self.done}/{self.total} done, "
              f"best acc {best}, ~{self._left()} left", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
