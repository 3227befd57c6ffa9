"""The held-out evaluation of every training: each candidate is fitted on the pairs bought
before the cut-off and scored on the products each user bought after it and not before, beside
recent popularity."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from app.config import POPULAR_DAYS
from app.recommend.purchases import DAY, Purchases, pair_matrix, recent_popularity
from app.recommend.scorers import Candidate, Sizes, fit, weighted

POPULAR = "popular"
TOP_K = 10
EVAL_MAX_USERS = 10_000  # users scored by the evaluation, a seeded sample beyond that
_BATCH = 256  # users scored at once by the evaluation


@dataclass(frozen=True)
class HeldOut:
    """The evaluation's split: what was bought before the cut-off, and after it for the first
    time, for the users active on both sides (a seeded sample of them beyond EVAL_MAX_USERS)."""

    train: csr_matrix
    test: csr_matrix
    users: np.ndarray
    popularity: np.ndarray


def held_out(purchases: Purchases) -> HeldOut:
    before = ~np.isnan(purchases.last_before)
    train = pair_matrix(purchases, purchases.quantity_before, before)
    new = ~np.isnan(purchases.last) & ~purchases.bought_before
    test = pair_matrix(purchases, np.ones(len(before), dtype=np.float32), new)
    active = np.flatnonzero((np.diff(train.indptr) > 0) & (np.diff(test.indptr) > 0))
    if len(active) > EVAL_MAX_USERS:
        active = np.sort(np.random.default_rng(0).choice(active, EVAL_MAX_USERS, replace=False))
    window = purchases.cutoff - POPULAR_DAYS * DAY
    recent = np.where(before & (purchases.last_before >= window), 1.0, 0.0)
    popular = recent_popularity(purchases.items[before], recent[before], len(purchases.item_ids))
    return HeldOut(train, test, active, popular)


def evaluate(
    held: HeldOut, candidates: tuple[Candidate, ...], sizes: Sizes
) -> dict[str, dict[str, float]]:
    """Precision, recall, NDCG and hit rate at 10 and catalogue coverage of each candidate and
    of recent popularity, on the held-out users; empty when no user is active on both sides."""
    if len(held.users) == 0 or held.train.nnz == 0:
        return {}
    table = {POPULAR: _metrics(lambda rows: np.tile(held.popularity, (len(rows), 1)), held)}
    for candidate in candidates:
        scorer = fit(candidate, weighted(held.train, candidate), sizes)
        table[candidate] = _metrics(scorer.scores, held)
        del scorer
    return table


def _metrics(score: Callable[[np.ndarray], np.ndarray], held: HeldOut) -> dict[str, float]:
    sums = {"precision_at_10": 0.0, "recall_at_10": 0.0, "ndcg_at_10": 0.0, "hit_rate_at_10": 0.0}
    shown: set[int] = set()
    k = min(TOP_K, held.train.shape[1])  # a catalogue of fewer than 10 products shows them all
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for start in range(0, len(held.users), _BATCH):
        rows = held.users[start : start + _BATCH]
        scores = np.asarray(score(rows), dtype=np.float32)
        history = held.train[rows]
        scores[np.repeat(np.arange(len(rows)), np.diff(history.indptr)), history.indices] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        truth = held.test[rows].toarray() > 0
        hits = np.take_along_axis(truth, top, axis=1)
        relevant = truth.sum(axis=1)
        ideal = np.cumsum(discounts)[np.minimum(relevant, k) - 1]
        sums["precision_at_10"] += float((hits.sum(axis=1) / k).sum())
        sums["recall_at_10"] += float((hits.sum(axis=1) / relevant).sum())
        sums["ndcg_at_10"] += float(((hits * discounts).sum(axis=1) / ideal).sum())
        sums["hit_rate_at_10"] += float(hits.any(axis=1).sum())
        shown.update(np.unique(top).tolist())
    n = len(held.users)
    return {
        **{key: round(total / n, 5) for key, total in sums.items()},
        "coverage": round(len(shown) / held.train.shape[1], 5),
        "users_evaluated": float(n),
    }
