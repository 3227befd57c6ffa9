import pickle
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import issparse

from app.errors import NotEnoughData, OverBudget
from app.recommend.evaluation import POPULAR
from app.recommend.model import ModelType, Purchases, Recommender, train_recommender
from app.recommend.scorers import CANDIDATES, Candidate, Factors, ItemWeights, fit
from tests.factories import (
    NOW,
    category_of,
    recommender_config,
    taste_events,
    taste_purchases,
)

EVERY_ITEM = np.ones(30, dtype=bool)
NOTHING = np.array([], dtype=np.int64)


@pytest.fixture(scope="module")
def model() -> Recommender:
    return train_recommender(taste_purchases(), recommender_config())


def _products(model: Recommender, ranked: list[tuple[int, float]]) -> list[str]:
    return [str(model.item_ids[item]) for item, _ in ranked]


def test_every_candidate_beats_popularity_on_a_planted_taste(model: Recommender) -> None:
    table = model.evaluation

    assert set(table) == {POPULAR, "SVD-binary", "SVD-log", "ALS", "EASE"}
    for candidate in set(table) - {POPULAR}:
        assert table[candidate]["ndcg_at_10"] > 1.5 * table[POPULAR]["ndcg_at_10"], candidate
        assert 0 < table[candidate]["coverage"] <= 1
        assert table[candidate]["users_evaluated"] == table[POPULAR]["users_evaluated"] > 0
    assert model.served == max(set(table) - {POPULAR}, key=lambda c: table[c]["ndcg_at_10"])
    assert model.metrics["ndcg_at_10"] == table[model.served]["ndcg_at_10"]
    assert model.metrics[f"{POPULAR}.hit_rate_at_10"] == table[POPULAR]["hit_rate_at_10"]
    assert model.metrics["users"] == 60


@pytest.mark.parametrize("model_type", ["SVD", "ALS", "EASE"])
def test_users_are_recommended_the_category_they_prefer(model_type: ModelType) -> None:
    model = train_recommender(taste_purchases(), recommender_config(model_type))
    assert model.served in CANDIDATES[model_type]
    matches: Counter[bool] = Counter()
    for user in range(0, 60):
        code = model.user(f"u{user}")
        assert code is not None
        ranked = model.recommend(code, 3, EVERY_ITEM, model.bought(code))
        preferred = ("Books", "Toys", "Sports")[user % 3]
        matches.update(category_of(p) == preferred for p in _products(model, ranked))

    assert matches[True] / sum(matches.values()) > 0.75  # a third by chance


def test_recommendations_leave_out_bought_and_disallowed_items_before_the_cut(
    model: Recommender,
) -> None:
    user = model.user("u1")
    assert user is not None
    allowed = EVERY_ITEM.copy()
    allowed[[10, 11, 12]] = False
    banned = np.concatenate([model.bought(user), [model.item("p13") or 0]])

    ranked = model.recommend(user, 8, allowed, banned)

    items = [item for item, _ in ranked]
    assert len(items) == 8
    assert not set(items) & set(banned.tolist())
    assert all(allowed[items])
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_popular_items_are_ordered_by_recent_distinct_buyers() -> None:
    events = taste_events()
    model = train_recommender(taste_purchases(events), recommender_config())
    recent = events[events["date"] >= NOW.timestamp() - 28 * 86_400]
    buyers = recent.groupby("productId")["userId"].nunique()

    ranked = model.popular(5, EVERY_ITEM, NOTHING)

    counts = [buyers[p] for p in _products(model, ranked)]
    assert counts == sorted(buyers, reverse=True)[:5]


def test_similar_products_share_the_category_and_leave_out_the_product(
    model: Recommender,
) -> None:
    for product in ("p2", "p15", "p27"):
        item = model.item(product)
        assert item is not None

        similar = _products(model, model.similar(item, 5, EVERY_ITEM))

        assert product not in similar
        assert sum(category_of(p) == category_of(product) for p in similar) >= 4


