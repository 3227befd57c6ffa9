"""Benchmark of a forecast training with every category: database time apart from fit time.

    python -m bench.forecast_training [--workdir bench/.data] [--no-database] [--no-journey]
        [--no-demo] [--model-type auto]

- fit: `train_forecasters` (what the worker process runs, through `fit_model`: for `auto`, the
  default, the total chosen among `auto`'s pool and each category among the methods fitted in
  milliseconds, all backtested) on daily sales per category of the demo data
  over 90 days, 1 and 3 years, and of The Complete Journey's year (every department): seconds,
  categories, and the peak RSS of this process;
- database: the forecast's daily-sales pipeline (per day and product, `$lookup` of the
  category, per day and category) over the 1,000,000-transaction demo database that
  `bench.service` writes (reused from --workdir, written when missing), with the service's
  default 90-day window: seconds, rows returned, and this process's RSS growth meanwhile.
Results are also written to bench/results/forecast_training.json.
"""

import argparse
import asyncio
import resource
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
from pymongo import AsyncMongoClient

from app.config import ForecastMethod, Settings
from app.forecast.model import train_forecasters
from app.forecast.queries import ForecastQueries
from bench.demo_db import DATABASE, embedded_database, seed
from bench.forecast import demo_sales, journey_sales
from bench.serving import ROOT, as_worker, save_results

DATABASE_SIZE = 1_000_000
MAX_CATEGORIES = Settings.model_fields["FORECAST_MAX_CATEGORIES"].default


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _per_category(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Dense daily sales in total and per category, from columns day, category, sales."""
    table = frame.pivot_table(index="day", columns="category", values="sales", aggfunc="sum")
    table.index = pd.DatetimeIndex(table.index)
    days = pd.date_range(table.index.min(), table.index.max(), freq="D")
    table = table.reindex(days).fillna(0.0)
    return table.sum(axis=1).rename("sales"), table


def demo_per_category(days: int, seed: int = 1) -> tuple[pd.Series, pd.DataFrame]:
    return _per_category(demo_sales(seed, days))


def journey_per_category() -> tuple[pd.Series, pd.DataFrame]:
    """Every department of The Complete Journey; the last, partial day dropped."""
    total, categories = _per_category(journey_sales())
    return total.iloc[:-1], categories.iloc[:-1]


def time_fit(
    name: str, total: pd.Series, categories: pd.DataFrame, model_type: ForecastMethod
) -> dict[str, Any]:
    started = time.perf_counter()
    models = train_forecasters(total, categories, model_type, MAX_CATEGORIES)
    seconds = time.perf_counter() - started
    mase = [m.metrics["mase_h28"] for m in models.categories.values()]
    naive = [m.metrics["seasonal_naive_mase_h28"] for m in models.categories.values()]
    result = {
        "days": len(total),
        "categories": len(categories.columns),
        "fitted": len(models.categories),
        "fit_seconds": round(seconds, 1),
        "peak_rss_mb": round(_peak_rss_mb()),
        "category_mase_h28_mean": round(sum(mase) / len(mase), 3) if mase else None,
        "category_naive_mase_h28_mean": round(sum(naive) / len(naive), 3) if naive else None,
    }
    fitted = f"{result['fitted']}/{result['categories']}"
    cells = [name, result["days"], fitted, *list(result.values())[3:]]
    print("| " + " | ".join(str(cell) for cell in cells) + " |")
    return result


def time_query(workdir: Path) -> dict[str, Any]:
    with embedded_database(workdir / f"db-{DATABASE_SIZE}") as url:
        seed(url, DATABASE_SIZE)
        return asyncio.run(_time_query(url))


async def _time_query(url: str) -> dict[str, Any]:
    settings = Settings(MONGODB_URL=url, DATABASE_NAME=DATABASE)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    db = client[DATABASE]
    last = await db.transactions.find_one({}, sort=[("transactionDate", -1)])
    assert last is not None, "the benchmark database is empty"
    end = last["transactionDate"].replace(hour=0, minute=0, second=0, microsecond=0)
    end += timedelta(days=1)
    start = end - timedelta(days=settings.DATA_COLLECTION_DAYS)
    in_window = await db.transactions.count_documents(
        {"transactionDate": {"$gte": start, "$lt": end}}
    )
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    queries = ForecastQueries(db, settings)
    await queries.update_rollup(start, end)
    total, categories = await queries.daily_sales(start, end)
    seconds = time.perf_counter() - started
    grown = (psutil.Process().memory_info().rss - rss_before) / 2**20
    await client.close()
    result = {
        "transactions_in_window": in_window,
        "days": len(total),
        "categories": len(categories.columns),
        "query_seconds": round(seconds, 1),
        "rss_growth_mb": round(grown, 1),
    }
    print(
        f"daily sales per category over {in_window:,} transactions: {seconds:.1f} s, "
        f"{len(total)} days x {len(categories.columns)} categories, RSS +{grown:.1f} MB"
    )
    return result


def main() -> None:
    as_worker("bench.forecast_training")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    parser.add_argument("--no-database", action="store_true")
    parser.add_argument("--no-journey", action="store_true")
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument(
        "--model-type", default=Settings.model_fields["FORECAST_MODEL_TYPE"].default
    )
    args = parser.parse_args()
    out: dict[str, Any] = {"fit": {}}
    print("| data | days | categories fitted | fit s | peak RSS MB | category MASE h28 | "
          "naive MASE h28 |\n|---|---|---|---|---|---|---|")  # fmt: skip
    demo = (
        ()
        if args.no_demo
        else ((90, "demo, 90 days"), (365, "demo, 1 year"), (1095, "demo, 3 years"))
    )
    for days, label in demo:
        out["fit"][label] = time_fit(label, *demo_per_category(days), args.model_type)
    if not args.no_journey:
        journey = journey_per_category()
        out["fit"]["Complete Journey"] = time_fit("Complete Journey", *journey, args.model_type)
    if not args.no_database:
        out["database"] = time_query(args.workdir)
    save_results("forecast_training", out)


if __name__ == "__main__":
    main()
