"""The predictor file: the fitted MLP, the space it encodes, and where its training scores came
from, in one file.

Metadata: the space (name and full config), the fit settings, the scorer (the evaluator config;
for ``evaluator=supernet`` the supernet file's path, SHA-256 and identity), the dataset, the
number of scored architectures, the held-out share, the seed, the held-out metrics, the command
and the versions. A file is refused with one line when it is missing, not a predictor file, or
made for another space or dataset.
"""

from __future__ import annotations

from pathlib import Path

from nas.arch import SearchSpace
from nas.errors import NasError
from nas.predictor.encoding import ArchEncoder
from nas.predictor.model import AccuracyPredictor, FitSettings, PredictorEnsemble, make_predictor
from nas.torch_files import cpu_state, read_marked, save_atomically

FORMAT = "nas-predictor/1"


class PredictorFileError(NasError):
    """A predictor file that is missing, corrupt, or made for something else."""


def save_predictor(path: str | Path, model: AccuracyPredictor | PredictorEnsemble, meta: dict
                   ) -> Path:
    """Write atomically (temp file, then rename): an interrupt never leaves half a file."""
    return save_atomically(path, {"format": FORMAT, "meta": meta, "state_dict": cpu_state(model)})


def read_predictor(path: str | Path) -> dict:
    """The file's payload; PredictorFileError (one line) when missing or not a predictor."""
    return read_marked(path, FORMAT, "predictor", PredictorFileError,
                       f"fit one with python -m nas.predictor evaluator.path=SUPERNET out={path}")


def build_predictor(payload: dict, path: str | Path
                    ) -> tuple[AccuracyPredictor | PredictorEnsemble, ArchEncoder]:
    """The fitted predictor of a payload from ``read_predictor`` and its space's encoder."""
    try:
        meta = payload["meta"]
        encoder = ArchEncoder(SearchSpace.from_config(meta["space_config"]))
        model = make_predictor(encoder.width, FitSettings(**meta["fit"]))  # older files: one MLP
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError, NasError) as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise PredictorFileError(f"{path} is a damaged predictor file "
                                 f"({error.__class__.__name__}: {first[:120]})") from None
    return model.eval(), encoder


def check_space(meta: dict, space: SearchSpace, path: str | Path) -> None:
    fitted = SearchSpace.from_config(meta["space_config"])
    if not space.within(fitted):
        detail = "" if fitted.name != space.name else " (same name, other choices)"
        raise PredictorFileError(f"{path} is a predictor of space {fitted.name!r}, not "
                                 f"{space.name!r}{detail}; fit one for this space")


def check_dataset(meta: dict, dataset: str | None, path: str | Path) -> None:
    fitted = (meta.get("dataset") or {}).get("name")
    if dataset is not None and fitted is not None and fitted != dataset:
        raise PredictorFileError(f"{path} predicts accuracies on {fitted}, not {dataset}; "
                                 f"fit one for this dataset")
