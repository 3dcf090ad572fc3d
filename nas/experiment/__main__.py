"""``python -m nas.experiment experiment=mobilenet_v3_large|mobilenet_v3_small``."""

from nas.cli import run
from nas.experiment.pipeline import USAGE, main

if __name__ == "__main__":
    run(main, "config", usage=USAGE)
