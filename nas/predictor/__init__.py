"""An accuracy predictor fitted on a supernet's scores (Once-for-All, Cai et al. 2020): the
one-hot architecture encoding, the MLP, the resumable fit, the file and ``evaluator=predictor``."""

from nas.predictor.encoding import ArchEncoder, space_decisions
from nas.predictor.evaluator import PredictorEvaluator, make_predictor_evaluator
from nas.predictor.model import AccuracyPredictor, FitSettings, PredictorEnsemble, fit_predictor
from nas.predictor.store import PredictorFileError, read_predictor, save_predictor

__all__ = [
    "AccuracyPredictor",
    "ArchEncoder",
    "FitSettings",
    "PredictorEvaluator",
    "PredictorEnsemble",
    "PredictorFileError",
    "fit_predictor",
    "make_predictor_evaluator",
    "read_predictor",
    "save_predictor",
    "space_decisions",
]
