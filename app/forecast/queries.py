"""The forecast's reads: daily sales summed by MongoDB, so only one row per day and category
reaches Python. They read the rollup of sales per day and product, which each training brings
up to date first (see `app.core.db.rollups`), not the transactions.

pandas is imported when a query runs, not with this module: the API imports it, and must
answer before the data stack has loaded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.db import Rollup, RollupRun, Rollups, database_errors, sales_filter

if TYPE_CHECKING:
    import pandas as pd

UNCATEGORISED = ""  # the column of sales whose product has no category: in the total only
DAILY_PRODUCT_SALES = "ai_service_rollup_daily_product_sales"


class DailySales(NamedTuple):
    """Dense daily sales: the total, and one column per product category."""

    total: pd.Series
    categories: pd.DataFrame


class ForecastQueries:
    """Reads the producer's collections through the field names set in configuration."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], settings: Settings) -> None:
        self._s = settings
        self._rollups = Rollups(db, settings)
        self._daily_product_sales = db[DAILY_PRODUCT_SALES]

    @property
    def rollup(self) -> Rollup:
        """Sales per UTC day and product, with the product's category: one row per product and
        day it sold. The category is looked up (an index on `products.productId`) when the day
        is aggregated, once per product and day, not at every read: a product moved to another
        category moves its sales from the days aggregated after (a rebuild moves them all)."""
        s = self._s

        def pipeline(start: datetime, end: datetime) -> list[dict[str, Any]]:
            day = {"$dateTrunc": {"date": f"${s.TRANSACTION_DATE_FIELD}", "unit": "day"}}
            return [
                {"$match": sales_filter(s, start, end)},
                {
                    "$group": {
                        "_id": {"day": day, "product": f"${s.TRANSACTION_PRODUCT_FIELD}"},
                        "sales": {"$sum": f"${s.TRANSACTION_AMOUNT_FIELD}"},
                    }
                },
                {
                    "$lookup": {
                        "from": s.PRODUCTS_COLLECTION,
                        "localField": "_id.product",
                        "foreignField": s.PRODUCT_ID_FIELD,
                        "pipeline": [
                            # a sale without a product must not match products without an id
                            {"$match": {s.PRODUCT_ID_FIELD: {"$ne": None}}},
                            {"$limit": 1},
                            {"$project": {"_id": 0, "category": f"${s.PRODUCT_CATEGORY_FIELD}"}},
                        ],
                        "as": "product",
                    }
                },
                {"$unwind": {"path": "$product", "preserveNullAndEmptyArrays": True}},
                {
                    "$project": {
                        "sales": 1,
                        "category": {"$ifNull": ["$product.category", None]},
                    }
                },
            ]

        return Rollup(DAILY_PRODUCT_SALES, s.TRANSACTIONS_COLLECTION, pipeline)

    async def update_rollup(self, start: datetime, end: datetime) -> RollupRun:
        """Brings the daily sales rollup up to date for [start, end) (UTC midnights)."""
        return await self._rollups.update(self.rollup, start, end)

    async def rebuild_rollup(self, start: datetime, end: datetime) -> RollupRun:
        return await self._rollups.rebuild(self.rollup, start, end)

    async def forget_rollup(self) -> None:
        await self._rollups.forget(self.rollup)

    async def daily_sales(self, start: datetime, end: datetime) -> DailySales:
        """Sales per UTC day in [start, end), in total and per product category, dense: a day
        without transactions is a zero.

        The rollup holds the sums per day and product with its category (`update_rollup`
        first); MongoDB sums them per day and category, so Python receives one row per day and
        category whatever the number of transactions. Sales of products missing from `products`
        count in the total only."""
        import pandas as pd

        pipeline: list[dict[str, Any]] = [
            {"$match": {"_id.day": {"$gte": start, "$lt": end}}},
            {
                "$group": {
                    "_id": {"day": "$_id.day", "category": "$category"},
                    "sales": {"$sum": "$sales"},
                }
            },
        ]
        async with database_errors():
            cursor = await self._daily_product_sales.aggregate(pipeline, allowDiskUse=True)
            rows = await cursor.to_list()
        days = pd.date_range(utc_day(start), utc_day(end - timedelta(days=1)), freq="D")
        if not rows:
            empty = pd.Series(0.0, index=days, name="sales")
            return DailySales(empty, pd.DataFrame(index=days))
        found = pd.DataFrame(
            {
                "day": [utc_day(r["_id"]["day"]) for r in rows],
                "category": [_category_name(r["_id"].get("category")) for r in rows],
                "sales": [float(r["sales"]) for r in rows],
            }
        )
        table = found.pivot_table(
            index="day", columns="category", values="sales", aggfunc="sum", dropna=False
        )
        table = table.reindex(days, fill_value=0.0).fillna(0.0)
        by_day = found.groupby("day")["sales"].sum()
        total = by_day.reindex(days, fill_value=0.0).rename("sales")
        categories = table.drop(columns=[UNCATEGORISED], errors="ignore")
        return DailySales(total, categories.rename_axis(columns=None))


def _category_name(value: object) -> str:
    """Categories are names; a product without one (or with an empty one) counts in the total."""
    return UNCATEGORISED if value is None else str(value).strip()


def utc_day(moment: datetime) -> pd.Timestamp:
    """The UTC calendar day of a moment, as a naive midnight timestamp."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()
