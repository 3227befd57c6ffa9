"""The served recommender and its training: every candidate of the configured type is evaluated
on the last days held out (see `evaluation`), and the best by NDCG@10 refitted on the whole
window, within a memory budget. Purchases are the signal: one entry per (user, product) pair of
the window. Nothing here is ever a users x items dense array: matrices are sparse CSR, and the
scorers (see `scorers`) keep factors or, for EASE, an items x items matrix within the budget
(EASE-top: over the most bought products only, when the whole catalogue would not fit)."""

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix

from app.config import POPULAR_DAYS, RecommenderMethod
from app.errors import NotEnoughData, OverBudget
from app.recommend import scorers
from app.recommend.evaluation import POPULAR, evaluate, held_out
from app.recommend.inputs import Config, RecommendInput
from app.recommend.purchases import DAY, pair_matrix, recent_popularity
from app.recommend.purchases import Purchases as Purchases
from app.recommend.scorers import Candidate, Scorer

# Saved models hold these scorers under this module's name: they must stay importable from it.
from app.recommend.scorers import Factors as Factors
from app.recommend.scorers import ItemWeights as ItemWeights

ModelType = RecommenderMethod


Ranked = list[tuple[int, float]]


@dataclass
class Recommender:
    """The served model: ids, what each known user bought in the window, the fitted scorer,
    recent popularity for everyone else, and the evaluation table of its training."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    seen: csr_matrix  # users x items, the pairs of the window as the scorer was fitted on
    older: csr_matrix  # users x items, pairs with transactions but no sale in the window
    scorer: Scorer
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
        enough = len(_row(self.seen, user)) >= self.min_items
        return self.scorer.covers(user) and self.beats_popular and enough

    def recommend(self, user: int, n: int, allowed: np.ndarray, bought: np.ndarray) -> Ranked:
        """The `n` best `allowed` items for a known user, leaving out `bought` (item codes).
        BLAS runs one thread in a serving process (`serve_on_one_blas_thread`)."""
        scorers.serve_on_one_blas_thread()
        scores, items = self.scorer.user_scores(user)
        if items is None:
            return _top(scores, n, allowed, bought)
        ranked = _top(scores, n, allowed[items], _positions(items, bought))
        return [(int(items[i]), score) for i, score in ranked]

    def popular(self, n: int, allowed: np.ndarray, bought: np.ndarray) -> Ranked:
        return _top(self.popularity, n, allowed, bought)

    def similar(self, item: int, n: int, allowed: np.ndarray) -> Ranked:
        scorers.serve_on_one_blas_thread()
        return _top(self.scorer.similar(item), n, allowed, np.array([item]))


def _row(matrix: csr_matrix, user: int) -> np.ndarray:
    items: np.ndarray = matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]]
    return items


def _positions(items: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Where the item `codes` that are among the ascending `items` stand in them."""
    found = np.searchsorted(items, codes)
    inside = found < len(items)
    found = found[inside]
    result: np.ndarray = found[items[found] == codes[inside]]
    return result


def _top(scores: np.ndarray, n: int, allowed: np.ndarray, banned: np.ndarray) -> Ranked:
    """The `n` highest finite scores among allowed items, best first, by partial sort, in the
    scores' own precision (float32 for a model's)."""
    scores = np.where(allowed, scores, -np.inf)
    scores[banned] = -np.inf
    n = min(n, len(scores))
    if n <= 0:
        return []
    best = np.argpartition(scores, len(scores) - n)[len(scores) - n :]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best if np.isfinite(scores[i])]


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
    held = held_out(purchases)
    evaluation = evaluate(held, candidates, config)
    served = _best(candidates, evaluation)
    seen = scorers.weighted(pair_matrix(purchases, purchases.quantity, sold), served)
    recent = (purchases.last[sold] >= purchases.end - POPULAR_DAYS * DAY).astype(np.float64)
    model = Recommender(
        user_ids=purchases.user_ids,
        item_ids=purchases.item_ids,
        seen=seen,
        older=pair_matrix(purchases, np.ones(len(sold), dtype=np.float32), ~sold),
        scorer=scorers.fit(served, seen, config),
        popularity=recent_popularity(purchases.items[sold], recent, n_items),
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
    ease_mb = n_items * n_items * scorers.FLOAT_BYTES / 2**20
    candidates = scorers.CANDIDATES[config.model_type]
    whole = config.model_type != "auto" or n_items <= scorers.EASE_TOP_ITEMS
    if ease_mb <= config.max_model_mb and whole:
        return candidates
    if config.model_type == "EASE":
        raise OverBudget(
            f"EASE needs {ease_mb:,.0f} MB for {n_items:,} products, over RECOMMEND_MAX_MODEL_MB "
            f"({config.max_model_mb:,.0f}). Raise it, or set RECOMMENDER_MODEL_TYPE to auto "
            "(which fits EASE on the most bought products that fit), SVD or ALS."
        )
    top: tuple[Candidate, ...] = ("EASE-top",) if scorers.top_items(config) >= 3 else ()
    return tuple(c for c in candidates if c != "EASE") + (top if "EASE" in candidates else ())


def _best(candidates: tuple[Candidate, ...], evaluation: dict[str, dict[str, float]]) -> Candidate:
    """The candidate of highest NDCG@10; the first one when none could be evaluated."""
    scored = [c for c in candidates if c in evaluation]
    if not scored:
        return candidates[0]
    return max(scored, key=lambda c: evaluation[c]["ndcg_at_10"])


def fit_model(data: RecommendInput) -> Recommender:
    """The worker process's entry point (`RecommendService.fit`)."""
    return train_recommender(data.purchases, data.config)
