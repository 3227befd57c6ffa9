import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import issparse

from app.errors import NotEnoughData
from app.recommend.model import train_recommender
from tests.factories import interactions


def test_user_gets_items_of_their_taste_they_did_not_buy() -> None:
    data = interactions()
    model = train_recommender(data, n_components=4)
    bought = set(data.loc[data.userId == "u1", "productId"])

    ranked = model.recommend("u1", 3)

    items = [item for item, _ in ranked]
    assert not set(items) & bought
    assert items[0].startswith("b")
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_exclusions_are_applied_before_the_cut() -> None:
    model = train_recommender(interactions(), n_components=4)
    best = [item for item, _ in model.recommend("u1", 3)]

    ranked = model.recommend("u1", 3, exclude={best[0]})

    assert len(ranked) == 3
    assert best[0] not in [item for item, _ in ranked]


def test_popular_items_are_ordered_by_quantity_bought() -> None:
    data = interactions()
    model = train_recommender(data, n_components=4)
    totals = data.groupby("productId")["quantity"].sum().sort_values(ascending=False)

    ranked = model.popular(4, exclude={totals.index[0]})

    assert [s for _, s in ranked] == sorted(totals.iloc[1:5].tolist(), reverse=True)
    assert totals.index[0] not in [item for item, _ in ranked]


def test_unknown_users_are_not_known_and_matrix_stays_sparse() -> None:
    model = train_recommender(interactions(), n_components=4)

    assert not model.knows("nobody")
    assert model.knows("u3")
    assert issparse(model.seen)
    assert model.user_factors.shape == (20, 4)
    assert model.item_factors.shape == (4, 12)


def test_survives_pickling() -> None:
    model = train_recommender(interactions(), n_components=4)

    copy = pickle.loads(pickle.dumps(model))

    assert copy.recommend("u12", 2) == model.recommend("u12", 2)
    np.testing.assert_array_equal(copy.popularity, model.popularity)


def test_too_few_users_or_items_are_refused() -> None:
    tiny = pd.DataFrame({"userId": ["u1", "u1"], "productId": ["p1", "p2"], "quantity": [1, 2]})

    with pytest.raises(NotEnoughData, match="at least 2 users"):
        train_recommender(tiny, n_components=4)
