"""The anomaly model's features, read from the data points a client sends.

Pure numpy: the points are checked and turned into one numeric matrix, or `InvalidInput` names
the first bad point and field."""

from typing import Any

import numpy as np

from app.errors import InvalidInput, brief

AMOUNT = "totalAmount"
QUANTITY = "quantity"
FEATURES = [AMOUNT, QUANTITY]
FEATURE_ALIASES = {"totalPrice": AMOUNT}


def canonical_features(requested: list[str], known_features: list[str]) -> list[str]:
    """The model's features in its own order, once the request is seen to name exactly them
    (aliases allowed); `InvalidInput` otherwise."""
    canonical = list(dict.fromkeys(FEATURE_ALIASES.get(f, f) for f in requested))
    unknown = [f for f in requested if FEATURE_ALIASES.get(f, f) not in known_features]
    known = ", ".join(known_features)
    if unknown:
        raise InvalidInput(
            f"Unknown feature(s) {', '.join(map(repr, unknown))}: the anomaly model scores "
            f"{known} (totalPrice is accepted for totalAmount)."
        )
    if sorted(canonical) != sorted(known_features):
        raise InvalidInput(f"features must name every feature the model scores: {known}.")
    return known_features


def feature_values(points: list[dict[str, Any]], features: list[str]) -> np.ndarray:
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
