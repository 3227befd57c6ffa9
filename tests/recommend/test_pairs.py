"""The pairs of a training read, coded as they arrive and turned into `Purchases` at the end."""

import math

import numpy as np

from app.recommend.pairs import PairColumns

NAN = math.nan


def test_pairs_become_purchases_coded_by_first_sale_without_unsold_products() -> None:
    pairs = PairColumns()
    rows = [
        ("u1", "never-sold", (0.0, 0.0, NAN, NAN, 1.0)),
        ("u0", "b", (0.0, 0.0, NAN, NAN, 0.0)),  # b is sold by u2 below: kept, not a sale
        ("u1", "a", (2.0, 1.0, 20.0, 5.0, 1.0)),
        ("u2", "b", (3.0, 0.0, 30.0, NAN, 0.0)),
        ("u3", "never-sold", (0.0, 0.0, NAN, NAN, 0.0)),
    ]
    for user, product, values in rows:
        pairs.add(user, product, values)

    purchases = pairs.purchases(cutoff=10.0, end=40.0)

    assert len(pairs) == 5
    assert purchases.item_ids.tolist() == ["a", "b"]  # in the order of their first sale
    assert purchases.user_ids.tolist() == ["u0", "u1", "u2"]  # of the pairs kept, u3 has none
    assert purchases.users.tolist() == [0, 1, 2]
    assert purchases.items.tolist() == [1, 0, 1]
    assert purchases.quantity.tolist() == [0.0, 2.0, 3.0]
    assert purchases.quantity.dtype == purchases.quantity_before.dtype == np.float32
    assert purchases.quantity_before.tolist() == [0.0, 1.0, 0.0]
    np.testing.assert_array_equal(purchases.last, [NAN, 20.0, 30.0])
    np.testing.assert_array_equal(purchases.last_before, [NAN, 5.0, NAN])
    assert purchases.bought_before.tolist() == [False, True, False]
    assert (purchases.cutoff, purchases.end) == (10.0, 40.0)


def test_no_pair_is_no_purchase() -> None:
    purchases = PairColumns().purchases(cutoff=1.0, end=2.0)

    assert len(purchases.users) == len(purchases.user_ids) == len(purchases.item_ids) == 0
