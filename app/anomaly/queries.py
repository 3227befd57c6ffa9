"""The anomaly model's read: a bounded random sample of recent transactions, drawn by MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from pymongo.asynchronous.database import AsyncDatabase

from app.anomaly.features import AMOUNT, QUANTITY
from app.config import Settings
from app.core.database import database_errors
from app.core.transactions import window_filter

if TYPE_CHECKING:
    import pandas as pd

# Documents per cursor batch: each batch is decoded on the event loop, so small batches keep
# health and predictions answering while a training reads a large result.
BATCH = 2_000


async def transaction_sample(
    db: AsyncDatabase[dict[str, Any]], settings: Settings, start: datetime, size: int
) -> pd.DataFrame:
    """A random sample of at most `size` transactions since `start`: amount and quantity."""
    import pandas as pd

    pipeline: list[dict[str, Any]] = [
        {"$match": window_filter(settings, start)},
        {"$sample": {"size": size}},
        {
            "$project": {
                "_id": 0,
                AMOUNT: f"${settings.TRANSACTION_AMOUNT_FIELD}",
                QUANTITY: f"${settings.TRANSACTION_QUANTITY_FIELD}",
            }
        },
    ]
    async with database_errors():
        cursor = await db[settings.TRANSACTIONS_COLLECTION].aggregate(pipeline, batchSize=BATCH)
        rows = await cursor.to_list()
    frame = pd.DataFrame(rows, columns=[AMOUNT, QUANTITY])
    return frame.apply(pd.to_numeric, errors="coerce").dropna().astype(np.float64)
