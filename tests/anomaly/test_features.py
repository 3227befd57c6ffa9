"""Features derived from what a point carries."""

import numpy as np
import pytest

from app.anomaly.features import FEATURE_NAMES, Points, derive, read_points, valid_number


def test_unit_price_and_log_features_are_derived_from_amount_and_quantity() -> None:
    points = read_points([{"totalAmount": 30.0, "quantity": 3, "productId": "a"}])

    features = derive(points, np.array([5.0]), np.array([1.5]))

    assert FEATURE_NAMES == ["log_amount", "log_unit_price", "price_ratio", "quantity_ratio"]
    np.testing.assert_allclose(
        features[0], [np.log1p(30.0), np.log1p(10.0), np.log(2.0), np.log(2.0)]
    )


def test_total_price_is_an_alias_of_total_amount() -> None:
    points = read_points([{"totalPrice": 12.5, "quantity": 1}])

    assert points.amount.tolist() == [12.5]
    assert points.product_ids == [None]


def test_without_a_reference_price_or_a_price_there_is_no_price_ratio() -> None:
    """No reference, a meaningless one, or a free item (nothing was charged to compare)."""
    points = Points(np.array([10.0, 10.0, 0.0]), np.array([1.0, 1.0, 2.0]), ["a", None, "b"])

    features = derive(points, np.array([np.nan, 0.0, 4.0]), np.ones(3))

    assert np.isnan(features[:, 2]).all()
    assert np.isfinite(features[:, [0, 1, 3]]).all()


def test_a_zero_quantity_keeps_the_amount_as_unit_price() -> None:
    points = Points(np.array([40.0]), np.array([0.0]), [None])

    assert points.unit_price.tolist() == [40.0]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (3, True),
        (2.5, True),
        (0, True),
        (-1, False),
        (True, False),
        ("3", False),
        (None, False),
        (float("nan"), False),
    ],
)
def test_stored_values_are_checked_before_scoring(value: object, valid: bool) -> None:
    assert valid_number(value) is valid


def test_only_string_product_ids_count() -> None:
    points = read_points(
        [
            {"totalAmount": 1, "quantity": 1, "productId": 7},
            {"totalAmount": 1, "quantity": 1, "productId": ""},
            {"totalAmount": 1, "quantity": 1, "productId": "p"},
        ]
    )

    assert points.product_ids == [None, None, "p"]
