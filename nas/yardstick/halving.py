"""Successive halving over proxy budgets (Jamieson & Talwalkar 2016; the inner loop of
Hyperband, Li et al. 2018), scored as one accuracy signal.

Every network is scored at the smallest budget; the best ``1/eta`` of them go on to the next
budget, and so on. The signal's order: networks that reached a later rung rank above those
stopped earlier, and within a rung they rank by that rung's score. Its cost is the seconds of
the trainings it ran. Here each rung trains from scratch at its budget (Hyperband without
continuing from checkpoints), so the rung scores are exactly the stand-alone budgets' scores
and halving can be computed from them without training again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nas.errors import NasError


def successive_halving(rungs: Sequence[Sequence[float]], seconds: Sequence[Sequence[float]],
                       *, eta: int = 3) -> tuple[list[float], float]:
    """The halving order of ``n`` networks and the seconds it cost in all.

    ``rungs[r][i]`` is network ``i``'s score at the ``r``-th budget (ascending), ``seconds[r][i]``
    what that training took. Returns one value per network (higher ranks higher: its rung
    reached, then its score there, as an ordinal 0..n-1) and the total seconds.
    """
    if eta < 2:
        raise NasError(f"eta must be >= 2, got {eta}")
    if not rungs or len({len(r) for r in (*rungs, *seconds)}) != 1 or len(rungs) != len(seconds):
        raise NasError("every budget needs one score and one time per network")
    alive = list(range(len(rungs[0])))
    reached = {i: (0, rungs[0][i]) for i in alive}
    total = 0.0
    for level, scores in enumerate(rungs):
        total += sum(seconds[level][i] for i in alive)
        for i in alive:
            reached[i] = (level, scores[i])
        if level + 1 < len(rungs):
            keep = max(1, math.ceil(len(alive) / eta))
            alive = sorted(alive, key=lambda i: scores[i], reverse=True)[:keep]
    order = sorted(reached, key=lambda i: reached[i])
    value = [0.0] * len(order)
    for position, i in enumerate(order):
        value[i] = float(position)
    return value, total
