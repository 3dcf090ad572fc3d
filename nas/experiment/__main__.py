"""``python -m nas.experiment experiment=mobilenet_v3_large|mobilenet_v3_small``."""

from nas.cli import run
from nas.experiment.pipeline import USAGE, main


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "config", usage=USAGE)


if __name__ == "__main__":
    cli()
