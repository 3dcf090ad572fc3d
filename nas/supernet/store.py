"""The supernet file: weights, metadata and (while training) the optimizer's state, in one file.

Metadata say what the weights are: the space (name and full config), the dataset (name, class
count, channels, resolution, and the validation split it kept out), the recipe, the sandwich
settings, steps done of steps planned, the seed, the command and the versions. A file is
refused with one line when it is missing, not a supernet file, or made for another space or
dataset (its validation images would then have been trained on).
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from nas.arch import SearchSpace
from nas.errors import NasError
from nas.supernet.network import Supernet
from nas.torch_files import cpu_state, read_marked, save_atomically

FORMAT = "nas-supernet/1"
# what makes two runs the same training: a rerun with all of these equal continues the file
IDENTITY = ("space_config", "dataset", "recipe", "sandwich", "steps", "seed")


class SupernetFileError(NasError):
    """A supernet file that is missing, corrupt, or made for something else."""


def versions() -> dict:
    import nas

    return {"nas": getattr(nas, "__version__", "unknown"), "torch": str(torch.__version__),
            "python": platform.python_version()}


def save_supernet(path: str | Path, supernet: Supernet, meta: dict,
                  optimizer: dict | None = None) -> Path:
    """Write atomically (temp file, then rename): an interrupt never leaves half a file."""
    return save_atomically(path, {"format": FORMAT, "meta": meta,
                                  "state_dict": cpu_state(supernet), "optimizer": optimizer})


def read_supernet(path: str | Path) -> dict:
    """The file's payload; SupernetFileError (one line) when missing or not a supernet file."""
    return read_marked(path, FORMAT, "supernet", SupernetFileError,
                       f"train one with python -m nas.supernet space=... data=... out={path}")


def build_supernet(payload: dict, path: str | Path, device: str | torch.device = "cpu"
                   ) -> Supernet:
    """The supernet of a payload from ``read_supernet``, its weights loaded."""
    meta = payload["meta"]
    try:
        space = SearchSpace.from_config(meta["space_config"])
        dataset = meta["dataset"]
        supernet = Supernet(space, num_classes=dataset["num_classes"],
                            resolution=dataset["resolution"], in_channels=dataset["channels"])
        supernet.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise SupernetFileError(f"{path} is a damaged supernet file "
                                f"({error.__class__.__name__}: {first[:120]})") from None
    return supernet.to(device)


def check_space(meta: dict, space: SearchSpace, path: str | Path) -> None:
    trained = SearchSpace.from_config(meta["space_config"])
    if not space.within(trained):
        detail = "" if trained.name != space.name else " (same name, other choices)"
        raise SupernetFileError(f"{path} is a supernet of space {trained.name!r}, not "
                                f"{space.name!r}{detail}; train one for this space "
                                f"(python -m nas.supernet space=...) and give "
                                f"evaluator.path=FILE, or use evaluator=proxy")


def check_dataset(meta: dict, dataset: dict, path: str | Path) -> None:
    """``dataset``: name, val_size and split_seed of the data it is to be scored on."""
    trained = meta["dataset"]
    if trained["name"] != dataset["name"]:
        raise SupernetFileError(f"{path} was trained on {trained['name']}, not "
                                f"{dataset['name']}; train one for this dataset "
                                f"(python -m nas.supernet data=...) and give "
                                f"evaluator.path=FILE, or use evaluator=proxy")
    for key in ("val_size", "split_seed"):
        if trained.get(key) != dataset.get(key):
            raise SupernetFileError(
                f"{path} was trained with data.{key}={trained.get(key)}, not "
                f"{dataset.get(key)}: its validation images would have been trained on")


def check_continues(meta: dict, wanted: dict, path: str | Path) -> None:
    """A rerun continues a file only when it is the same training (IDENTITY)."""
    for key in IDENTITY:
        if meta.get(key) != wanted.get(key):
            raise SupernetFileError(f"{path} holds another training ({key} differs: "
                                    f"{_short(meta.get(key))} there, {_short(wanted.get(key))} "
                                    f"now); give another out=FILE or the same settings")


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
