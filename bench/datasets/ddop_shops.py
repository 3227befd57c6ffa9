"""Two real shops' daily demand shipped in the PyPI package ddop 0.7.6 (licence in its metadata:
MIT; its LICENSE file: BSD 3-Clause), mapped to the producer's schema.

- bakery: a German bakery chain's daily demand (units) for 3 products in 35 stores, 2016-01-02
  to 2019-04-30 (127,575 rows: date, store, product, demand, plus weather, holiday and promotion
  flags). The chain shrinks: its mean daily demand falls by a third over the three years.
- yaz: YAZ, a fast-casual restaurant in Stuttgart: daily demand for 7 main ingredients
  (calamari, fish, shrimp, chicken, koefte, lamb, steak), 2013-10-04 to 2015-11-07, 765 days,
  5 of them closed.

Neither has prices: `totalPrice` is the demand itself (a unit price of 1), so "sales" are units.
The files are read from `ddop/` under the public data folder (bench/datasets/public.py), put
there by `python -m bench.datasets.ddop_shops --prepare`, which downloads the package's source
archive from PyPI with pip (no dependency is installed: ddop pins scikit-learn 0.23 and
TensorFlow) and extracts its four data files.

The mapping (one transaction per day, store and product with a demand above 0):

    transactionId    f"{date}-{store}-{product}" (yaz: f"{date}-yaz-{ingredient}")
    userId           f"store-{store}" (yaz: "yaz")
    productId        str(product) (yaz: the ingredient)
    quantity         round(demand)
    totalPrice       demand
    transactionDate  the date at 12:00 UTC
    status           "completed"
products: productId, name and category f"Product {product}" (yaz: the ingredient, title-cased),
price 1.0, stock 100.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd

from bench.datasets.complete_journey import Shop
from bench.datasets.public import STOCK, daily_series, data_dir, require

PACKAGE = "ddop==0.7.6"
FILES = ("bakery_data.csv", "bakery_target.csv", "yaz_data.csv", "yaz_target.csv")
HOW = "run `python -m bench.datasets.ddop_shops --prepare` (see bench/datasets/README.md)"
NOON = pd.Timedelta(hours=12)
PIP_DOWNLOAD = (
    sys.executable,
    "-m",
    "pip",
    "download",
    "--quiet",
    "--no-deps",
    "--no-binary",
    ":all:",
)


def _read(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = data_dir() / "ddop"
    return (
        pd.read_csv(require(folder / f"{name}_data.csv", HOW)),
        pd.read_csv(require(folder / f"{name}_target.csv", HOW)),
    )


def load_bakery() -> Shop:
    features, target = _read("bakery")
    return map_bakery(features.assign(demand=target["demand"].to_numpy()))


def load_yaz() -> Shop:
    features, target = _read("yaz")
    return map_yaz(pd.concat([features[["date"]], target], axis=1))


def map_bakery(rows: pd.DataFrame) -> Shop:
    """Rows of date, store, product and demand to the producer's two collections."""
    rows = rows[rows["demand"] > 0]
    day = rows["date"].astype(str)
    store = rows["store"].astype(int).astype(str)
    product = rows["product"].astype(int).astype(str)
    return _shop(
        transaction_id=day + "-" + store + "-" + product,
        user="store-" + store,
        product=product,
        demand=rows["demand"],
        day=day,
        names={p: f"Product {p}" for p in product.unique()},
    )


def map_yaz(rows: pd.DataFrame) -> Shop:
    """Rows of date and one demand column per ingredient to the producer's collections."""
    long = rows.melt(id_vars="date", var_name="ingredient", value_name="demand")
    long = long[long["demand"] > 0]
    day = long["date"].astype(str)
    ingredient = long["ingredient"].astype(str)
    return _shop(
        transaction_id=day + "-yaz-" + ingredient,
        user=pd.Series("yaz", index=long.index),
        product=ingredient,
        demand=long["demand"],
        day=day,
        names={i: i.title() for i in ingredient.unique()},
    )


def _shop(
    transaction_id: pd.Series,
    user: pd.Series,
    product: pd.Series,
    demand: pd.Series,
    day: pd.Series,
    names: dict[str, str],
) -> Shop:
    transactions = pd.DataFrame(
        {
            "transactionId": transaction_id,
            "userId": user,
            "productId": product,
            "quantity": demand.round().astype("int64"),
            "totalPrice": demand.astype("float64"),
            "transactionDate": pd.to_datetime(day).dt.tz_localize("UTC") + NOON,
            "status": "completed",
        }
    ).sort_values(["transactionDate", "transactionId"], kind="stable")
    products = pd.DataFrame(
        {
            "productId": list(names),
            "name": list(names.values()),
            "category": list(names.values()),
            "price": 1.0,
            "stock": STOCK,
        }
    )
    return Shop(transactions=transactions.reset_index(drop=True), products=products)


def prepare() -> Path:
    """Downloads ddop's source archive with pip and extracts its data files; returns their
    folder."""
    target = data_dir() / "ddop"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [*PIP_DOWNLOAD, "--dest", tmp, PACKAGE],
            check=True,
        )
        (archive,) = Path(tmp).glob("ddop-*.tar.gz")
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if Path(member.name).name in FILES and "/datasets/data/" in member.name:
                    source = tar.extractfile(member)
                    if source is not None:
                        (target / Path(member.name).name).write_bytes(source.read())
    return target


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.datasets.ddop_shops")
    parser.add_argument("--prepare", action="store_true", help=f"download {PACKAGE} from PyPI")
    args = parser.parse_args()
    if args.prepare:
        print(f"wrote {prepare()}")
    for name, shop in (("bakery", load_bakery()), ("yaz", load_yaz())):
        print(f"{name}: {len(shop.transactions):,} transactions")
        for category, series in daily_series(shop).items():
            print(f"  {category:<12} {series.sum():>12,.0f} over {len(series)} days")


if __name__ == "__main__":
    main()
