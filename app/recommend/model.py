"""Collaborative filtering: TruncatedSVD on a sparse user x item matrix of purchased quantities.

Users and items are kept as factors, so a user's scores are one row times the item factors;
the full matrix is never rebuilt, nor made dense."""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.decomposition import TruncatedSVD

from app.errors import NotEnoughData

Ranked = list[tuple[str, float]]


@dataclass
class Recommender:
    """Factors of known users and items, what each user bought, and items by popularity."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    seen: csr_matrix
    popularity: np.ndarray
    n_components: int
    metrics: dict[str, float] = field(default_factory=dict)
    _user_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._user_index = {str(u): i for i, u in enumerate(self.user_ids)}

    def __getstate__(self) -> dict[str, object]:
        """The user index is rebuilt on load rather than stored twice."""
        state = self.__dict__.copy()
        del state["_user_index"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def knows(self, user_id: str) -> bool:
        return user_id in self._user_index

    def recommend(self, user_id: str, n: int, exclude: AbstractSet[str] = frozenset()) -> Ranked:
        """Top `n` items for a known user, best first; items the user bought (in the training
        data) or listed in `exclude` are removed before the cut, so up to `n` remain."""
        row = self._user_index[user_id]
        scores = self.user_factors[row] @ self.item_factors
        banned = self._mask(exclude)
        banned[self.seen.indices[self.seen.indptr[row] : self.seen.indptr[row + 1]]] = True
        return self._top(np.where(banned, -np.inf, scores), n)

    def popular(self, n: int, exclude: AbstractSet[str] = frozenset()) -> Ranked:
        """The `n` most bought items, most popular first, skipping `exclude`."""
        scores = np.where(self._mask(exclude), -np.inf, self.popularity)
        return self._top(scores, n)

    def _mask(self, exclude: AbstractSet[str]) -> np.ndarray:
        return (
            np.isin(self.item_ids, list(exclude))
            if exclude
            else np.zeros(len(self.item_ids), dtype=bool)
        )

    def _top(self, scores: np.ndarray, n: int) -> Ranked:
        n = min(n, int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(str(self.item_ids[i]), float(scores[i])) for i in best]


def train_recommender(interactions: pd.DataFrame, n_components: int) -> Recommender:
    """Fits on rows of (userId, productId, quantity), ids as pandas categoricals or strings."""
    users = pd.Categorical(interactions["userId"])
    items = pd.Categorical(interactions["productId"])
    n_users, n_items = len(users.categories), len(items.categories)
    if n_users < 2 or n_items < 3:
        raise NotEnoughData(
            f"Recommendations need purchases by at least 2 users of at least 3 products; found "
            f"{n_users} users and {n_items} products. Load transactions or lower "
            "MIN_INTERACTIONS_FOR_RECOMMENDATION."
        )
    matrix = csr_matrix(
        (interactions["quantity"].to_numpy(dtype=np.float64), (users.codes, items.codes)),
        shape=(n_users, n_items),
    )
    matrix.sum_duplicates()
    k = min(n_components, n_items - 1, n_users - 1)
    svd = TruncatedSVD(n_components=k, random_state=42)
    user_factors = svd.fit_transform(matrix).astype(np.float32)
    return Recommender(
        user_ids=np.asarray(users.categories, dtype=object),
        item_ids=np.asarray(items.categories, dtype=object),
        user_factors=user_factors,
        item_factors=svd.components_.astype(np.float32),
        seen=matrix,
        popularity=np.asarray(matrix.sum(axis=0)).ravel(),
        n_components=k,
        metrics={
            "users": float(n_users),
            "items": float(n_items),
            "interactions": float(matrix.nnz),
            "density": float(matrix.nnz / (n_users * n_items)),
            "explained_variance_ratio": float(svd.explained_variance_ratio_.sum()),
        },
    )
