"""Anomaly detection on transactions: how unusual a point's amount, quantity, unit price and
unit price for its product are, against the recent transactions.

The detector is ANOMALY_MODEL_TYPE's entry in `detectors.DETECTORS`. Whatever the detector, a
point's features are first aligned on the recent weeks and its raw score compared with a
threshold that keeps the share flagged near the budget (ANOMALY_FLAG_RATE; see `calibration`);
its severity says how far out it is within that budget, and its explanation comes from the
per-feature tails.

"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import numpy as np

from app.anomaly.calibration import MIN_RECENT_ROWS, Calibration, Reference
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
    """The fitted detector, its price references and tails, the cut-offs learnt from the
    training scores (raw scores: higher is more anomalous) and the calibration on the recent
    days that scoring uses (a model saved before calibrations has none: its cut-offs serve).
    `contamination` is the flag budget."""

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
    reference: Reference | None = None
    calibration: Calibration | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A model saved before detectors were objects of their own (same format version) holds
        the bare scikit-learn estimator and its scaler, or for ECOD neither: they are wrapped
        as `detectors` builds them now."""
        if "scaler" in state:
            estimator, scaler = state.pop("detector"), state.pop("scaler")
            state["detector"] = TailSum() if estimator is None else Scaled(estimator, scaler)
        self.__dict__.update({"reference": None, "calibration": None, **state})

    @property
    def flag_threshold(self) -> float:
        """The raw score above which a point is flagged, as calibrated."""
        return self.threshold if self.calibration is None else self.calibration.threshold

    @property
    def cutoffs(self) -> dict[str, float]:
        """The raw scores above which a flag is of medium and of high severity."""
        calibration = self.calibration
        return self.severity_cutoffs if calibration is None else calibration.severity_cutoffs

    def usual_range(self, j: int) -> tuple[float, float]:
        """Feature j's usual range (1st-99th training percentile), moved to the recent days."""
        low, high = float(self.typical_low[j]), float(self.typical_high[j])
        if self.calibration is None or self.reference is None:
            return low, high
        moved = self.calibration.recent_median[j] - self.reference.median[j]
        return low + float(moved), high + float(moved)

    def _aligned(self, features: np.ndarray) -> np.ndarray:
        if self.calibration is None or self.reference is None:
            return features
        return self.reference.align(features, self.calibration)

    def score(self, points: Points) -> Scored:
        looked = self.references.lookup(points.product_ids)
        features = derive(points, looked.prices, looked.quantities)
        aligned = self._aligned(features)
        tails = self.tails.tail_probabilities(aligned)
        surprise = self.tails.surprise_of(aligned, tails)
        raw = self.detector.raw_scores(aligned, surprise)
        threshold, cutoffs = self.flag_threshold, self.cutoffs
        levels = np.select(
            [raw > cutoffs["high"], raw > cutoffs["medium"]], ["high", "medium"], "low"
        )
        return Scored(
            scores=threshold - raw,
            flags=raw > threshold,
            severities=levels.tolist(),
            features=features,
            tail_probabilities=tails,
            surprise=surprise,
            references=looked,
        )

    def recalibrated(self, recent: Points) -> "AnomalyModel":
        """The same fit, calibrated on the recent days' points (see `calibration`); with fewer
        than MIN_RECENT_ROWS of them, or a model without a reference, itself."""
        if self.reference is None or len(recent.amount) < MIN_RECENT_ROWS:
            return self
        looked = self.references.lookup(recent.product_ids)
        features = derive(recent, looked.prices, looked.quantities)
        median = self.reference.recent_median(features)
        aligned = features - median + self.reference.median
        raw = self.detector.raw_scores(aligned, self.tails.surprise(aligned))
        calibration = self.reference.calibrated(median, raw, self.contamination)
        return replace(self, calibration=calibration)


