"""The recommenders a training may fit, by name, each scoring items for users of a users x items
purchase matrix. Adding one: a class with the `Scorer` methods, a builder and its entry in
VARIANTS, and its name in `Candidate`.

- `SVD-binary`, `SVD-log`: truncated SVD of the binary or log(1 + quantity) matrix;
- `ALS`: implicit's alternating least squares on the binary matrix;
- `EASE`: Steck's closed-form item-item model, an items x items matrix;
- `EASE-top`: EASE over the most bought products only, which `auto` evaluates in place of EASE
  when the whole catalogue's matrix would not fit RECOMMEND_MAX_MODEL_MB.

Nothing here is ever a users x items dense array: models keep factors ((users + items) x k) or
an items x items matrix."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal, Protocol, get_args

import numpy as np
from scipy.sparse import csr_matrix

from app.config import RecommenderMethod

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

Candidate = Literal["SVD-binary", "SVD-log", "ALS", "EASE", "EASE-top"]
Scale = Literal["binary", "log"]
EASE_LAMBDA = 300.0
# EASE-top: EASE on this many of the most bought products at most (fewer when the budget asks).
# On The Complete Journey, 5,000 did as well as 11,585 (the most 512 MB holds), 6x faster.
EASE_TOP_ITEMS = 5_000
ALS_ALPHA = 2.0
ALS_REGULARIZATION = 0.05
ALS_ITERATIONS = 15
FLOAT_BYTES = 4


class Scorer(Protocol):
    def scores(self, rows: np.ndarray, /) -> np.ndarray:
        """Every item's score for each user row (rows x items); -inf for an item it cannot
        score."""

    def user_scores(self, user: int, /) -> tuple[np.ndarray, np.ndarray | None]:
        """One user's scores as `scores` has them, in float32, for the item codes returned with
        them (None: every item, in order; EASE-top: the items it covers, the others being
        -inf): a request's path, built from the model's arrays alone."""

    def similar(self, item: int, /) -> np.ndarray:
        """Every item's similarity to this one."""

    def covers(self, user: int, /) -> bool:
        """Whether the user's purchases give the scorer anything to score with."""


class Sizes(Protocol):
    """What a fit may take: factors (SVD, ALS) and the memory of an items x items matrix."""

    @property
    def components(self) -> int: ...

    @property
    def max_model_mb(self) -> float: ...


