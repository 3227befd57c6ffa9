"""The (user, product) pairs of a training read, coded as the cursor yields them: two
dictionaries of ids and typed arrays (48 bytes a pair), rather than a tuple of Python objects
per pair, held until the end of the read. Turning them into `Purchases` is one vectorised step
that the read runs in a thread, off the event loop.

Only the standard library is imported here: the API imports the queries, and answers before the
data stack has loaded."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from app.recommend.purchases import Purchases

VALUES = 5  # per pair: quantity, quantity before the cut-off, last, last before, any before


class PairColumns:
    """Pairs in arrival order: user and product codes in order of first appearance, and the
    pair's VALUES numbers (dates in epoch seconds, NaN for none)."""

    def __init__(self) -> None:
        self._user_codes: dict[str, int] = {}
        self._product_codes: dict[str, int] = {}
        self._users = array("i")
        self._products = array("i")
        self._values = array("d")

    def __len__(self) -> int:
        return len(self._users)

    def add(self, user: str, product: str, values: tuple[float, ...]) -> None:
        codes = self._user_codes
        self._users.append(codes.setdefault(user, len(codes)))
        codes = self._product_codes
        self._products.append(codes.setdefault(product, len(codes)))
        self._values.extend(values)

    def purchases(self, cutoff: float, end: float) -> Purchases:
        """The pairs as `Purchases`: products coded in the order of their first sale, pairs of
        products never sold in the window dropped, users coded in the order of their first
        pair kept."""
        import numpy as np

        from app.recommend.purchases import Purchases

        users = np.frombuffer(self._users, dtype=np.intc)
        products = np.frombuffer(self._products, dtype=np.intc)
        values = np.frombuffer(self._values, dtype=np.float64).reshape(-1, VALUES)
        sold = ~np.isnan(values[:, 2])
        product_order = _first_seen(products[sold], len(self._product_codes))
        items = product_order[products]
        kept = items >= 0
        user_order = _first_seen(users[kept], len(self._user_codes))
        kept_values = values[kept]
        return Purchases(
            user_ids=_ids(self._user_codes, user_order),
            item_ids=_ids(self._product_codes, product_order),
            users=user_order[users[kept]],
            items=items[kept],
            quantity=kept_values[:, 0].astype(np.float32),
            quantity_before=kept_values[:, 1].astype(np.float32),
            last=kept_values[:, 2].copy(),
            last_before=kept_values[:, 3].copy(),
            bought_before=kept_values[:, 4] > 0,
            cutoff=cutoff,
            end=end,
        )


def _first_seen(codes: np.ndarray, count: int) -> np.ndarray:
    """For each of `count` codes, its rank by first appearance in `codes`; -1 when absent."""
    import numpy as np

    present, first = np.unique(codes, return_index=True)
    rank = np.full(count, -1, dtype=np.int32)
    rank[present[np.argsort(first, kind="stable")]] = np.arange(len(present), dtype=np.int32)
    return rank


def _ids(codes: dict[str, int], rank: np.ndarray) -> np.ndarray:
    """The ids of the ranked codes, in rank order."""
    import numpy as np

    ids = np.asarray(list(codes), dtype=object)
    ranked = np.flatnonzero(rank >= 0)
    result: np.ndarray = ids[ranked[np.argsort(rank[ranked], kind="stable")]]
    return result