def test_auto_fits_ease_on_the_most_bought_products_over_the_memory_budget() -> None:
    tiny_budget = 30 * 30 * 4 / 2**20 / 2  # half of what 30 products need: 21 fit

    model = train_recommender(taste_purchases(), recommender_config("auto", tiny_budget))

    assert "EASE" not in model.evaluation
    assert {"SVD-binary", "SVD-log", "ALS", "EASE-top"} <= set(model.evaluation)
    top = fit("EASE-top", model.seen, recommender_config("auto", tiny_budget))
    assert isinstance(top, ItemWeights)
    buyers = np.bincount(model.seen.indices, minlength=30)
    assert len(top.items) == 21
    assert buyers[top.items].min() >= np.delete(buyers, top.items).max()
    scores = top.scores(np.arange(5))
    assert np.isneginf(np.delete(scores, top.items, axis=1)).all()
    assert np.isfinite(scores[:, top.items]).all()
    uncovered = int(np.delete(np.arange(30), top.items)[0])
    assert np.isneginf(top.similar(uncovered)).all()


def test_auto_fits_ease_on_the_most_bought_products_beyond_its_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.recommend.scorers.EASE_TOP_ITEMS", 20)

    auto = train_recommender(taste_purchases(), recommender_config("auto"))
    explicit = train_recommender(taste_purchases(), recommender_config("EASE"))

    assert "EASE" not in auto.evaluation
    assert "EASE-top" in auto.evaluation
    top = fit("EASE-top", auto.seen, recommender_config("auto"))
    assert isinstance(top, ItemWeights)
    assert len(top.items) == 20
    assert set(explicit.evaluation) == {"EASE", "popular"}


def test_an_explicit_ease_over_the_memory_budget_is_refused() -> None:
    with pytest.raises(OverBudget, match="RECOMMEND_MAX_MODEL_MB"):
        train_recommender(taste_purchases(), recommender_config("EASE", 0.001))


def test_the_model_stays_sparse_and_survives_pickling(model: Recommender) -> None:
    copy = pickle.loads(pickle.dumps(model))
    user = model.user("u7")
    assert user is not None

    assert issparse(model.seen)
    assert model.seen.shape == (60, 30)
    assert isinstance(model.scorer, Factors | ItemWeights)
    assert copy.recommend(user, 4, EVERY_ITEM, NOTHING) == model.recommend(
        user, 4, EVERY_ITEM, NOTHING
    )
    assert copy.item("p3") == model.item("p3")
    assert copy.user("nobody") is None


def test_users_with_few_products_are_not_personal(model: Recommender) -> None:
    events = pd.concat(
        [taste_events(), pd.DataFrame([("newbie", "p1", 1, NOW.timestamp() - 3600)],
                                      columns=["userId", "productId", "quantity", "date"])]
    )  # fmt: skip
    model = train_recommender(taste_purchases(events), recommender_config())
    newbie = model.user("newbie")

    assert newbie is not None
    assert not model.personal(newbie)
    assert model.personal(model.user("u1") or 0)


def test_too_few_users_or_items_are_refused() -> None:
    tiny = Purchases.from_events(
        pd.DataFrame({"userId": ["u1", "u1"], "productId": ["p1", "p2"], "quantity": [1, 2],
                      "date": [0.0, 1.0]}),
        cutoff=0.5,
        end=2.0,
    )  # fmt: skip

    with pytest.raises(NotEnoughData, match="at least 2 users"):
        train_recommender(tiny, recommender_config())


def test_a_model_that_loses_to_popular_picks_serves_them_to_everyone(model: Recommender) -> None:
    users = [u for u in range(len(model.user_ids)) if model.personal(u)]
    served = model.evaluation[model.served]
    worse = {**model.evaluation, "popular": {**served, "ndcg_at_10": served["ndcg_at_10"] + 0.01}}

    losing = replace(model, evaluation=worse)

    assert users
    assert model.beats_popular
    assert not losing.beats_popular
    assert not any(losing.personal(u) for u in users)


