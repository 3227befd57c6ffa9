"""Anomaly detection on transactions: how unusual a point's amount, quantity, unit price and
unit price for its product are, against a sample of recent transactions.

The detector is ANOMALY_MODEL_TYPE's entry in `detectors.DETECTORS`. Whatever the
detector, a point is flagged when its score is above the training scores' (1 - contamination)
quantile, its severity says how far out it is among the training scores, and its explanation
comes from the per-feature tails."""

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from app.anomaly.detectors import DETECTORS, Detector, DetectorName, Scaled, TailSum
from app.anomaly.features import (
    AMOUNT,
    FEATURE_NAMES,
    PRICE_RATIO,
    PRODUCT,
    QUANTITY,
    Points,
    derive,
    read_points,
)
from app.anomaly.inputs import AnomalyInput
from app.anomaly.tails import EmpiricalTails
from app.errors import NotEnoughData

AnomalyModelType = DetectorName
Severity = Literal["low", "medium", "high"]
ReferenceSource = Literal["product", "catalogue"]
MIN_TRAINING_ROWS = 50
TYPICAL_RANGE = (0.01, 0.99)  # the training quantiles an explanation calls "usual"
MEDIUM_QUANTILE = 0.999  # beyond this share of training scores a flag is of medium severity


@dataclass
class Looked:
    """The references found for a batch of points, one entry per point."""

    prices: np.ndarray
    price_sources: list[ReferenceSource | None]
    quantities: np.ndarray
    own_quantity: list[bool]


@dataclass
class References:
    """What a point is compared with. Its unit price: the product's median unit price in the
    training window, or else its catalogue price. Its quantity: the product's median quantity
    in the training window, or else the median quantity of all products."""

    typical_price: dict[str, float]
    catalogue_price: dict[str, float]
    typical_quantity: dict[str, float]
    overall_quantity: float = 1.0

    def lookup(self, product_ids: list[str | None]) -> Looked:
        n = len(product_ids)
        looked = Looked(
            np.full(n, np.nan), [None] * n, np.full(n, self.overall_quantity), [False] * n
        )
        for i, product in enumerate(product_ids):
            if product is None:
                continue
            if (price := self.typical_price.get(product)) is not None:
                looked.prices[i], looked.price_sources[i] = price, "product"
            elif (price := self.catalogue_price.get(product)) is not None:
                looked.prices[i], looked.price_sources[i] = price, "catalogue"
            if (quantity := self.typical_quantity.get(product)) is not None:
                looked.quantities[i], looked.own_quantity[i] = quantity, True
        return looked


@dataclass
class Scored:
    """A scored batch: the wire score (lower is more anomalous, below 0 is flagged), the flag,
    the severity, and what explaining a point needs."""

    scores: np.ndarray
    flags: np.ndarray
    severities: list[Severity]
    features: np.ndarray
    tail_probabilities: np.ndarray
    surprise: np.ndarray
    references: Looked


@dataclass
class AnomalyModel:
    """The fitted detector, its price references and tails, and the cut-offs learnt from the
    training scores (raw scores: higher is more anomalous)."""

    model_type: AnomalyModelType
    contamination: float
    references: References
    tails: EmpiricalTails
    threshold: float
    severity_cutoffs: dict[str, float]
    detector: Detector
    typical_low: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURE_NAMES)))
    typical_high: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURE_NAMES)))
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    metrics: dict[str, float] = field(default_factory=dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A model saved before detectors were objects of their own (same format version) holds
        the bare scikit-learn estimator and its scaler, or for ECOD neither: they are wrapped
        as `detectors` builds them now."""
        if "scaler" in state:
            estimator, scaler = state.pop("detector"), state.pop("scaler")
            state["detector"] = TailSum() if estimator is None else Scaled(estimator, scaler)
        self.__dict__.update(state)

    def score(self, points: Points) -> Scored:
        looked = self.references.lookup(points.product_ids)
        features = derive(points, looked.prices, looked.quantities)
        surprise = self.tails.surprise(features)
        raw = self.detector.raw_scores(features, surprise)
        flags = raw > self.threshold
        levels = np.select(
            [raw > self.severity_cutoffs["high"], raw > self.severity_cutoffs["medium"]],
            ["high", "medium"],
            "low",
        )
        return Scored(
            scores=self.threshold - raw,
            flags=flags,
            severities=levels.tolist(),
            features=features,
            tail_probabilities=self.tails.tail_probabilities(features),
            surprise=surprise,
            references=looked,
        )


def train_anomaly_detector(
    points: Points,
    references: References,
    model_type: AnomalyModelType,
    contamination: float,
    seed: int = 42,
) -> AnomalyModel:
    """Fits on a sample of transactions; `contamination` is the share expected to be flagged."""
    if len(points.amount) < MIN_TRAINING_ROWS:
        raise NotEnoughData(
            f"Anomaly detection needs at least {MIN_TRAINING_ROWS} transactions; found "
            f"{len(points.amount)}. Load transactions or raise DATA_COLLECTION_DAYS."
        )
    looked = references.lookup(points.product_ids)
    features = derive(points, looked.prices, looked.quantities)
    model = AnomalyModel(
        model_type=model_type,
        contamination=contamination,
        references=references,
        tails=EmpiricalTails.fit(features),
        threshold=0.0,
        severity_cutoffs={},
        detector=DETECTORS[model_type](features, contamination, seed),
    )
    model.typical_low, model.typical_high = (
        model.tails.quantiles(TYPICAL_RANGE[0]),
        model.tails.quantiles(TYPICAL_RANGE[1]),
    )
    raw = model.detector.raw_scores(features, model.tails.surprise(features))
    model.threshold = float(np.quantile(raw, 1 - contamination))
    model.severity_cutoffs = {
        "medium": max(model.threshold, float(np.quantile(raw, MEDIUM_QUANTILE))),
        "high": float(raw.max()),
    }
    flagged = raw > model.threshold
    model.metrics = {
        "training_rows": float(len(raw)),
        "outliers_in_training_data": float(flagged.sum()),
        "outlier_share": float(flagged.mean()),
        "threshold": model.threshold,
        "share_with_price_ratio": float(np.isfinite(features[:, PRICE_RATIO]).mean()),
    }
    return model


def _median_positive(quantities: np.ndarray) -> float:
    """The median of the positive quantities (1 when there is none): a ratio's reference."""
    positive = quantities[quantities > 0]
    return float(np.median(positive)) if len(positive) else 1.0


def train_from_sample(
    sample: list[dict[str, Any]],
    typical: dict[str, tuple[float, float]],
    catalogue: dict[str, float],
    model_type: AnomalyModelType,
    contamination: float,
) -> AnomalyModel:
    """In the worker process: sampled documents (`amount`, `quantity`, `productId`; the
    training read keeps only those with a usable amount and quantity) to points, then the fit.
    `typical` holds each product's median unit price and median quantity."""
    points = read_points(
        [
            {AMOUNT: d["amount"], QUANTITY: d["quantity"], PRODUCT: d.get("productId")}
            for d in sample
        ]
    )
    references = References(
        typical_price={p: price for p, (price, _) in typical.items() if price > 0},
        catalogue_price=catalogue,
        typical_quantity={p: quantity for p, (_, quantity) in typical.items() if quantity > 0},
        overall_quantity=_median_positive(points.quantity),
    )
    return train_anomaly_detector(points, references, model_type, contamination)


def fit_model(data: AnomalyInput) -> AnomalyModel:
    """The worker process's entry point (`AnomalyService.fit`)."""
    return train_from_sample(
        data.sample, data.typical, data.catalogue, data.model_type, data.contamination
    )
