"""Recommenders fitted on who bought what, evaluated on the last days held out at every training.

Purchases are the signal: one entry per (user, product) pair of the window. Every candidate is
fitted on the pairs bought before the cut-off and scored on the products each user bought
after it and not before; `auto` serves the best by NDCG@10, refitted on the whole window.
Nothing here is ever a users x items dense array: matrices are sparse CSR, models keep factors
((users + items) x k) or, for EASE, an items x items matrix within a memory budget (EASE-top:
over the most bought products only, when the whole catalogue would not fit)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.sparse import csr_matrix

from app.config import POPULAR_DAYS
from app.errors import NotEnoughData, OverBudget

if TYPE_CHECKING:
    import pandas as pd
    from threadpoolctl import ThreadpoolController

ModelType = Literal["auto", "SVD", "ALS", "EASE"]
Scale = Literal["binary", "log"]
Candidate = Literal["SVD-binary", "SVD-log", "ALS", "EASE", "EASE-top"]
POPULAR = "popular"
TOP_K = 10
EASE_LAMBDA = 300.0
# EASE-top: EASE on this many of the most bought products at most (fewer when the budget asks).
# On The Complete Journey, 5,000 did as well as 11,585 (the most 512 MB holds), 6x faster.
EASE_TOP_ITEMS = 5_000
ALS_ALPHA = 2.0
ALS_REGULARIZATION = 0.05
ALS_ITERATIONS = 15
EVAL_MAX_USERS = 10_000  # users scored by the evaluation, a seeded sample beyond that
_BATCH = 256  # users scored at once by the evaluation
_DAY = 86_400.0
_FLOAT_BYTES = 4
CANDIDATES: dict[ModelType, tuple[Candidate, ...]] = {
    "auto": ("SVD-binary", "SVD-log", "ALS", "EASE"),
    "SVD": ("SVD-binary", "SVD-log"),
    "ALS": ("ALS",),
    "EASE": ("EASE",),
}


@dataclass(frozen=True)
class Purchases:
    """The (user, product) pairs as MongoDB grouped them. Dates are epoch seconds; `last` is
    NaN for a pair not sold in the window (it only tells what the user must not be shown),
    `last_before` for one not sold in the window before the evaluation's cut-off;
    `bought_before` says whether the pair has any transaction before the cut-off, whatever its
    status or date."""

    user_ids: np.ndarray  # str per user code
    item_ids: np.ndarray  # str per item code
    users: np.ndarray  # int32 user code per pair
    items: np.ndarray  # int32 item code per pair
    quantity: np.ndarray  # float32, over the window
    quantity_before: np.ndarray  # float32, before the cut-off
    last: np.ndarray  # float64, last purchase
    last_before: np.ndarray  # float64, last purchase before the cut-off, or NaN
    bought_before: np.ndarray  # bool
    cutoff: float
    end: float

    @classmethod
    def from_events(cls, events: "pd.DataFrame", cutoff: float, end: float) -> "Purchases":
        """The same grouping as the service's MongoDB read, for purchases already in memory
        (benchmarks, tests): columns userId, productId, quantity, date (epoch seconds)."""
        import pandas as pd

        events = events.assign(
            before=events["date"] < cutoff,
            users=pd.Categorical(events["userId"]),
            items=pd.Categorical(events["productId"]),
        )
        events["quantity_before"] = events["quantity"].where(events["before"], 0.0)
        events["date_before"] = events["date"].where(events["before"])
        pairs = events.groupby(
            [events["users"].cat.codes, events["items"].cat.codes], sort=False
        ).agg(
            quantity=("quantity", "sum"),
            quantity_before=("quantity_before", "sum"),
            last=("date", "max"),
            last_before=("date_before", "max"),
        )
        return cls(
            user_ids=np.asarray(events["users"].cat.categories, dtype=object),
            item_ids=np.asarray(events["items"].cat.categories, dtype=object),
            users=pairs.index.get_level_values(0).to_numpy(np.int32),
            items=pairs.index.get_level_values(1).to_numpy(np.int32),
            quantity=pairs["quantity"].to_numpy(np.float32),
            quantity_before=pairs["quantity_before"].to_numpy(np.float32),
            last=pairs["last"].to_numpy(np.float64),
            last_before=pairs["last_before"].to_numpy(np.float64),
            bought_before=pairs["last_before"].notna().to_numpy(),
            cutoff=cutoff,
            end=end,
        )


@dataclass(frozen=True)
class Config:
    model_type: ModelType
    components: int
    max_model_mb: float
    min_items: int  # distinct products a user needs for personal recommendations


@dataclass
class Factors:
    """Latent factors (SVD, ALS): a user's scores are their row times the item factors."""

    user: np.ndarray  # users x k, float32
    item: np.ndarray  # items x k, float32

    def scores(self, rows: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.user[rows] @ self.item.T
        return result

    def similar(self, item: int) -> np.ndarray:
        """Cosine similarity of every item's factors to this item's."""
        norms = np.linalg.norm(self.item, axis=1)
        norms[norms == 0] = 1.0
        result: np.ndarray = (self.item @ self.item[item]) / (norms * norms[item])
        return result


@dataclass
class ItemWeights:
    """EASE: a user's scores are the sum of the weight rows of the items they bought, over the
    `items` the weights cover (every item, or for EASE-top the most bought); other items get
    no score (-inf) and are never recommended."""

    weights: np.ndarray  # covered x covered, float32, zero diagonal
    histories: csr_matrix  # users x covered, binary
    items: np.ndarray  # the item codes covered, ascending
    n_items: int

    def scores(self, rows: np.ndarray) -> np.ndarray:
        result = np.full((len(rows), self.n_items), -np.inf, dtype=np.float32)
        result[:, self.items] = self.histories[rows] @ self.weights
        return result

    def similar(self, item: int) -> np.ndarray:
        result = np.full(self.n_items, -np.inf, dtype=np.float32)
        position = int(np.searchsorted(self.items, item))
        if position < len(self.items) and self.items[position] == item:
            result[self.items] = self.weights[position]
        return result


Ranked = list[tuple[int, float]]


@dataclass
class Recommender:
    """The served model: ids, what each known user bought in the window, the fitted scorer,
    recent popularity for everyone else, and the evaluation table of its training."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    seen: csr_matrix  # users x items, the pairs of the window as the scorer was fitted on
    older: csr_matrix  # users x items, pairs with transactions but no sale in the window
    scorer: Factors | ItemWeights
    popularity: np.ndarray  # distinct buyers of the last POPULAR_DAYS (ties: of the window)
    served: Candidate
    components: int
    min_items: int
    trained_until: float  # epoch seconds: purchases after it are read by the service
    evaluation: dict[str, dict[str, float]]
    metrics: dict[str, float] = field(default_factory=dict)
    _users: dict[str, int] = field(init=False, repr=False, compare=False)
    _items: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._users = {str(u): i for i, u in enumerate(self.user_ids)}
        self._items = {str(p): i for i, p in enumerate(self.item_ids)}

    def __getstate__(self) -> dict[str, object]:
        """The indexes are rebuilt on load rather than stored twice."""
        state = self.__dict__.copy()
        del state["_users"], state["_items"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def user(self, user_id: str) -> int | None:
        return self._users.get(user_id)

    def item(self, product_id: str) -> int | None:
        return self._items.get(product_id)

    def bought(self, user: int) -> np.ndarray:
        """Every product the user has a transaction for: never recommended to them."""
        return np.concatenate([_row(self.seen, user), _row(self.older, user)])

    @property
    def beats_popular(self) -> bool:
        """Whether the served model ranked the held-out purchases at least as well as popular
        picks (NDCG@10). When it did not, everyone gets popular picks. A training without an
        evaluation row for either trusts the model."""
        served, popular = self.evaluation.get(self.served), self.evaluation.get(POPULAR)
        if not served or not popular:
            return True
        return served["ndcg_at_10"] >= popular["ndcg_at_10"]

    def personal(self, user: int) -> bool:
        """Whether the user gets personal recommendations: the model beats popular picks, the
        user bought enough distinct products in the window, and (EASE-top) some of them are
        among the products the model covers."""
        if isinstance(self.scorer, ItemWeights) and self.scorer.histories[user].nnz == 0:
            return False  # none of their products is among those EASE-top covers: no signal
        return self.beats_popular and len(_row(self.seen, user)) >= self.min_items

    def recommend(self, user: int, n: int, allowed: np.ndarray, bought: np.ndarray) -> Ranked:
        """The `n` best `allowed` items for a known user, leaving out `bought` (item codes).
        BLAS runs one thread: for one user's scores, waking a second one cost more than the
        product, and up to 12 ms at the 99th percentile on a busy 2-core machine."""
        with _one_blas_thread():
            scores = self.scorer.scores(np.array([user]))[0]
        return _top(scores, n, allowed, bought)

    def popular(self, n: int, allowed: np.ndarray, bought: np.ndarray) -> Ranked:
        return _top(self.popularity, n, allowed, bought)

    def similar(self, item: int, n: int, allowed: np.ndarray) -> Ranked:
        with _one_blas_thread():
            scores = self.scorer.similar(item)
        return _top(scores, n, allowed, np.array([item]))


@cache
def _blas() -> "ThreadpoolController":
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[object]:
    limited: AbstractContextManager[object] = _blas().limit(limits=1, user_api="blas")
    return limited


def _row(matrix: csr_matrix, user: int) -> np.ndarray:
    items: np.ndarray = matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]]
    return items


def _top(scores: np.ndarray, n: int, allowed: np.ndarray, banned: np.ndarray) -> Ranked:
    """The `n` highest finite scores among allowed items, best first, by partial sort."""
    scores = np.where(allowed, scores, -np.inf).astype(np.float64)
    scores[banned] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return []
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]


def train_recommender(purchases: Purchases, config: Config) -> Recommender:
    """Evaluates the candidates of the configured type on the held-out days, then refits the
    best on the whole window."""
    sold = ~np.isnan(purchases.last)
    n_users, n_items = len(np.unique(purchases.users[sold])), len(purchases.item_ids)
    if n_users < 2 or n_items < 3:
        raise NotEnoughData(
            f"Recommendations need purchases by at least 2 users of at least 3 products; found "
            f"{n_users} users and {n_items} products. Load transactions or raise "
            "DATA_COLLECTION_DAYS."
        )
    candidates = _within_budget(config, n_items)
    held = _held_out(purchases)
    evaluation = evaluate(held, candidates, config)
    served = _best(candidates, evaluation)
    scale: Scale = "log" if served == "SVD-log" else "binary"
    seen = _weighted(_matrix(purchases, purchases.quantity, sold), scale)
    recent = (purchases.last[sold] >= purchases.end - POPULAR_DAYS * _DAY).astype(np.float64)
    model = Recommender(
        user_ids=purchases.user_ids,
        item_ids=purchases.item_ids,
        seen=seen,
        older=_matrix(purchases, np.ones(len(sold), dtype=np.float32), ~sold),
        scorer=fit(served, seen, config),
        popularity=_popularity(purchases.items[sold], recent, n_items),
        served=served,
        components=min(config.components, n_items - 1, n_users - 1),
        min_items=config.min_items,
        trained_until=purchases.end,
        evaluation=evaluation,
    )
    served_row = evaluation.get(served, {})
    model.metrics = {
        "users": float(n_users),
        "items": float(n_items),
        "interactions": float(seen.nnz),
        **served_row,
        **{
            f"{name}.{key}": value for name, row in evaluation.items() for key, value in row.items()
        },
    }
    return model


def _within_budget(config: Config, n_items: int) -> tuple[Candidate, ...]:
    """The configured candidates. EASE's items x items matrix is built whole when it fits
    RECOMMEND_MAX_MODEL_MB, and for `auto` only up to EASE_TOP_ITEMS products: beyond, `auto`
    has EASE-top instead (as good on The Complete Journey, while two inversions of a
    10,000-product matrix took `auto`'s training past a minute). An explicit EASE over the
    budget is refused."""
    ease_mb = n_items * n_items * _FLOAT_BYTES / 2**20
    candidates = CANDIDATES[config.model_type]
    whole = config.model_type != "auto" or n_items <= EASE_TOP_ITEMS
    if ease_mb <= config.max_model_mb and whole:
        return candidates
    if config.model_type == "EASE":
        raise OverBudget(
            f"EASE needs {ease_mb:,.0f} MB for {n_items:,} products, over RECOMMEND_MAX_MODEL_MB "
            f"({config.max_model_mb:,.0f}). Raise it, or set RECOMMENDER_MODEL_TYPE to auto "
            "(which fits EASE on the most bought products that fit), SVD or ALS."
        )
    top: tuple[Candidate, ...] = ("EASE-top",) if _top_items(config) >= 3 else ()
    return tuple(c for c in candidates if c != "EASE") + (top if "EASE" in candidates else ())


def _top_items(config: Config) -> int:
    """How many products EASE-top covers: what the budget holds, at most EASE_TOP_ITEMS."""
    within = int(np.sqrt(config.max_model_mb * 2**20 / _FLOAT_BYTES))
    return min(EASE_TOP_ITEMS, within)


def _best(candidates: tuple[Candidate, ...], evaluation: dict[str, dict[str, float]]) -> Candidate:
    """The candidate of highest NDCG@10; the first one when none could be evaluated."""
    scored = [c for c in candidates if c in evaluation]
    if not scored:
        return candidates[0]
    return max(scored, key=lambda c: evaluation[c]["ndcg_at_10"])


def _matrix(purchases: Purchases, values: np.ndarray, keep: np.ndarray) -> csr_matrix:
    matrix = csr_matrix(
        (values[keep].astype(np.float32), (purchases.users[keep], purchases.items[keep])),
        shape=(len(purchases.user_ids), len(purchases.item_ids)),
    )
    matrix.sum_duplicates()
    return matrix


def _weighted(matrix: csr_matrix, scale: Scale) -> csr_matrix:
    """Binary, or log(1 + quantity): bulk orders must not dominate the factors."""
    weighted = matrix.copy()
    if scale == "binary":
        weighted.data = np.ones_like(weighted.data)
    else:
        weighted.data = np.log1p(np.maximum(weighted.data, 1.0)).astype(np.float32)
    return weighted


def _popularity(items: np.ndarray, recent: np.ndarray, n_items: int) -> np.ndarray:
    """Distinct recent buyers per item; distinct buyers of the window break ties."""
    recent_buyers = np.bincount(items, weights=recent, minlength=n_items)
    all_buyers = np.bincount(items, minlength=n_items)
    result: np.ndarray = recent_buyers + all_buyers / (all_buyers.max() + 1.0)
    return result


def fit(candidate: Candidate, matrix: csr_matrix, config: Config) -> Factors | ItemWeights:
    """Fits one candidate on a users x items matrix (already binary or log-scaled)."""
    n_items = matrix.shape[1]
    if candidate == "EASE":
        return ItemWeights(ease_weights(matrix), matrix, np.arange(n_items), n_items)
    if candidate == "EASE-top":
        buyers = np.bincount(matrix.indices, minlength=n_items)
        items = np.sort(np.argsort(-buyers, kind="stable")[: _top_items(config)])
        covered = matrix[:, items].tocsr()
        return ItemWeights(ease_weights(covered), covered, items, n_items)
    k = max(1, min(config.components, n_items - 1, matrix.shape[0] - 1))
    if candidate == "ALS":
        return _als(matrix, k)
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=k, random_state=42)
    user = svd.fit_transform(matrix).astype(np.float32)
    return Factors(user, np.ascontiguousarray(svd.components_.T, dtype=np.float32))


def _als(matrix: csr_matrix, k: int) -> Factors:
    """implicit's ALS on the binary matrix; its BLAS must run one thread."""
    from implicit.cpu.als import AlternatingLeastSquares

    with _one_blas_thread():
        als = AlternatingLeastSquares(
            factors=k,
            regularization=ALS_REGULARIZATION,
            alpha=ALS_ALPHA,
            iterations=ALS_ITERATIONS,
            random_state=42,
        )
        als.fit(matrix.astype(np.float32), show_progress=False)
    return Factors(
        np.asarray(als.user_factors, dtype=np.float32),
        np.asarray(als.item_factors, dtype=np.float32),
    )


def ease_weights(matrix: csr_matrix, lam: float = EASE_LAMBDA) -> np.ndarray:
    """EASE (Steck, 2019) in closed form: B = I - P / diag(P), P = (X'X + lam I)^-1, in
    float32 and in place, so that memory holds one items x items matrix. X'X is summed over
    blocks of users, so no large sparse product is ever held."""
    from scipy.linalg import lapack

    n = matrix.shape[1]
    gram = np.zeros((n, n), dtype=np.float32)
    block = 5_000
    for start in range(0, matrix.shape[0], block):
        rows = matrix[start : start + block]
        product = (rows.T @ rows).tocoo()
        gram[product.row, product.col] += product.data
    gram[np.diag_indices(n)] += lam
    # LAPACK works on Fortran order: the transpose is that view of the same symmetric matrix.
    factor, info = lapack.spotrf(gram.T, lower=0, overwrite_a=1, clean=0)
    if info == 0:
        _, info = lapack.spotri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise ValueError(f"EASE: the regularised Gram matrix could not be inverted ({info})")
    _mirror_lower(gram)
    gram /= -np.diag(gram)[None, :]
    gram[np.diag_indices(n)] = 0.0
    return gram


def _mirror_lower(matrix: np.ndarray, block: int = 1_024) -> None:
    """Copies the lower triangle onto the upper one, block by block, in place."""
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        matrix[start:stop, stop:] = matrix[stop:, start:stop].T
        square = matrix[start:stop, start:stop]
        upper = np.triu_indices(stop - start, 1)
        square[upper] = square.T[upper]


@dataclass(frozen=True)
class HeldOut:
    """The evaluation's split: what was bought before the cut-off, and after it for the first
    time, for the users active on both sides (a seeded sample of them beyond EVAL_MAX_USERS)."""

    train: csr_matrix
    test: csr_matrix
    users: np.ndarray
    popularity: np.ndarray


def _held_out(purchases: Purchases) -> HeldOut:
    before = ~np.isnan(purchases.last_before)
    train = _matrix(purchases, purchases.quantity_before, before)
    new = ~np.isnan(purchases.last) & ~purchases.bought_before
    test = _matrix(purchases, np.ones(len(before), dtype=np.float32), new)
    active = np.flatnonzero((np.diff(train.indptr) > 0) & (np.diff(test.indptr) > 0))
    if len(active) > EVAL_MAX_USERS:
        active = np.sort(np.random.default_rng(0).choice(active, EVAL_MAX_USERS, replace=False))
    window = purchases.cutoff - POPULAR_DAYS * _DAY
    recent = np.where(before & (purchases.last_before >= window), 1.0, 0.0)
    popularity = _popularity(purchases.items[before], recent[before], len(purchases.item_ids))
    return HeldOut(train, test, active, popularity)


def evaluate(
    held: HeldOut, candidates: tuple[Candidate, ...], config: Config
) -> dict[str, dict[str, float]]:
    """Precision, recall, NDCG and hit rate at 10 and catalogue coverage of each candidate and
    of recent popularity, on the held-out users; empty when no user is active on both sides."""
    if len(held.users) == 0 or held.train.nnz == 0:
        return {}
    table = {POPULAR: _metrics(lambda rows: np.tile(held.popularity, (len(rows), 1)), held)}
    for candidate in candidates:
        scale: Scale = "log" if candidate == "SVD-log" else "binary"
        scorer = fit(candidate, _weighted(held.train, scale), config)
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