@dataclass
class Factors:
    """Latent factors (SVD, ALS): a user's scores are their row times the item factors."""

    user: np.ndarray  # users x k, float32
    item: np.ndarray  # items x k, float32

    def scores(self, rows: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.user[rows] @ self.item.T
        return result

    def user_scores(self, user: int) -> tuple[np.ndarray, None]:
        return self.item @ self.user[user], None

    def similar(self, item: int) -> np.ndarray:
        """Cosine similarity of every item's factors to this item's."""
        norms = np.linalg.norm(self.item, axis=1)
        norms[norms == 0] = 1.0
        result: np.ndarray = (self.item @ self.item[item]) / (norms * norms[item])
        return result

    def covers(self, _user: int) -> bool:
        return True


@dataclass
class ItemWeights:
    """EASE: a user's scores are the sum of the weight rows of the items they bought, over the
    `items` the weights cover (every item, or for EASE-top the most bought); other items get
    -inf."""

    weights: np.ndarray  # covered x covered, float32
    histories: csr_matrix  # users x covered, binary
    items: np.ndarray  # the item codes covered, ascending
    n_items: int

    def scores(self, rows: np.ndarray) -> np.ndarray:
        result = np.full((len(rows), self.n_items), -np.inf, dtype=np.float32)
        result[:, self.items] = self.histories[rows] @ self.weights
        return result

    def user_scores(self, user: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The user's weighted sum of the rows of the items they bought, read from the CSR
        arrays (no one-row sparse matrix is built), for the items covered."""
        histories = self.histories
        start, stop = histories.indptr[user], histories.indptr[user + 1]
        covered: np.ndarray = (
            histories.data[start:stop] @ self.weights[histories.indices[start:stop]]
        )
        return covered, None if len(self.items) == self.n_items else self.items

    def similar(self, item: int) -> np.ndarray:
        result = np.full(self.n_items, -np.inf, dtype=np.float32)
        position = int(np.searchsorted(self.items, item))
        if position < len(self.items) and self.items[position] == item:
            result[self.items] = self.weights[position]
        return result

    def covers(self, user: int) -> bool:
        """EASE-top has no signal for a user none of whose products it covers."""
        indptr = self.histories.indptr
        return bool(indptr[user + 1] > indptr[user])


@dataclass(frozen=True)
class Variant:
    """A named recommender: how it is fitted, on which scale of the purchase matrix, and the
    RECOMMENDER_MODEL_TYPE that evaluates it besides `auto` (None: only ever evaluated in
    place of another, by the training's memory budget)."""

    build: Callable[[csr_matrix, Sizes], Scorer]
    scale: Scale
    model_type: RecommenderMethod | None


def _factor_count(matrix: csr_matrix, sizes: Sizes) -> int:
    return max(1, min(sizes.components, int(matrix.shape[1]) - 1, int(matrix.shape[0]) - 1))


def _svd(matrix: csr_matrix, sizes: Sizes) -> Scorer:
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=_factor_count(matrix, sizes), random_state=42)
    user = svd.fit_transform(matrix).astype(np.float32)
    return Factors(user, np.ascontiguousarray(svd.components_.T, dtype=np.float32))


def _als(matrix: csr_matrix, sizes: Sizes) -> Scorer:
    """implicit's ALS on the binary matrix; its BLAS must run one thread."""
    from implicit.cpu.als import AlternatingLeastSquares

    with one_blas_thread():
        als = AlternatingLeastSquares(
            factors=_factor_count(matrix, sizes),
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


def _ease(matrix: csr_matrix, _sizes: Sizes) -> Scorer:
    n_items = matrix.shape[1]
    return ItemWeights(ease_weights(matrix), matrix, np.arange(n_items), n_items)


def _ease_top(matrix: csr_matrix, sizes: Sizes) -> Scorer:
    n_items = matrix.shape[1]
    buyers = np.bincount(matrix.indices, minlength=n_items)
    items = np.sort(np.argsort(-buyers, kind="stable")[: top_items(sizes)])
    covered = matrix[:, items].tocsr()
    return ItemWeights(ease_weights(covered), covered, items, n_items)


# In the order `auto` evaluates them: the first one is served when none could be evaluated.
VARIANTS: dict[Candidate, Variant] = {
    "SVD-binary": Variant(_svd, "binary", "SVD"),
    "SVD-log": Variant(_svd, "log", "SVD"),
    "ALS": Variant(_als, "binary", "ALS"),
    "EASE": Variant(_ease, "binary", "EASE"),
    "EASE-top": Variant(_ease_top, "binary", None),
}
# The candidates each RECOMMENDER_MODEL_TYPE evaluates.
CANDIDATES: dict[RecommenderMethod, tuple[Candidate, ...]] = {
    model_type: tuple(
        name
        for name, variant in VARIANTS.items()
        if variant.model_type is not None and model_type in ("auto", variant.model_type)
    )
    for model_type in get_args(RecommenderMethod)
}


def fit(candidate: Candidate, matrix: csr_matrix, sizes: Sizes) -> Scorer:
    """Fits one candidate on a users x items matrix already on its scale (see `weighted`)."""
    return VARIANTS[candidate].build(matrix, sizes)


def weighted(matrix: csr_matrix, candidate: Candidate) -> csr_matrix:
    """The purchase quantities on the candidate's scale: binary, or log(1 + quantity), so that
    bulk orders do not dominate the factors."""
    result = matrix.copy()
    if VARIANTS[candidate].scale == "binary":
        result.data = np.ones_like(result.data)
    else:
        result.data = np.log1p(np.maximum(result.data, 1.0)).astype(np.float32)
    return result


def top_items(sizes: Sizes) -> int:
    """How many products EASE-top covers: what the budget holds, at most EASE_TOP_ITEMS."""
    within = int(np.sqrt(sizes.max_model_mb * 2**20 / FLOAT_BYTES))
    return min(EASE_TOP_ITEMS, within)


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


@cache
def _blas() -> "ThreadpoolController":
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[object]:
    limited: AbstractContextManager[object] = _blas().limit(limits=1, user_api="blas")
    return limited


@cache
def serve_on_one_blas_thread() -> None:
    """Limits BLAS to one thread for the rest of the process, once: the process serving
    requests scores one user at a time, and for one user's scores waking a second thread cost
    more than the product (up to 12 ms at the 99th percentile on a busy 2-core machine), while
    setting the limit around each call cost more than the product too."""
    _blas().limit(limits=1, user_api="blas")
