"""The recommender's reads: the window's (user, product) pairs grouped by MongoDB for training,
then, in the background, the catalogue details of the model's products and the purchases made
since it was trained. No request waits for any of them.

numpy arrays and the model's types are imported by the reads, not with this module: the API
imports it, and must answer before the data stack has loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.database import database_errors
from app.core.transactions import sales_filter

if TYPE_CHECKING:
    from app.recommend.model import Purchases

# Documents per cursor batch: each batch is decoded on the event loop, so small batches keep
# health and predictions answering while a training reads a large result.
_BATCH = 2_000
_IDS_PER_QUERY = 5_000  # product ids per `$in` of a catalogue read
T = TypeVar("T")
ProductDetails = dict[str, Any]


class RecommendQueries:
    """Reads the producer's collections through the field names set in configuration."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], settings: Settings) -> None:
        self._s = settings
        self._transactions = db[settings.TRANSACTIONS_COLLECTION]
        self._products = db[settings.PRODUCTS_COLLECTION]
        self._pair = {
            "u": f"${settings.TRANSACTION_USER_FIELD}",
            "p": f"${settings.TRANSACTION_PRODUCT_FIELD}",
        }

    def _pairs(self, start: datetime, end: datetime | None = None) -> dict[str, Any]:
        """Sales of the window that name a user and a product."""
        s = self._s
        return {
            **sales_filter(s, start, end),
            s.TRANSACTION_USER_FIELD: {"$type": "string"},
            s.TRANSACTION_PRODUCT_FIELD: {"$type": "string"},
        }

    async def purchases(self, start: datetime, cutoff: datetime, end: datetime) -> Purchases:
        """Every (user, product) pair bought in [start, end), with its quantity and last date,
        overall and before `cutoff` (the evaluation's split), summed by MongoDB."""
        import numpy as np

        from app.recommend.model import Purchases

        s = self._s
        date, quantity = f"${s.TRANSACTION_DATE_FIELD}", f"${s.TRANSACTION_QUANTITY_FIELD}"
        before = {"$lt": [date, cutoff]}
        pipeline: list[dict[str, Any]] = [
            {"$match": self._pairs(start, end)},
            {
                "$group": {
                    "_id": self._pair,
                    "q": {"$sum": quantity},
                    "qb": {"$sum": {"$cond": [before, quantity, 0]}},
                    "last": {"$max": date},
                    "lastb": {"$max": {"$cond": [before, date, None]}},
                }
            },
        ]
        users: dict[str, int] = {}
        items: dict[str, int] = {}
        user_codes: list[int] = []
        item_codes: list[int] = []
        numbers: list[tuple[float, float, float, float]] = []
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=_BATCH)
            async for row in cursor:
                pair = row["_id"]
                user_codes.append(users.setdefault(pair["u"], len(users)))
                item_codes.append(items.setdefault(pair["p"], len(items)))
                last_before = row["lastb"]
                numbers.append(
                    (
                        float(row["q"] or 0),
                        float(row["qb"] or 0),
                        row["last"].timestamp(),
                        last_before.timestamp() if last_before is not None else float("nan"),
                    )
                )
        columns = np.asarray(numbers, dtype=np.float64).reshape(-1, 4)
        return Purchases(
            user_ids=np.asarray(list(users), dtype=object),
            item_ids=np.asarray(list(items), dtype=object),
            users=np.asarray(user_codes, dtype=np.int32),
            items=np.asarray(item_codes, dtype=np.int32),
            quantity=columns[:, 0].astype(np.float32),
            quantity_before=columns[:, 1].astype(np.float32),
            last=columns[:, 2],
            last_before=columns[:, 3],
            cutoff=cutoff.timestamp(),
            end=end.timestamp(),
        )

    async def products(self, product_ids: list[str]) -> dict[str, ProductDetails]:
        """Name, category, price and stock of the given products, keyed by product id; products
        absent from the catalogue are absent from the answer."""
        s = self._s
        fields = {
            "productName": s.PRODUCT_NAME_FIELD,
            "category": s.PRODUCT_CATEGORY_FIELD,
            "price": s.PRODUCT_PRICE_FIELD,
            "stock": s.PRODUCT_STOCK_FIELD,
        }
        projection = {"_id": 0, s.PRODUCT_ID_FIELD: 1, **{f: 1 for f in fields.values()}}
        found: dict[str, ProductDetails] = {}
        async with database_errors():
            for chunk in _chunks(product_ids, _IDS_PER_QUERY):
                query = {s.PRODUCT_ID_FIELD: {"$in": chunk}}
                cursor = self._products.find(query, projection, batch_size=_BATCH)
                async for d in cursor:
                    found[str(d[s.PRODUCT_ID_FIELD])] = {
                        "productName": _as(str, d.get(fields["productName"])),
                        "category": _as(str, d.get(fields["category"])),
                        "price": _as(float, d.get(fields["price"])),
                        "stock": _as(int, d.get(fields["stock"])),
                    }
        return found

    async def purchases_since(self, start: datetime) -> list[tuple[str, str, datetime]]:
        """The (user, product) pairs bought from `start` on, each with its last purchase date:
        what customers bought since the model was trained."""
        s = self._s
        pipeline: list[dict[str, Any]] = [
            {"$match": self._pairs(start)},
            {"$group": {"_id": self._pair, "last": {"$max": f"${s.TRANSACTION_DATE_FIELD}"}}},
        ]
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=_BATCH)
            return [(row["_id"]["u"], row["_id"]["p"], row["last"]) async for row in cursor]


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _as(kind: Callable[[Any], T], value: Any) -> T | None:
    """The value converted, or None: the catalogue is the producer's, not ours to trust."""
    try:
        return None if value is None else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
