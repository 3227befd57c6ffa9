"""Benchmark of the forecast's rollup: the first build against an update after one new day.

    python -m bench.rollups [--sizes 200000 1000000] [--workdir bench/.data]

For each size, over the demo database of that many transactions (120 days; kept in --workdir
and reused, as `bench.service` writes it; indexed as the service indexes it), with the service's
90-day window ending before the demo's partial last day: the first build of the rollup (every
transaction of the window grouped per day and product), the read a training then makes (the
rollup grouped per day and category), then one new day (a copy of the last complete day's
transactions, one day later) and the update a retraining makes: seconds, transactions
aggregated, rollup rows written, and this process's peak RSS. The transactions aggregated are
counted apart (not timed). Results also go to bench/results/rollups.json.
"""

import argparse
import asyncio
import resource
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.config import Settings
from app.core.db import Database
from app.forecast.queries import ForecastQueries
from bench.demo_db import DATABASE, embedded_database, seed
from bench.serving import ROOT, save_results


async def _measure(url: str) -> dict[str, Any]:
    settings = Settings(MONGODB_URL=url, DATABASE_NAME=DATABASE)
    database = Database(settings)
    assert await database.ping(), "the benchmark database does not answer"  # and is indexed
    db = database.db
    queries = ForecastQueries(db, settings)
    last = await db.transactions.find_one({}, sort=[("transactionDate", -1)])
    assert last is not None, "the benchmark database is empty"
    # the last day is the demo's "today", partial: the window ends before it
    end = last["transactionDate"].replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=settings.DATA_COLLECTION_DAYS)
    await queries.forget_rollup()

    async def count(since: Any, until: Any) -> int:
        return await db.transactions.count_documents(
            {"transactionDate": {"$gte": since, "$lt": until}}
        )

    first = await queries.update_rollup(start, end)
    started = time.perf_counter()
    total, categories = await queries.daily_sales(start, end)
    read_seconds = time.perf_counter() - started

    day = [
        {k: v for k, v in t.items() if k != "_id"}
        | {"transactionDate": t["transactionDate"] + timedelta(days=1)}
        async for t in db.transactions.find(
            {"transactionDate": {"$gte": end - timedelta(days=1), "$lt": end}}
        )
    ]
    await db.transactions.insert_many(day)
    later_start, later_end = start + timedelta(days=1), end + timedelta(days=1)
    update = await queries.update_rollup(later_start, later_end)
    started = time.perf_counter()
    await queries.daily_sales(later_start, later_end)
    later_read_seconds = time.perf_counter() - started
    assert update.start is not None
    result = {
        "window_days": settings.DATA_COLLECTION_DAYS,
        "first_build": {
            "transactions_aggregated": await count(start, end),
            "seconds": round(first.seconds, 2),
            "rows_written": first.written,
        },
        "read_after_build": {
            "seconds": round(read_seconds, 2),
            "days": len(total),
            "categories": len(categories.columns),
        },
        "new_day_transactions": len(day),
        "update_after_one_day": {
            "transactions_aggregated": await count(update.start, later_end),
            "days_aggregated": (later_end - update.start).days,
            "seconds": round(update.seconds, 2),
            "rows_written": update.written,
            "rows_removed": update.removed,
        },
        "read_after_update": {"seconds": round(later_read_seconds, 2)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    await db.transactions.delete_many({"transactionDate": {"$gte": end}})
    await database.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for size in args.sizes:
        with embedded_database(args.workdir / f"db-{size}") as url:
            written, _ = seed(url, size)
            measured = asyncio.run(_measure(url))
            measured["seed_seconds"] = None if written is None else round(written, 1)
            results[str(size)] = measured
            build, update = measured["first_build"], measured["update_after_one_day"]
            share = update["transactions_aggregated"] / max(build["transactions_aggregated"], 1)
            print(
                f"{size:>10,} transactions: first build {build['seconds']:.1f} s over "
                f"{build['transactions_aggregated']:,} ({build['rows_written']:,} rows); after one "
                f"new day ({measured['new_day_transactions']:,}) {update['seconds']:.1f} s over "
                f"{update['transactions_aggregated']:,} = {share:.1%} of the first; read "
                f"{measured['read_after_build']['seconds']:.1f} s; peak RSS "
                f"{measured['peak_rss_mb']:.0f} MB"
            )
    print(f"written to {save_results('rollups', results)}")


if __name__ == "__main__":
    main()