def train_anomaly_detector(
    points: Points,
    references: References,
    model_type: AnomalyModelType,
    contamination: float,
    seed: int = 42,
    recent: Points | None = None,
) -> AnomalyModel:
    """Fits on the window's transactions, then calibrates on `recent` (the window's last days)
    when given; `contamination` is the flag budget."""
    if len(points.amount) < MIN_TRAINING_ROWS:
        raise NotEnoughData(
            f"Anomaly detection needs at least {MIN_TRAINING_ROWS} transactions; found "
            f"{len(points.amount)}. Load transactions or raise DATA_COLLECTION_DAYS."
        )
    looked = references.lookup(points.product_ids)
    features = derive(points, looked.prices, looked.quantities)
    tails = EmpiricalTails.fit(features)
    detector = DETECTORS[model_type](features, contamination, seed)
    raw = detector.raw_scores(features, tails.surprise(features))
    reference = Reference.of(features, raw, contamination)
    threshold = reference.cutoffs["threshold"]
    flagged = raw > threshold
    trained = reference.identity(len(raw), float(flagged.mean()))
    model = AnomalyModel(
        model_type=model_type,
        contamination=contamination,
        references=references,
        tails=tails,
        threshold=threshold,
        severity_cutoffs=trained.severity_cutoffs,
        detector=detector,
        typical_low=tails.quantiles(TYPICAL_RANGE[0]),
        typical_high=tails.quantiles(TYPICAL_RANGE[1]),
        reference=reference,
        calibration=trained,
    )
    if recent is not None:
        model = model.recalibrated(recent)
    calibration = model.calibration or trained
    model.metrics = {
        "training_rows": float(len(raw)),
        "outliers_in_training_data": float(flagged.sum()),
        "outlier_share": float(flagged.mean()),
        "threshold": threshold,
        "calibrated_threshold": calibration.threshold,
        "calibration_rows": float(calibration.recent_rows),
        "recent_flag_rate": calibration.recent_flag_rate,
        "share_with_price_ratio": float(np.isfinite(features[:, PRICE_RATIO]).mean()),
    }
    return model


def _median_positive(quantities: np.ndarray) -> float:
    """The median of the positive quantities (1 when there is none): a ratio's reference."""
    positive = quantities[quantities > 0]
    return float(np.median(positive)) if len(positive) else 1.0


def _points(documents: list[dict[str, Any]]) -> Points:
    return read_points(
        [
            {AMOUNT: d["amount"], QUANTITY: d["quantity"], PRODUCT: d.get("productId")}
            for d in documents
        ]
    )


def train_from_sample(
    sample: list[dict[str, Any]],
    typical: dict[str, tuple[float, float]],
    catalogue: dict[str, float],
    model_type: AnomalyModelType,
    contamination: float,
    calibration_since: datetime | None = None,
) -> AnomalyModel:
    """In the worker process: the window's documents (`amount`, `quantity`, `productId`,
    `date`; the training read keeps only those with a usable amount and quantity) to points,
    then the fit, calibrated on those dated from `calibration_since`. `typical` holds each
    product's median unit price and median quantity."""
    points = _points(sample)
    references = References(
        typical_price={p: price for p, (price, _) in typical.items() if price > 0},
        catalogue_price=catalogue,
        typical_quantity={p: quantity for p, (_, quantity) in typical.items() if quantity > 0},
        overall_quantity=_median_positive(points.quantity),
    )
    recent = None
    if calibration_since is not None:
        recent = _points(
            [
                d
                for d in sample
                if isinstance(d.get("date"), datetime) and d["date"] >= calibration_since
            ]
        )
    return train_anomaly_detector(points, references, model_type, contamination, recent=recent)


def fit_model(data: AnomalyInput) -> AnomalyModel:
    """The worker process's entry point (`AnomalyService.fit`)."""
    return train_from_sample(
        data.sample,
        data.typical,
        data.catalogue,
        data.model_type,
        data.contamination,
        data.calibration_since,
    )
