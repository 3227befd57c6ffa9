"""The recommender table: every candidate name has a variant that fits, scores and finds similar
items on small data, and each setting evaluates the candidates it always has."""

from typing import get_args

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from app.config import RecommenderMethod
from app.recommend.purchases import pair_matrix
from app.recommend.scorers import (
    CANDIDATES,
    VARIANTS,
    Candidate,
    Factors,
    ease_weights,
    fit,
    weighted,
)
from tests.factories import recommender_config, taste_purchases


def _quantities() -> csr_matrix:
    purchases = taste_purchases()
    return pair_matrix(purchases, purchases.quantity, ~np.isnan(purchases.last))


def test_every_candidate_name_has_a_variant() -> None:
    assert set(VARIANTS) == set(get_args(Candidate))


def test_each_setting_evaluates_its_candidates_in_order() -> None:
    assert CANDIDATES == {
        "auto": ("SVD-binary", "SVD-log", "ALS", "EASE"),
        "SVD": ("SVD-binary", "SVD-log"),
        "ALS": ("ALS",),
        "EASE": ("EASE",),
    }
    assert set(CANDIDATES) == set(get_args(RecommenderMethod))


@pytest.mark.parametrize("name", get_args(Candidate))
def test_every_variant_fits_and_scores_small_data(name: Candidate) -> None:
    matrix = weighted(_quantities(), name)
    users, items = matrix.shape

    scorer = fit(name, matrix, recommender_config("auto", 20 * 20 * 4 / 2**20))

    scores = scorer.scores(np.arange(5))
    assert scores.shape == (5, items)
    assert np.isfinite(scores).any(axis=1).all()
    for user in range(5):
        one, covered = scorer.user_scores(user)
        assert one.dtype == np.float32
        expected = scores[user] if covered is None else scores[user][covered]
        assert np.allclose(one, expected, rtol=1e-5, atol=1e-6)
        if covered is not None:
            assert np.isneginf(np.delete(scores[user], covered)).all()
    assert scorer.similar(0).shape == (items,)
    assert all(isinstance(scorer.covers(user), bool) for user in range(users))


def test_factors_cover_every_user() -> None:
    scorer = fit("SVD-binary", weighted(_quantities(), "SVD-binary"), recommender_config())

    assert isinstance(scorer, Factors)
    assert scorer.covers(0)


@pytest.mark.parametrize(("name", "scaled"), [("SVD-binary", 1.0), ("SVD-log", np.log1p(3.0))])
def test_quantities_are_weighted_on_the_candidates_scale(name: Candidate, scaled: float) -> None:
    quantities = csr_matrix(np.array([[3.0, 0.0], [0.0, 3.0]], dtype=np.float32))

    np.testing.assert_allclose(weighted(quantities, name).data, [scaled, scaled], rtol=1e-6)
    assert quantities.data.tolist() == [3.0, 3.0]


def test_ease_weights_solve_the_closed_form() -> None:
    rng = np.random.default_rng(3)
    dense = (rng.random((40, 12)) < 0.3).astype(np.float32)
    from scipy.sparse import csr_matrix

    weights = ease_weights(csr_matrix(dense), lam=5.0)

    inverse = np.linalg.inv(dense.T @ dense + 5.0 * np.eye(12))
    expected = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(weights, expected, atol=1e-5)
