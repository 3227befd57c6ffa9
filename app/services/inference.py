"""What each prediction endpoint does, between the HTTP layer and the live models."""

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from app.errors import InvalidInput, brief
from app.models.model_manager import ModelManager
from app.services.data_processor import AMOUNT, DataProcessor

if TYPE_CHECKING:  # the ML modules load in the background, after the API answers
    from app.models.anomaly_detection import AnomalyModel
    from app.models.forecasting import ForecastModel
    from app.models.recommendation import Ranked, Recommender

FEATURE_ALIASES = {"totalPrice": AMOUNT}
ROOM = 10  # extra candidates ranked, for products the user bought or the catalogue lacks
RECOMMEND_ROUNDS = 3


async def forecast_sales(manager: ModelManager, horizon: int, now: datetime) -> dict[str, Any]:
    """Forecasts from today (UTC), whose sales are not complete yet, for `horizon` days."""
    import pandas as pd  # loaded with the model already; not at import, see data_processor

    model: ForecastModel = manager.live("forecast")
    today = pd.Timestamp(now.astimezone(UTC).date())
    first_day = max(today, model.last_day + pd.Timedelta(days=1))
    predicted = await asyncio.to_thread(model.forecast, first_day, horizon)
    return {
        "message": f"Sales forecast for the next {horizon} days, from "
        f"{first_day.date()}, based on sales up to {model.last_day.date()}.",
        "forecast": [
            {"date": day.date(), "predicted_sales": round(float(value), 2)}
            for day, value in predicted.items()
        ],
        "model_type": model.model_type,
        "history_end": model.last_day.date(),
    }


def _canonical_features(requested: list[str], model: "AnomalyModel") -> list[str]:
    canonical = list(dict.fromkeys(FEATURE_ALIASES.get(f, f) for f in requested))
    unknown = [f for f in requested if FEATURE_ALIASES.get(f, f) not in model.feature_names]
    known = ", ".join(model.feature_names)
    if unknown:
        raise InvalidInput(
            f"Unknown feature(s) {', '.join(map(repr, unknown))}: the anomaly model scores "
            f"{known} (totalPrice is accepted for totalAmount)."
        )
    if sorted(canonical) != sorted(model.feature_names):
        raise InvalidInput(f"features must name every feature the model scores: {known}.")
    return model.feature_names


def _feature_values(points: list[dict[str, Any]], features: list[str]) -> np.ndarray:
    """The points as a numeric matrix (only the features are read, whatever else the points
    hold), or `InvalidInput` naming the first bad point and field."""
    columns = []
    for feature in features:
        aliases = [a for a, target in FEATURE_ALIASES.items() if target == feature]
        raw = [_first_present(point, [feature, *aliases]) for point in points]
        numbers = np.fromiter(map(_number, raw), dtype=np.float64, count=len(raw))
        bad = ~np.isfinite(numbers) | (numbers < 0)
        if bad.any():
            i = int(np.argmax(bad))
            also = f" (or {', '.join(aliases)})" if aliases else ""
            if raw[i] is None:
                raise InvalidInput(f"data_points[{i}] has no value for '{feature}'{also}.")
            rule = "must not be negative" if numbers[i] < 0 else "must be a finite number"
            raise InvalidInput(f"data_points[{i}].{feature} {rule}, got {brief(raw[i])}.")
        columns.append(numbers)
    return np.column_stack(columns)


def _first_present(point: dict[str, Any], keys: list[str]) -> Any:
    return next((point[k] for k in keys if point.get(k) is not None), None)


def _number(value: Any) -> float:
    """A JSON value as a float: numbers and numeric strings; NaN for anything else, booleans
    included, and infinity for what overflows a float."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | str):
        return np.nan
    try:
        return float(value)
    except ValueError:
        return np.nan
    except OverflowError:
        return np.inf


async def detect_anomalies(
    manager: ModelManager, points: list[dict[str, Any]], requested_features: list[str]
) -> list[dict[str, Any]]:
    """Scores every point in one vectorised call; an empty batch is an empty answer."""
    if not points:
        return []
    model: AnomalyModel = manager.live("anomaly")
    features = _canonical_features(requested_features, model)
    values = await asyncio.to_thread(_feature_values, points, features)
    scores, flags = await asyncio.to_thread(model.score, values)
    return [
        {
            "is_anomaly": bool(flag),
            "anomaly_score": float(score),
            "data": point,
            "details": dict(zip(features, map(float, row), strict=True)),
        }
        for point, score, flag, row in zip(points, scores, flags, values, strict=True)
    ]


def _named(
    ranked: "Ranked", details: dict[str, dict[str, Any]], bought: set[str]
) -> list[dict[str, Any]]:
    """Ranked products the user has not bought and the catalogue names, best first."""
    return [
        {**details[item], "productId": item, "score": round(score, 6)}
        for item, score in ranked
        if item not in bought and details.get(item, {}).get("productName")
    ]


async def recommend_products(
    manager: ModelManager, data: DataProcessor, user_id: str, count: int
) -> dict[str, Any]:
    """Personal recommendations for a known user, popular products otherwise. Products the user
    ever bought, and products missing from the catalogue, are left out before the cut.

    Candidates are ranked with some room; which of them the user bought and their catalogue
    details are read concurrently. When too many were left out, the ranking is redone without
    them, a bounded number of times."""
    model: Recommender = manager.live("recommend")
    known = model.knows(user_id)
    left_out: set[str] = set()
    picked: list[dict[str, Any]] = []
    for _ in range(RECOMMEND_ROUNDS):
        ranked = (
            model.recommend(user_id, count + ROOM, left_out)
            if known
            else model.popular(count + ROOM, left_out)
        )
        candidates = [item for item, _ in ranked]
        bought, details = await asyncio.gather(
            data.bought_among(user_id, candidates), data.products(candidates)
        )
        picked = _named(ranked, details, bought)
        if len(picked) >= count or len(ranked) < count + ROOM:
            break
        left_out |= set(candidates) - {p["productId"] for p in picked}
    if known:
        strategy, message = (
            "personalized",
            f"Recommendations for user {user_id} generated successfully.",
        )
    else:
        strategy, message = (
            "popular",
            (
                f"No personal recommendations for user {user_id} (unknown, or too few purchases); "
                "returning the most popular products they have not bought."
            ),
        )
    return {
        "message": message,
        "user_id": user_id,
        "strategy": strategy,
        "recommendations": picked[:count],
    }
