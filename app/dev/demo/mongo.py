"""The demo data in MongoDB: the collection names, the emptiness check and the batched writer.

Why apart: generating is pure and testable in memory; only this module talks to a database.
"""

from typing import Any

from loguru import logger
from pymongo.asynchronous.database import AsyncDatabase

from app.dev.demo.generator import draw
from app.dev.demo.spec import DemoDataSpec

PRODUCTS = "products"
USERS = "users"
TRANSACTIONS = "transactions"
COLLECTIONS = (PRODUCTS, USERS, TRANSACTIONS)


async def database_is_empty(db: AsyncDatabase[Any]) -> bool:
    """True when there is no transaction yet: the signal to seed demo data."""
    return await db[TRANSACTIONS].find_one({}, projection={"_id": 1}) is None


async def write_demo_data(
    db: AsyncDatabase[Any], spec: DemoDataSpec, batch_size: int = 5_000
) -> dict[str, int]:
    """Inserts the same data as generate(spec) in unordered batches; returns counts written."""
    counts = {PRODUCTS: 0, USERS: 0, TRANSACTIONS: 0}
    products, users, batches = draw(spec, batch_size)
    for name, docs in ((PRODUCTS, products), (USERS, users)):
        for i in range(0, len(docs), batch_size):
            result = await db[name].insert_many(docs[i : i + batch_size], ordered=False)
            counts[name] += len(result.inserted_ids)
    logger.info("Demo data: {} products, {} users written", counts[PRODUCTS], counts[USERS])
    step = max(spec.transactions // 10, 1)
    next_log = step
    for batch in batches:
        result = await db[TRANSACTIONS].insert_many(batch, ordered=False)
        counts[TRANSACTIONS] += len(result.inserted_ids)
        if counts[TRANSACTIONS] >= next_log:
            logger.info("Demo data: {}/{} transactions", counts[TRANSACTIONS], spec.transactions)
            next_log += step
    return counts
