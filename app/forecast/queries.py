"""The forecast's reads: daily sales summed by MongoDB, so only one row per day reaches Python.

pandas is imported when a query runs, not with this module: the API imports it, and must
answer before the data stack has loaded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.database import database_errors
from app.core.transactions import sales_filter

if TYPE_CHECKING:
    import pandas as pd


async def daily_sales(
    db: AsyncDatabase[dict[str, Any]], settings: Settings, start: datetime, end: datetime
) -> pd.Series:
    """Sales per UTC day in [start, end), dense: a day without transactions is a zero."""
    import pandas as pd

    pipeline: list[dict[str, Any]] = [
        {"$match": sales_filter(settings, start, end)},
        {
            "$group": {
                "_id": {
                    "$dateTrunc": {"date": f"${settings.TRANSACTION_DATE_FIELD}", "unit": "day"}
                },
                "sales": {"$sum": f"${settings.TRANSACTION_AMOUNT_FIELD}"},
            }
        },
    ]
    async with database_errors():
        cursor = await db[settings.TRANSACTIONS_COLLECTION].aggregate(pipeline)
        rows = await cursor.to_list()
    days = pd.date_range(utc_day(start), utc_day(end - timedelta(days=1)), freq="D")
    if not rows:
        return pd.Series(0.0, index=days, name="sales")
    found = pd.Series(
        [float(r["sales"]) for r in rows],
        index=pd.DatetimeIndex([utc_day(r["_id"]) for r in rows]),
    )
    return found.groupby(level=0).sum().reindex(days, fill_value=0.0).rename("sales")


def utc_day(moment: datetime) -> pd.Timestamp:
    """The UTC calendar day of a moment, as a naive midnight timestamp."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()
