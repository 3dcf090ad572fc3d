"""A tiny network of the V3 family; Fashion-MNIST comes from tests/conftest.py."""

import pytest

from nas.arch import decode

# A tiny network of the V3 family (3.6k parameters): trains in seconds on a CPU.
TINY_ARCH = "stem_k3_c8_re_s2-ir_k3_e2_c16_re_s2-ir_k3_e2_c16_se_hs-head_c32_hs-res224"


@pytest.fixture
def tiny_spec():
    return decode(TINY_ARCH)
