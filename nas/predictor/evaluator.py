"""``evaluator=predictor``: a candidate's accuracy as the fitted predictor predicts it.

The architecture is one-hot encoded (``encoding.py``) and run through the MLP (``model.py``):
a fraction of a millisecond a candidate, so a search can score tens of thousands. What it
predicts is what it was fitted on (``python -m nas.predictor``: a supernet's scores by
default), with the held-out error and Kendall tau its file records; how well that ranks the
stand-alone ground truth is measured by ``python -m nas.rank evaluator=predictor``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from nas.arch import ArchSpec, SearchSpace
from nas.errors import NasError
from nas.evaluate.evaluator import EvalResult
from nas.predictor.store import build_predictor, check_dataset, check_space, read_predictor

SETTINGS = ("path", "threads")


class PredictorEvaluator:
    """Scores architectures of the predictor's space with the predictor of file ``path``."""

    def __init__(self, *, path: str, payload: dict | None = None) -> None:
        payload = payload or read_predictor(path)
        self.path, self.meta = str(path), payload["meta"]
        self.model, self.encoder = build_predictor(payload, path)

    def check_space(self, space: SearchSpace) -> None:
        """Refuse (one line) a search over another space than the predictor's."""
        check_space(self.meta, space, self.path)

    def predict(self, specs: list[ArchSpec]) -> np.ndarray:
        """Predicted accuracies of many architectures at once (one batch through the MLP)."""
        return self.model.predict(self.encoder.encode_many(specs))

    def evaluate(self, spec: ArchSpec, trial=None) -> EvalResult:
        started = time.perf_counter()
        score = float(self.predict([spec])[0])
        seconds = time.perf_counter() - started
        return EvalResult(val_accuracy=score, train_seconds=seconds, epochs=0, history=(),
                          images_per_second=math.nan, seconds=seconds)


def make_predictor_evaluator(data_cfg: dict | None, config: dict, seed: int
                             ) -> PredictorEvaluator:
    """From the composed ``data`` (may be None) and ``evaluator`` configs, ``kind`` removed."""
    unknown = sorted(set(config) - set(SETTINGS))
    if unknown:
        raise NasError(f"unknown evaluator=predictor setting(s) {unknown}; known: {SETTINGS}")
    if not config.get("path"):
        raise NasError("evaluator=predictor needs evaluator.path=FILE (python -m nas.predictor "
                       "writes one)")
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    path = str(config["path"])
    payload = read_predictor(path)
    check_dataset(payload["meta"], (data_cfg or {}).get("name"), path)
    return PredictorEvaluator(path=path, payload=payload)
