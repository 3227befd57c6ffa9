"""The recommender's reads: user x product purchase counts summed by MongoDB for training, and
for each request the catalogue details and past purchases of the candidate products.

pandas is imported by the training query, not with this module: the API imports it, and must
answer before the data stack has loaded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from cachetools import TTLCache
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.database import database_errors
from app.core.transactions import sales_filter

if TYPE_CHECKING:
    import pandas as pd

# Documents per cursor batch: each batch is decoded on the event loop, so small batches keep
# health and predictions answering while a training reads a large result.
_BATCH = 2_000
_PRODUCT_CACHE_MAX = 100_000
T = TypeVar("T")
ProductDetails = dict[str, Any]


class RecommendQueries:
    """Reads the producer's collections through the field names set in configuration. One
    instance serves the application, so that its product cache is shared."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], settings: Settings) -> None:
        self._s = settings
        self._transactions = db[settings.TRANSACTIONS_COLLECTION]
        self._products = db[settings.PRODUCTS_COLLECTION]
        self._product_cache: TTLCache[str, ProductDetails] | None = (
            TTLCache(maxsize=_PRODUCT_CACHE_MAX, ttl=settings.PRODUCT_CACHE_SECONDS)
            if settings.PRODUCT_CACHE_SECONDS > 0
            else None
        )
        self._request_seconds = settings.MONGODB_TIMEOUT_MS / 1000

    async def user_item_interactions(self, start: datetime, min_items: int) -> pd.DataFrame:
        """Quantity bought per (user, product) since `start`, for users who bought at least
        `min_items` distinct products. Ids come back as categoricals to keep memory small."""
        import pandas as pd

        s = self._s
        user, product = f"${s.TRANSACTION_USER_FIELD}", f"${s.TRANSACTION_PRODUCT_FIELD}"
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    **sales_filter(s, start),
                    s.TRANSACTION_USER_FIELD: {"$type": "string"},
                    s.TRANSACTION_PRODUCT_FIELD: {"$type": "string"},
                }
            },
            {
                "$group": {
                    "_id": {"u": user, "p": product},
                    "q": {"$sum": f"${s.TRANSACTION_QUANTITY_FIELD}"},
                }
            },
            {"$group": {"_id": "$_id.u", "items": {"$push": {"p": "$_id.p", "q": "$q"}}}},
            {"$match": {"$expr": {"$gte": [{"$size": "$items"}, min_items]}}},
            {"$unwind": "$items"},
            {"$project": {"_id": 0, "u": "$_id", "p": "$items.p", "q": "$items.q"}},
        ]
        users: dict[str, int] = {}
        items: dict[str, int] = {}
        user_codes: list[int] = []
        item_codes: list[int] = []
        quantities: list[float] = []
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=_BATCH)
            async for row in cursor:
                user_codes.append(users.setdefault(row["u"], len(users)))
                item_codes.append(items.setdefault(row["p"], len(items)))
                quantities.append(float(row["q"] or 0))
        return pd.DataFrame(
            {
                "userId": pd.Categorical.from_codes(user_codes, categories=list(users)),
                "productId": pd.Categorical.from_codes(item_codes, categories=list(items)),
                "quantity": np.asarray(quantities, dtype=np.float64),
            }
        )

    async def products(self, product_ids: list[str]) -> dict[str, ProductDetails]:
        """Name, category, price and stock of the given products, keyed by product id.

        Details read in the last PRODUCT_CACHE_SECONDS are reused: recommendations ask for the
        same products again and again, names rarely change, and stock that old is fine for a
        recommendation. Products absent from the catalogue are asked for again each time."""
        cache = self._product_cache
        known = {p: d for p in product_ids if cache is not None and (d := cache.get(p)) is not None}
        missing = [p for p in product_ids if p not in known]
        if missing:
            async with database_errors(self._request_seconds):
                found = await self._read_products(missing)
            if cache is not None:
                cache.update(found)
            known.update(found)
        return known

    async def _read_products(self, product_ids: list[str]) -> dict[str, dict[str, Any]]:
        s = self._s
        fields = {
            "productName": s.PRODUCT_NAME_FIELD,
            "category": s.PRODUCT_CATEGORY_FIELD,
            "price": s.PRODUCT_PRICE_FIELD,
            "stock": s.PRODUCT_STOCK_FIELD,
        }
        projection = {"_id": 0, s.PRODUCT_ID_FIELD: 1, **{f: 1 for f in fields.values()}}
        docs = await self._products.find(
            {s.PRODUCT_ID_FIELD: {"$in": product_ids}}, projection
        ).to_list()
        return {
            str(d[s.PRODUCT_ID_FIELD]): {
                "productName": _as(str, d.get(fields["productName"])),
                "category": _as(str, d.get(fields["category"])),
                "price": _as(float, d.get(fields["price"])),
                "stock": _as(int, d.get(fields["stock"])),
            }
            for d in docs
        }

    async def bought_among(self, user_id: str, product_ids: list[str]) -> set[str]:
        """Which of the given products the user ever has a transaction for, whatever its status
        or date. Asking about candidates only keeps the (user, product) index range small."""
        s = self._s
        query = {
            s.TRANSACTION_USER_FIELD: user_id,
            s.TRANSACTION_PRODUCT_FIELD: {"$in": product_ids},
        }
        async with database_errors(self._request_seconds):
            found = await self._transactions.distinct(s.TRANSACTION_PRODUCT_FIELD, query)
        return {str(p) for p in found}


def _as(kind: Callable[[Any], T], value: Any) -> T | None:
    """The value converted, or None: the catalogue is the producer's, not ours to trust."""
    try:
        return None if value is None else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
