"""The recommender's reads: the window's (user, product) pairs grouped by MongoDB for training,
then, in the background, the catalogue details of the model's products and the purchases made
since it was trained. No request waits for any of them.

numpy arrays and the model's types are imported by the reads, not with this module: the API
imports it, and must answer before the data stack has loaded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.db import database_errors, window_filter
from app.recommend.pairs import PairColumns

if TYPE_CHECKING:
    from app.recommend.purchases import Purchases

# Documents per cursor batch: each batch is decoded and its pairs coded on the event loop, so
# small batches keep health and predictions answering while a training reads a large result;
# the arrays are turned into the training's input in a thread (`PairColumns.purchases`).
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

    def _named(self) -> dict[str, Any]:
        """Transactions that name a user and a product."""
        s = self._s
        return {
            s.TRANSACTION_USER_FIELD: {"$type": "string"},
            s.TRANSACTION_PRODUCT_FIELD: {"$type": "string"},
        }

    async def purchases(self, start: datetime, cutoff: datetime, end: datetime) -> Purchases:
        """Every (user, product) pair with a transaction, summed by MongoDB: its sales of
        [start, end) (quantity and last date, overall and before `cutoff`, the evaluation's
        split), and whether it has any transaction before `cutoff`, whatever its status or date.
        Pairs without a sale in the window are kept only for products sold in it: they tell
        what a user must not be recommended."""
        s = self._s
        date, quantity = f"${s.TRANSACTION_DATE_FIELD}", f"${s.TRANSACTION_QUANTITY_FIELD}"
        before = {"$lt": [date, cutoff]}
        sale = {
            "$and": [
                {"$gte": [date, start]},
                {"$lt": [date, end]},
                {"$not": [{"$in": [f"${s.TRANSACTION_STATUS_FIELD}", s.NON_SALE_STATUSES]}]},
            ]
        }
        sale_before = {"$and": [sale, before]}
        pipeline: list[dict[str, Any]] = [
            {"$match": self._named()},
            {
                "$group": {
                    "_id": self._pair,
                    "q": {"$sum": {"$cond": [sale, quantity, 0]}},
                    "qb": {"$sum": {"$cond": [sale_before, quantity, 0]}},
                    "last": {"$max": {"$cond": [sale, date, None]}},
                    "lastb": {"$max": {"$cond": [sale_before, date, None]}},
                    "anyb": {"$max": {"$cond": [before, 1, 0]}},
                }
            },
        ]
        pairs = PairColumns()
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=_BATCH)
            async for row in cursor:
                pair = row["_id"]
                pairs.add(
                    pair["u"],
                    pair["p"],
                    (
                        float(row["q"] or 0),
                        float(row["qb"] or 0),
                        _seconds(row["last"]),
                        _seconds(row["lastb"]),
                        float(row["anyb"]),
                    ),
                )
        return await asyncio.to_thread(pairs.purchases, cutoff.timestamp(), end.timestamp())

    @property
    def _read_seconds(self) -> float:
        """The bound on a background read: a stalled server must not stop the refreshes."""
        return self._s.RECOMMEND_READ_TIMEOUT_SECONDS

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
        async with database_errors(self._read_seconds, "RECOMMEND_READ_TIMEOUT_SECONDS"):
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
        """The (user, product) pairs with a transaction from `start` on, whatever its status,
        each with its last date: what customers bought since the model was trained."""
        s = self._s
        pipeline: list[dict[str, Any]] = [
            {"$match": {**window_filter(s, start), **self._named()}},
            {"$group": {"_id": self._pair, "last": {"$max": f"${s.TRANSACTION_DATE_FIELD}"}}},
        ]
        async with database_errors(self._read_seconds, "RECOMMEND_READ_TIMEOUT_SECONDS"):
            cursor = await self._transactions.aggregate(pipeline, batchSize=_BATCH)
            return [(row["_id"]["u"], row["_id"]["p"], row["last"]) async for row in cursor]


def _seconds(moment: datetime | None) -> float:
    return float("nan") if moment is None else moment.timestamp()


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _as(kind: Callable[[Any], T], value: Any) -> T | None:
    """The value converted, or None: the catalogue is the producer's, not ours to trust."""
    try:
        return None if value is None else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
