"""`python -m app.dev.rollups` (or `make rebuild-rollups`): aggregates the rollups over the
whole training window again, against MONGODB_URL, and says what it wrote.

For when the service is stopped; while it runs, `POST /api/v1/forecast/train?rebuild_rollups=
true` does the same under the training lease, so that no training reads a rollup half-written."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger
from pymongo import AsyncMongoClient

from app.config import get_settings
from app.forecast.queries import ForecastQueries


async def _rebuild() -> None:
    settings = get_settings()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.MONGODB_URL, tz_aware=True)
    try:
        queries = ForecastQueries(client[settings.DATABASE_NAME], settings)
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=settings.DATA_COLLECTION_DAYS)
        run = await queries.rebuild_rollup(start, end)
        logger.info(
            "Rebuilt {} for {} to {}: {} rows in {:.1f} s",
            queries.rollup.collection,
            start.date(),
            end.date(),
            run.written,
            run.seconds,
        )
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(_rebuild())