def test_a_catalogue_of_fewer_than_ten_products_is_evaluated_on_all_of_them() -> None:
    purchases = taste_purchases()
    few = purchases.items < 8
    small = replace(
        purchases,
        item_ids=purchases.item_ids[:8],
        **{
            name: getattr(purchases, name)[few]
            for name in ("users", "items", "quantity", "quantity_before", "last", "last_before",
                         "bought_before")
        },
    )  # fmt: skip

    model = train_recommender(small, recommender_config())

    assert len(model.item_ids) == 8
    assert model.evaluation["popular"]["users_evaluated"] > 0
    for row in model.evaluation.values():
        assert 0 < row["ndcg_at_10"] <= 1
        assert row["coverage"] <= 1


def test_a_user_with_nothing_ease_top_covers_gets_popular_picks(model: Recommender) -> None:
    user = next(u for u in range(len(model.user_ids)) if model.personal(u))
    uncovered = np.setdiff1d(np.arange(len(model.item_ids)), model.seen[user].indices)[:5]
    weights = ItemWeights(
        weights=np.zeros((5, 5), dtype=np.float32),
        histories=model.seen[:, uncovered],
        items=uncovered,
        n_items=len(model.item_ids),
    )

    assert not replace(model, scorer=weights).personal(user)


@pytest.mark.parametrize("model_type", ["SVD", "EASE"])
def test_a_model_saved_when_its_scorers_lived_in_the_model_module_still_loads(
    model_type: ModelType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions saved before the scorers moved to `app.recommend.scorers` name their classes
    `app.recommend.model.Factors` and `app.recommend.model.ItemWeights`: they load, and
    recommend the same."""
    model = train_recommender(taste_purchases(), recommender_config(model_type))
    scorer_class = type(model.scorer)
    with monkeypatch.context() as patched:
        patched.setattr(scorer_class, "__module__", "app.recommend.model")
        saved = pickle.dumps(model)
    assert b"app.recommend.model" in saved
    assert b"app.recommend.scorers" not in saved

    loaded = pickle.loads(saved)

    assert type(loaded.scorer) is scorer_class
    user = model.user(str(model.user_ids[0]))
    assert user is not None
    nothing = np.array([], dtype=np.int64)
    allowed = np.ones(len(model.item_ids), dtype=bool)
    assert loaded.recommend(user, 5, allowed, nothing) == model.recommend(user, 5, allowed, nothing)


@pytest.mark.parametrize("candidate", ["SVD-binary", "SVD-log", "ALS", "EASE", "EASE-top"])
def test_the_request_path_ranks_as_the_straightforward_computation(
    model: Recommender, candidate: Candidate
) -> None:
    budget = 12 * 12 * 4 / 2**20  # EASE-top: the 12 most bought of the 30 products
    served = replace(model, scorer=fit(candidate, model.seen, recommender_config("auto", budget)))
    allowed = EVERY_ITEM.copy()
    allowed[::4] = False
    for user in range(len(served.user_ids)):
        bought = served.bought(user)
        scores = served.scorer.scores(np.array([user]))[0].astype(np.float64)
        scores[~allowed] = -np.inf
        scores[bought] = -np.inf
        expected = [i for i in np.argsort(-scores, kind="stable") if np.isfinite(scores[i])][:5]

        ranked = served.recommend(user, 5, allowed, bought)

        items, ranked_scores = [item for item, _ in ranked], [score for _, score in ranked]
        assert np.allclose(ranked_scores, scores[expected], rtol=1e-5, atol=1e-6)
        assert np.allclose(ranked_scores, scores[items], rtol=1e-5, atol=1e-6)  # ties may swap
        if len(set(np.round(scores[np.isfinite(scores)], 5))) == np.isfinite(scores).sum():
            assert items == expected
