"""The anomaly model's features, derived from what a data point carries.

A point brings an amount (`totalAmount`, alias `totalPrice`), a quantity and, when the client
has it, a `productId`. From them: the log amount, the log unit price, the log ratio of the unit
price to a reference price for the product (its median unit price in the training window, or
else its catalogue price), and the log ratio of the quantity to the product's median quantity in
the training window (or, for a product without one, to the median quantity of all products: a
shop sells fuel by the litre and shirts one at a time).

A point without a product, or with a product that neither knows, has no price ratio; nor has a
free item (amount 0: no price was charged to compare). Such a point is scored on the other
features (see `EmpiricalTails.surprise`), never on a made-up zero.

Pure numpy: the points are checked and turned into arrays, or `InvalidInput` names the first bad
point and field."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import InvalidInput, brief

AMOUNT = "totalAmount"
QUANTITY = "quantity"
PRODUCT = "productId"
REQUEST_FEATURES = [AMOUNT, QUANTITY]
FEATURE_ALIASES = {"totalPrice": AMOUNT}
FEATURE_NAMES = ["log_amount", "log_unit_price", "price_ratio", "quantity_ratio"]
PRICE_RATIO = FEATURE_NAMES.index("price_ratio")
QUANTITY_RATIO = FEATURE_NAMES.index("quantity_ratio")
_LOG_LIMIT = 700.0  # about the log of the largest float
_MIN_QUANTITY = 0.5  # a zero quantity's ratio is taken at half a unit, not log(0)


@dataclass(frozen=True)
class Points:
    """The values of a batch of points, one array each, in the batch's order."""

    amount: np.ndarray
    quantity: np.ndarray
    product_ids: list[str | None]

    @property
    def unit_price(self) -> np.ndarray:
        """Amount per unit; a zero quantity keeps the whole amount as its unit price."""
        with np.errstate(over="ignore"):  # an amount near a float's limit: inf, clipped later
            per_unit = self.amount / np.maximum(self.quantity, 1e-12)
        unit: np.ndarray = np.where(self.quantity > 0, per_unit, self.amount)
        return unit


def derive(
    points: Points, reference_price: np.ndarray, reference_quantity: np.ndarray
) -> np.ndarray:
    """The feature matrix (columns in FEATURE_NAMES order). `reference_price` is NaN where the
    point has none, and then so is its price ratio, as for a free item."""
    unit = points.unit_price
    usable = np.isfinite(reference_price) & (reference_price > 0) & (unit > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        price_ratio = np.where(usable, np.log(unit / reference_price), np.nan)
        quantity_ratio = np.log(np.maximum(points.quantity, _MIN_QUANTITY) / reference_quantity)
    features = np.column_stack(
        [np.log1p(points.amount), np.log1p(unit), price_ratio, quantity_ratio]
    )
    # Amounts near a float's limits: keep every feature finite (a missing one stays NaN).
    finite: np.ndarray = np.clip(features, -_LOG_LIMIT, _LOG_LIMIT)
    return finite


def check_requested(requested: list[str]) -> None:
    """The request's `features` must name the amount and the quantity (aliases allowed), as
    the backend sends them; `InvalidInput` otherwise."""
    canonical = list(dict.fromkeys(FEATURE_ALIASES.get(f, f) for f in requested))
    unknown = [f for f in requested if FEATURE_ALIASES.get(f, f) not in REQUEST_FEATURES]
    known = ", ".join(REQUEST_FEATURES)
    if unknown:
        raise InvalidInput(
            f"Unknown feature(s) {', '.join(map(repr, unknown))}: the anomaly model scores "
            f"{known} (totalPrice is accepted for totalAmount)."
        )
    if sorted(canonical) != sorted(REQUEST_FEATURES):
        raise InvalidInput(f"features must name every feature the model scores: {known}.")


def read_points(points: list[dict[str, Any]]) -> Points:
    """The points' amounts, quantities and product ids (only those fields are read, whatever
    else the points hold), or `InvalidInput` naming the first bad point and field."""
    amount, quantity = (_numbers(points, feature) for feature in REQUEST_FEATURES)
    product_ids = [_product_id(point.get(PRODUCT)) for point in points]
    return Points(amount, quantity, product_ids)


def _numbers(points: list[dict[str, Any]], feature: str) -> np.ndarray:
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
    return numbers


def valid_number(value: Any) -> bool:
    """Whether a stored value is an amount or quantity the model can score."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
        and value >= 0
    )


def _product_id(value: Any) -> str | None:
    """A product id as the producer writes it (a string); anything else counts as absent."""
    return value if isinstance(value, str) and value else None


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
