"""The tiny space, its user config folder and its trained supernet file (tests/supernet)."""

from tests.supernet.conftest import conf, tiny_space, tiny_supernet  # noqa: F401 (fixtures)
