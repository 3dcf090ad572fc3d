"""Large allocations served from the heap once keep_large_allocations() has run (glibc)."""

import ctypes
import platform

import pytest
import torch

from nas.evaluate.heap import keep_large_allocations


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def mmapped_bytes() -> int:
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
    return mallinfo2().hblkhd


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_a_100_mib_tensor_comes_from_the_heap_not_a_fresh_mmap():
    assert keep_large_allocations()
    before = mmapped_bytes()
    tensor = torch.empty(25 * 2**20)  # 100 MiB: above glibc's default ceiling of 32 MiB
    tensor.fill_(1.0)
    assert mmapped_bytes() - before < 2**20
    del tensor
