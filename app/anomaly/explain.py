"""Why a point is unusual: each feature whose value few training transactions reach, with its
value, the range usual in training, and a sentence a person reads.

"Usual" is the 1st to 99th percentile of the training sample; a feature is named when its tail
probability is at most EXPLAIN_TAIL (1 %), most surprising first, and a flagged point always
names at least its most surprising feature."""

from dataclasses import dataclass

import numpy as np

from app.anomaly.features import FEATURE_NAMES, PRICE_RATIO
from app.anomaly.model import AnomalyModel, Scored

EXPLAIN_TAIL = 0.01
# Features on a log scale, compared across all products; the others are ratios to a reference.
_PLAIN = {
    FEATURE_NAMES.index("log_amount"): "amount",
    FEATURE_NAMES.index("log_unit_price"): "unit price",
}


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    usual_low: float
    usual_high: float
    tail_probability: float
    sentence: str


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _rounded(*values: float) -> tuple[float, float, float]:
    """Value, usual low and usual high to the cent, as the sentence shows them."""
    value, low, high = (round(v, 2) for v in values)
    return value, low, high


def _times(ratio: float) -> str:
    if ratio >= 1:
        return f"{ratio:,.1f}×"
    return f"{ratio:.2f}× (1/{1 / ratio:,.0f} of)" if ratio > 0 else f"{ratio:.2g}×"


def _reason(model: AnomalyModel, scored: Scored, i: int, j: int) -> Reason:
    tail = float(scored.tail_probabilities[i, j])
    low, high = model.usual_range(j)
    if j in _PLAIN:
        value = float(np.expm1(scored.features[i, j]))
        low, high = float(np.expm1(low)), float(np.expm1(high))
        side = "above" if value > high else "below" if value < low else "at the edge of"
        sentence = (
            f"{_PLAIN[j]} {_money(value)} is {side} the usual "
            f"{_money(low)}–{_money(high)} across products"
        )
        return Reason(_PLAIN[j].replace(" ", "_"), *_rounded(value, low, high), tail, sentence)
    ratio = float(np.exp(scored.features[i, j]))
    looked = scored.references
    if j == PRICE_RATIO:
        reference = float(looked.prices[i])
        whose = (
            "this product's usual"
            if looked.price_sources[i] == "product"
            else "this product's catalogue price"
        )
        sentence = f"unit price {_money(reference * ratio)} is {_times(ratio)} {whose} "
        sentence += _money(reference)
        name = "price_ratio"
    else:
        reference = float(looked.quantities[i])
        whose = "this product's usual" if looked.own_quantity[i] else "the usual"
        across = "" if looked.own_quantity[i] else " across products"
        sentence = f"quantity {_count(round(reference * ratio, 6))} is {_times(ratio)} {whose} "
        sentence += f"{_count(reference)}{across}"
        name = "quantity_ratio"
    usual = _rounded(
        reference * ratio, reference * float(np.exp(low)), reference * float(np.exp(high))
    )
    return Reason(name, *usual, tail, sentence)


def explain(model: AnomalyModel, scored: Scored) -> list[list[Reason]]:
    """The reasons for every point of a scored batch: none for most ordinary points, at least
    one for a flagged point."""
    reasons: list[list[Reason]] = [[] for _ in range(len(scored.scores))]
    tails = np.nan_to_num(scored.tail_probabilities, nan=1.0)
    unusual = (tails <= EXPLAIN_TAIL) & np.isfinite(scored.features)
    flagged = np.flatnonzero(scored.flags)
    known = np.where(np.isfinite(scored.features), scored.surprise, -np.inf)
    unusual[flagged, known[flagged].argmax(axis=1)] = True
    for i in np.flatnonzero(unusual.any(axis=1)):
        features = np.flatnonzero(unusual[i])
        order = features[np.argsort(-scored.surprise[i, features], kind="stable")]
        reasons[i] = [_reason(model, scored, int(i), int(j)) for j in order]
    return reasons
