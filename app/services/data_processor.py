"""Every MongoDB query of the service. Aggregation pipelines do the counting and summing, so only
small, already-aggregated results reach Python, whatever the size of the collections.

pandas is imported by the training queries that build frames, not with this module: the API
imports it, and must answer before the data stack has loaded."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pymongo
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError

from app.config import Settings
from app.errors import DatabaseUnavailable

if TYPE_CHECKING:
    import pandas as pd

AMOUNT = "totalAmount"
QUANTITY = "quantity"
# Documents per cursor batch: each batch is decoded on the event loop, so small batches keep
# health and predictions answering while a training reads a large result.
_BATCH = 2_000
_PRODUCT_CACHE_MAX = 100_000
T = TypeVar("T")


@asynccontextmanager
async def _database_errors(seconds: float | None = None) -> AsyncIterator[None]:
    """Turns a lost connection, or a call that outlasts `seconds`, into the domain error the
    API answers with 503. Request-path calls are bounded so that a stalled server (up, but not
    answering) cannot hold a caller; training reads are not."""
    try:
        with pymongo.timeout(seconds):
            yield
    except PyMongoError as exc:
        if isinstance(exc, ConnectionFailure) or exc.timeout:
            raise DatabaseUnavailable(exc) from exc
        raise


class DataProcessor:
    """Reads the producer's collections through the field names set in configuration. One
    instance serves the application, so that its product cache is shared."""

    def __init__(self, db: AsyncDatabase, settings: Settings) -> None:
        self._s = settings
        self._transactions = db[settings.TRANSACTIONS_COLLECTION]
        self._products = db[settings.PRODUCTS_COLLECTION]
        self._product_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._request_seconds = settings.MONGODB_TIMEOUT_MS / 1000

    def _window(self, start: datetime, end: datetime | None = None) -> dict[str, Any]:
        bounds: dict[str, datetime] = {"$gte": start}
        if end is not None:
            bounds["$lt"] = end
        return {self._s.TRANSACTION_DATE_FIELD: bounds}

    def _sales_match(self, start: datetime, end: datetime | None = None) -> dict[str, Any]:
        return {
            **self._window(start, end),
            self._s.TRANSACTION_STATUS_FIELD: {"$nin": self._s.NON_SALE_STATUSES},
        }

    async def daily_sales(self, start: datetime, end: datetime) -> pd.Series:
        """Sales per UTC day in [start, end), dense: a day without transactions is a zero."""
        import pandas as pd

        s = self._s
        pipeline = [
            {"$match": self._sales_match(start, end)},
            {
                "$group": {
                    "_id": {"$dateTrunc": {"date": f"${s.TRANSACTION_DATE_FIELD}", "unit": "day"}},
                    "sales": {"$sum": f"${s.TRANSACTION_AMOUNT_FIELD}"},
                }
            },
        ]
        async with _database_errors():
            rows = await (await self._transactions.aggregate(pipeline)).to_list()
        days = pd.date_range(_utc_day(start), _utc_day(end - timedelta(days=1)), freq="D")
        if not rows:
            return pd.Series(0.0, index=days, name="sales")
        found = pd.Series(
            [float(r["sales"]) for r in rows],
            index=pd.DatetimeIndex([_utc_day(r["_id"]) for r in rows]),
        )
        return found.groupby(level=0).sum().reindex(days, fill_value=0.0).rename("sales")

    async def user_item_interactions(self, start: datetime, min_items: int) -> pd.DataFrame:
        """Quantity bought per (user, product) since `start`, for users who bought at least
        `min_items` distinct products. Ids come back as categoricals to keep memory small."""
        import pandas as pd

        s = self._s
        user, product = f"${s.TRANSACTION_USER_FIELD}", f"${s.TRANSACTION_PRODUCT_FIELD}"
        pipeline = [
            {
                "$match": {
                    **self._sales_match(start),
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
        async with _database_errors():
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

    async def transaction_sample(self, start: datetime, size: int) -> pd.DataFrame:
        """A random sample of at most `size` transactions since `start`: amount and quantity."""
        import pandas as pd

        s = self._s
        pipeline = [
            {"$match": self._window(start)},
            {"$sample": {"size": size}},
            {
                "$project": {
                    "_id": 0,
                    AMOUNT: f"${s.TRANSACTION_AMOUNT_FIELD}",
                    QUANTITY: f"${s.TRANSACTION_QUANTITY_FIELD}",
                }
            },
        ]
        async with _database_errors():
            rows = await (await self._transactions.aggregate(pipeline, batchSize=_BATCH)).to_list()
        frame = pd.DataFrame(rows, columns=[AMOUNT, QUANTITY])
        return frame.apply(pd.to_numeric, errors="coerce").dropna().astype(np.float64)

    async def products(self, product_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Name, category, price and stock of the given products, keyed by product id.

        Details read in the last PRODUCT_CACHE_SECONDS are reused: recommendations ask for the
        same products again and again, names rarely change, and stock that old is fine for a
        recommendation. Products absent from the catalogue are asked for again each time."""
        ttl, now = self._s.PRODUCT_CACHE_SECONDS, time.monotonic()
        known = {
            p: hit[1]
            for p in product_ids
            if (hit := self._product_cache.get(p)) is not None and now - hit[0] < ttl
        }
        missing = [p for p in product_ids if p not in known]
        if missing:
            async with _database_errors(self._request_seconds):
                found = await self._read_products(missing)
            if ttl > 0:
                if len(self._product_cache) > _PRODUCT_CACHE_MAX:
                    self._product_cache.clear()
                self._product_cache.update({p: (now, d) for p, d in found.items()})
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
        async with _database_errors(self._request_seconds):
            found = await self._transactions.distinct(s.TRANSACTION_PRODUCT_FIELD, query)
        return {str(p) for p in found}


def _as(kind: Callable[[Any], T], value: Any) -> T | None:
    """The value converted, or None: the catalogue is the producer's, not ours to trust."""
    try:
        return None if value is None else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _utc_day(moment: datetime) -> pd.Timestamp:
    """The UTC calendar day of a moment, as a naive midnight timestamp."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()
