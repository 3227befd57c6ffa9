"""Where the public data sets of the forecast panel live, and their daily sales series.

The files are not in the repository: they come from public sources (see bench/datasets/README.md)
and are kept under bench/.data/public/ (git-ignored), or under the folder named by the
environment variable BENCH_PUBLIC_DATA. Each loader (online_retail.py, ddop_shops.py) maps its
files into the producer's schema (docs: /work/shared/docs/contract.md, section 4) as a `Shop`,
and `daily_series` turns a `Shop` into the daily total and the per-category series, summed per
UTC day as the service sums them (failed and returned transactions are not sales; days without
transactions are zeros).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.datasets.complete_journey import Shop

__all__ = ["DATA_ENV", "MissingData", "Shop", "daily_series", "data_dir", "require", "window"]

DATA_ENV = "BENCH_PUBLIC_DATA"
ROOT = Path(__file__).resolve().parents[2]
NON_SALES = ("failed", "returned")
STOCK = 100


class MissingData(FileNotFoundError):
    """A data set's files are not where the loader looks; the message says how to get them."""


def data_dir() -> Path:
    """The folder of the public data sets: $BENCH_PUBLIC_DATA, else bench/.data/public."""
    configured = os.environ.get(DATA_ENV)
    return Path(configured) if configured else ROOT / "bench" / ".data" / "public"


def require(path: Path, how: str) -> Path:
    if not path.exists():
        raise MissingData(f"{path} is missing: {how}")
    return path


def daily_series(shop: Shop, categories: int | None = None) -> dict[str, pd.Series]:
    """ "total" and one series per category (the `categories` largest by sales, else all), each
    dense from the shop's first to its last day of sales, in UTC days."""
    t = shop.transactions[~shop.transactions["status"].isin(NON_SALES)]
    category = t["productId"].map(shop.products.set_index("productId")["category"])
    frame = pd.DataFrame(
        {
            "day": t["transactionDate"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize(),
            "category": category.fillna("Unknown"),
            "sales": t["totalPrice"].astype("float64"),
        }
    )
    days = pd.date_range(frame["day"].min(), frame["day"].max(), freq="D")
    out = {"total": frame.groupby("day")["sales"].sum().reindex(days, fill_value=0.0)}
    ranked = frame.groupby("category")["sales"].sum().sort_values(ascending=False)
    for name in ranked.index[:categories]:
        part = frame[frame["category"] == name]
        out[str(name)] = part.groupby("day")["sales"].sum().reindex(days, fill_value=0.0)
    return out


def window(shop: Shop, start: str, end: str) -> Shop:
    """The shop's transactions from `start` to before `end` (UTC dates, "YYYY-MM-DD"), with the
    products they name: e.g. a training window and the seasonal peak after it."""
    dates = shop.transactions["transactionDate"]
    kept = shop.transactions[
        (dates >= pd.Timestamp(start, tz="UTC")) & (dates < pd.Timestamp(end, tz="UTC"))
    ]
    products = shop.products[shop.products["productId"].isin(kept["productId"].unique())]
    return Shop(transactions=kept.reset_index(drop=True), products=products.reset_index(drop=True))
