"""The flag budget holds on days that differ from the training window, without letting a burst
of anomalies hide itself; the same data gives the same model."""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from app.anomaly.features import read_points
from app.anomaly.model import AnomalyModel, train_from_sample
from tests.factories import priced_sample, product_references

BUDGET = 0.02


def _points(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"totalAmount": d["amount"], "quantity": d["quantity"], "productId": d["productId"]}
        for d in rows
    ]


def _larger_orders(rows: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """Every order `factor` times larger (amount and quantity; the unit price is unchanged)."""
    return [{**d, "amount": d["amount"] * factor, "quantity": d["quantity"] * factor} for d in rows]


def _model(seed: int = 1) -> AnomalyModel:
    return train_from_sample(
        priced_sample(rows=6000, seed=seed), product_references(), {}, "ECOD", BUDGET
    )


def _flag_rate(model: AnomalyModel, rows: list[dict[str, Any]]) -> float:
    return float(model.score(read_points(_points(rows))).flags.mean())


def test_a_season_with_orders_half_as_large_again_keeps_the_flag_rate_near_its_budget() -> None:
    model = _model()
    last_week = _larger_orders(priced_sample(rows=3000, seed=7), 1.5)
    today = _larger_orders(priced_sample(rows=3000, seed=8), 1.5)
    fixed = dataclasses.replace(model, calibration=None)

    calibrated = model.recalibrated(read_points(_points(last_week)))

    assert _flag_rate(fixed, today) > 3 * BUDGET  # the threshold of the training window
    assert 0.5 * BUDGET <= _flag_rate(calibrated, today) <= 1.25 * BUDGET


def test_a_burst_of_anomalies_among_the_recent_days_is_still_caught() -> None:
    """One recent row in ten has its unit price ten times too high: the calibration must not
    lift the threshold above them."""
    model = _model()
    recent = priced_sample(rows=3000, seed=7)
    burst = {i for i in range(0, len(recent), 10)}
    for i in burst:
        recent[i] = {**recent[i], "amount": recent[i]["amount"] * 10}

    calibrated = model.recalibrated(read_points(_points(recent)))
    flags = calibrated.score(read_points(_points(recent))).flags

    assert calibrated.calibration is not None
    assert model.reference is not None
    assert calibrated.calibration.threshold <= model.reference.cutoffs["ceiling"]
    assert flags[sorted(burst)].mean() >= 0.9
    # A tenth of the rows moves the amounts' median a little: the real rows pay a little.
    assert np.delete(flags, sorted(burst)).mean() <= 2 * BUDGET


def test_the_model_is_calibrated_at_training_on_the_windows_last_days() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    old = priced_sample(rows=4000, seed=1)
    recent = _larger_orders(priced_sample(rows=2000, seed=2), 1.5)
    sample = [{**d, "date": now - timedelta(days=30)} for d in old]
    sample += [{**d, "date": now - timedelta(days=2)} for d in recent]

    model = train_from_sample(
        sample, product_references(), {}, "ECOD", BUDGET, now - timedelta(days=7)
    )

    assert model.calibration is not None
    assert model.calibration.recent_rows == len(recent)
    assert _flag_rate(model, _larger_orders(priced_sample(rows=3000, seed=3), 1.5)) <= 0.03


def test_two_trainings_on_the_same_data_give_the_same_scores() -> None:
    points = read_points(_points(priced_sample(rows=500, seed=5)))

    first, second = _model().score(points), _model().score(points)

    np.testing.assert_array_equal(first.scores, second.scores)
    assert first.severities == second.severities
