"""The detectors ANOMALY_MODEL_TYPE may name, each built from the training features by its entry
in DETECTORS. Adding one: a class with `raw_scores`, a builder in DETECTORS, and its name in
`AnomalyMethod` (app/config.py, where the setting validates it).

- `ECOD`: the sum of each feature's empirical tail surprise (see `tails`);
- `IsolationForest`, `OneClassSVM`: the original's detectors on the same features, min-max
  scaled."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM

from app.config import AnomalyMethod

DetectorName = AnomalyMethod
ONE_CLASS_SVM_MAX_ROWS = 10_000  # its fit grows quadratically with the rows


class Detector(Protocol):
    def raw_scores(self, features: np.ndarray, surprise: np.ndarray, /) -> np.ndarray:
        """One score per row of derived features (higher is more anomalous); `surprise` holds
        the rows' per-feature tail surprise, already computed for their explanations."""


@dataclass
class TailSum:
    """ECOD: nothing to fit beyond the tails the model keeps for its explanations."""

    def raw_scores(self, _features: np.ndarray, surprise: np.ndarray, /) -> np.ndarray:
        total: np.ndarray = surprise.sum(axis=1)
        return total


@dataclass
class Scaled:
    """A scikit-learn detector on min-max scaled features."""

    estimator: IsolationForest | OneClassSVM
    scaler: MinMaxScaler

    def raw_scores(self, features: np.ndarray, _surprise: np.ndarray, /) -> np.ndarray:
        scaled = self.scaler.transform(imputed(features))
        negated: np.ndarray = -self.estimator.score_samples(scaled)
        return negated


def imputed(features: np.ndarray) -> np.ndarray:
    """For the scikit-learn detectors, which take no NaN: a missing ratio is the usual one (0)."""
    filled: np.ndarray = np.where(np.isnan(features), 0.0, features)
    return filled


# A builder fits its detector on the training features, given the share expected to be
# flagged (contamination) and a seed.
Builder = Callable[[np.ndarray, float, int], Detector]


def _tail_sum(_features: np.ndarray, _contamination: float, _seed: int) -> Detector:
    return TailSum()


def _isolation_forest(features: np.ndarray, contamination: float, seed: int) -> Detector:
    scaler = MinMaxScaler().fit(imputed(features))
    forest = IsolationForest(n_estimators=100, contamination=contamination, random_state=seed)
    return Scaled(forest.fit(scaler.transform(imputed(features))), scaler)


def _one_class_svm(features: np.ndarray, contamination: float, seed: int) -> Detector:
    """Fitted on a seeded sample of ONE_CLASS_SVM_MAX_ROWS rows at most."""
    if len(features) > ONE_CLASS_SVM_MAX_ROWS:
        rng = np.random.default_rng(seed)
        features = features[rng.choice(len(features), ONE_CLASS_SVM_MAX_ROWS, replace=False)]
    scaler = MinMaxScaler().fit(imputed(features))
    svm = OneClassSVM(kernel="rbf", gamma="scale", nu=contamination)
    return Scaled(svm.fit(scaler.transform(imputed(features))), scaler)


DETECTORS: dict[DetectorName, Builder] = {
    "ECOD": _tail_sum,
    "IsolationForest": _isolation_forest,
    "OneClassSVM": _one_class_svm,
}
