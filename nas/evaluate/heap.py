"""Large tensors from the heap, not from fresh ``mmap`` pages (glibc's ``mallopt``).

glibc's malloc serves every allocation above its mmap threshold (dynamic, at most 32 MiB unless
``MALLOC_MMAP_THRESHOLD_`` says otherwise) with a fresh ``mmap`` and unmaps it when freed, so
every large activation of a forward pass page-faults all its pages in again. Measured here (one
thread, 2-core AMD EPYC): batch norm over a 72 MiB channels-last batch took 171 us an image
from fresh pages and 25 us from the heap; a candidate of ``evaluator=supernet`` (BN recalibrated
on 256-image batches, 2,000 images scored) spent ~40% of its time in those page faults.

``keep_large_allocations()`` raises the mmap and trim thresholds to 1 GiB for this process, so
freed activations stay in the heap and are reused. It changes no result, only where memory comes
from; the process keeps its peak memory until it exits. Nothing happens where the C library has
no ``mallopt`` (macOS); the thresholds can also be set for a whole process from outside with
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` (DESIGN: timing hygiene).
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
LARGE = 1 << 30  # bytes: mallopt takes an int, so at most 2 GiB - 1


@functools.cache
def _mallopt():
    try:
        return ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return None


def set_malloc_thresholds(mmap_bytes: int, trim_bytes: int) -> bool:
    """glibc's mmap and trim thresholds for this process; False where they cannot be set."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, int(mmap_bytes))) and \
        bool(mallopt(M_TRIM_THRESHOLD, int(trim_bytes)))


def keep_large_allocations() -> bool:
    """Serve allocations up to 1 GiB from the heap and keep freed ones there (module
    docstring); True where it took effect."""
    return set_malloc_thresholds(LARGE, LARGE)
