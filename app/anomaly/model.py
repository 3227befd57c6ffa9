"""Anomaly detection on transactions: min-max scaling, then an IsolationForest or a OneClassSVM
whose contamination is the expected share of anomalies."""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM

from app.errors import NotEnoughData

AnomalyModelType = Literal["IsolationForest", "OneClassSVM"]
MIN_TRAINING_ROWS = 50
ONE_CLASS_SVM_MAX_ROWS = 10_000  # its fit grows quadratically with the rows


@dataclass
class AnomalyModel:
    """A fitted scaler and detector, with the ordered feature names they expect."""

    scaler: MinMaxScaler
    detector: IsolationForest | OneClassSVM
    model_type: AnomalyModelType
    feature_names: list[str]
    contamination: float
    metrics: dict[str, float] = field(default_factory=dict)

    def score(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores rows (columns in `feature_names` order): lower is more anomalous, and a
        negative score is an anomaly."""
        scaled = self.scaler.transform(values)
        scores = self.detector.decision_function(scaled)
        return scores, scores < 0


def train_anomaly_detector(
    values: np.ndarray,
    feature_names: list[str],
    model_type: AnomalyModelType,
    contamination: float,
    seed: int = 42,
) -> AnomalyModel:
    """Fits on a sample of transactions, one row each, columns in `feature_names` order."""
    if len(values) < MIN_TRAINING_ROWS:
        raise NotEnoughData(
            f"Anomaly detection needs at least {MIN_TRAINING_ROWS} transactions; found "
            f"{len(values)}. Load transactions or raise DATA_COLLECTION_DAYS."
        )
    rng = np.random.default_rng(seed)
    if model_type == "OneClassSVM" and len(values) > ONE_CLASS_SVM_MAX_ROWS:
        values = values[rng.choice(len(values), ONE_CLASS_SVM_MAX_ROWS, replace=False)]
    scaler = MinMaxScaler()
    scaled = scaler.fit_transform(values)
    detector: IsolationForest | OneClassSVM
    if model_type == "IsolationForest":
        detector = IsolationForest(
            n_estimators=100, contamination=contamination, random_state=seed, n_jobs=1
        )
    else:
        detector = OneClassSVM(kernel="rbf", gamma="scale", nu=contamination)
    detector.fit(scaled)
    model = AnomalyModel(scaler, detector, model_type, list(feature_names), contamination)
    _, flagged = model.score(values)
    model.metrics = {
        "training_rows": float(len(values)),
        "outliers_in_training_data": float(flagged.sum()),
        "outlier_share": float(flagged.mean()),
    }
    return model
