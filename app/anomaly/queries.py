"""The anomaly model's reads. Training: the window's most recent transactions (all of them up to
ANOMALY_SAMPLE_SIZE, so that two trainings on the same data read the same rows), each product's
median unit price and the catalogue's prices, all computed by MongoDB. Watching: the
stored transactions of the last days, streamed in batches."""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.db import database_errors, window_filter

# Documents per cursor batch: each batch is decoded on the event loop, so small batches keep
# health and predictions answering while a training reads a large result.
BATCH = 2_000


class AnomalyQueries:
    """Reads the producer's collections through the field names set in configuration."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], settings: Settings) -> None:
        self._s = settings
        self._transactions = db[settings.TRANSACTIONS_COLLECTION]
        self._products = db[settings.PRODUCTS_COLLECTION]

    async def transaction_sample(self, start: datetime, size: int) -> list[dict[str, Any]]:
        """The `size` most recent transactions since `start` (ties by `_id`, so the same data
        gives the same rows): amount, quantity, product and date."""
        s = self._s
        fields = {
            "amount": f"${s.TRANSACTION_AMOUNT_FIELD}",
            "quantity": f"${s.TRANSACTION_QUANTITY_FIELD}",
            "productId": f"${s.TRANSACTION_PRODUCT_FIELD}",
            "date": f"${s.TRANSACTION_DATE_FIELD}",
        }
        pipeline: list[dict[str, Any]] = [
            {"$match": window_filter(s, start)},
            {"$sort": {s.TRANSACTION_DATE_FIELD: -1, "_id": -1}},
            {"$limit": size},
            {"$project": {"_id": 0, **fields}},
        ]
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=BATCH)
            return await cursor.to_list()

    async def product_references(self, start: datetime) -> dict[str, tuple[float, float]]:
        """Each product's median unit price (amount / quantity) and median quantity over the
        window's transactions with a positive quantity (approximate medians: bounded memory
        per product); two numbers per product reach Python."""
        s = self._s
        amount, quantity = f"${s.TRANSACTION_AMOUNT_FIELD}", f"${s.TRANSACTION_QUANTITY_FIELD}"
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    **window_filter(s, start),
                    s.TRANSACTION_PRODUCT_FIELD: {"$type": "string"},
                    s.TRANSACTION_QUANTITY_FIELD: {"$gt": 0},
                    s.TRANSACTION_AMOUNT_FIELD: {"$gte": 0},
                }
            },
            {
                "$project": {
                    "_id": 0,
                    s.TRANSACTION_PRODUCT_FIELD: 1,
                    s.TRANSACTION_AMOUNT_FIELD: 1,
                    s.TRANSACTION_QUANTITY_FIELD: 1,
                }
            },
            {
                "$group": {
                    "_id": f"${s.TRANSACTION_PRODUCT_FIELD}",
                    "price": {
                        "$median": {
                            "input": {"$divide": [amount, quantity]},
                            "method": "approximate",
                        }
                    },
                    "quantity": {"$median": {"input": quantity, "method": "approximate"}},
                }
            },
        ]
        async with database_errors():
            cursor = await self._transactions.aggregate(pipeline, batchSize=BATCH)
            return {
                str(row["_id"]): (float(row["price"]), float(row["quantity"]))
                async for row in cursor
                if all(isinstance(row.get(k), int | float) for k in ("price", "quantity"))
            }

    async def catalogue_prices(self) -> dict[str, float]:
        """The catalogue's price of every product that has a positive one."""
        s = self._s
        query = {s.PRODUCT_ID_FIELD: {"$type": "string"}, s.PRODUCT_PRICE_FIELD: {"$gt": 0}}
        projection = {"_id": 0, s.PRODUCT_ID_FIELD: 1, s.PRODUCT_PRICE_FIELD: 1}
        async with database_errors():
            cursor = self._products.find(query, projection, batch_size=BATCH)
            return {
                doc[s.PRODUCT_ID_FIELD]: float(doc[s.PRODUCT_PRICE_FIELD])
                async for doc in cursor
                if isinstance(doc.get(s.PRODUCT_PRICE_FIELD), int | float)
            }

    async def recent_transactions(
        self, start: datetime, end: datetime, seconds: float
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The transactions dated in [start, end), in batches of BATCH documents, with the
        fields a watch reports; the whole read is bounded by `seconds`."""
        s = self._s
        projection = {
            "_id": 0,
            "transactionId": 1,
            s.TRANSACTION_DATE_FIELD: 1,
            s.TRANSACTION_USER_FIELD: 1,
            s.TRANSACTION_PRODUCT_FIELD: 1,
            s.TRANSACTION_AMOUNT_FIELD: 1,
            s.TRANSACTION_QUANTITY_FIELD: 1,
        }
        async with database_errors(seconds, "ANOMALY_RECENT_TIMEOUT_SECONDS"):
            cursor = self._transactions.find(
                window_filter(s, start, end), projection, batch_size=BATCH
            )
            batch: list[dict[str, Any]] = []
            async for doc in cursor:
                batch.append(doc)
                if len(batch) == BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch
