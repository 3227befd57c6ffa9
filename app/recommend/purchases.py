"""The (user, product) pairs a recommender learns from, and the sparse matrices and popularity
both the training and its evaluation build from them."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

if TYPE_CHECKING:
    import pandas as pd

DAY = 86_400.0


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


def pair_matrix(purchases: Purchases, values: np.ndarray, keep: np.ndarray) -> csr_matrix:
    """The `keep` pairs' values as a users x items matrix."""
    result = csr_matrix(
        (values[keep].astype(np.float32), (purchases.users[keep], purchases.items[keep])),
        shape=(len(purchases.user_ids), len(purchases.item_ids)),
    )
    result.sum_duplicates()
    return result


def recent_popularity(items: np.ndarray, recent: np.ndarray, n_items: int) -> np.ndarray:
    """Distinct recent buyers per item; distinct buyers of the window break ties."""
    recent_buyers = np.bincount(items, weights=recent, minlength=n_items)
    all_buyers = np.bincount(items, minlength=n_items)
    result: np.ndarray = recent_buyers + all_buyers / (all_buyers.max() + 1.0)
    return result
