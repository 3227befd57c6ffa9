"""UCI "Online Retail": a UK online gift wholesaler's invoice lines, in the producer's schema.

The data: 541,909 invoice lines (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country) from 2010-12-01 to 2011-12-09 (UK local time), of a shop that
sells all-occasion gifts, mostly to wholesalers; no invoices on Saturdays, none from 2010-12-24
to 2011-01-03, sales that grow into each autumn's Christmas season (CC BY 4.0, D. Chen, UCI
Machine Learning Repository, https://doi.org/10.24432/C5BW33). It is read from one file,
`online_retail/online-retail-by-day.csv.gz` under the public data folder (bench/datasets/
public.py), made by `python -m bench.datasets.online_retail --prepare-from GIT_DIR` from the
305 per-day CSV files of databricks/Spark-The-Definitive-Guide (data/retail-data/by-day/; see
bench/datasets/README.md).

The mapping, per collection:

transactions (one document per invoice line with a positive unit price)
    transactionId    f"{InvoiceNo}-{StockCode}", then "-2", "-3" ... for repeated pairs
    userId           str(CustomerID) as an integer; f"guest-{InvoiceNo}" when it is missing
                     (about a quarter of the lines)
    productId        StockCode, upper-cased
    quantity         abs(Quantity)
    totalPrice       abs(Quantity) * UnitPrice
    transactionDate  InvoiceDate as UK local time (Europe/London), converted to UTC
    status           "returned" for cancellations (InvoiceNo starting with "C") and any other
                     negative quantity, else "completed"
products
    productId        StockCode, upper-cased
    name             the product's most frequent Description, title-cased
    category         a product group from keywords of the name (CATEGORY_KEYWORDS, first match;
                     "Fees & Postage" for the non-merchandise codes, "Other" when none matches)
    price            median UnitPrice of the product's lines
    stock            100

Dropped: lines with a unit price of 0 or less (free samples, stock write-offs, bad-debt
adjustments).
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
from pathlib import Path

import pandas as pd

from bench.datasets.complete_journey import Shop
from bench.datasets.public import STOCK, daily_series, data_dir, require

SOURCE_REPO = "databricks/Spark-The-Definitive-Guide"
SOURCE_COMMIT = "4ba5601eb9b9aed1d01ab79775e3af228216ff6f"
SOURCE_DIR = "data/retail-data/by-day"
FILE = Path("online_retail") / "online-retail-by-day.csv.gz"
HOW = (
    f"run `python -m bench.datasets.online_retail --prepare-from GIT_DIR` on a clone of "
    f"{SOURCE_REPO} (see bench/datasets/README.md)"
)
LOCAL_TIME = "Europe/London"
FEES = {"POST", "DOT", "M", "C2", "BANK CHARGES", "AMAZONFEE", "CRUK", "D", "S", "PADS", "B"}
# A product group per keyword of the description, the first that matches.
CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Christmas", ("CHRISTMAS", "XMAS", "ADVENT", "SNOWFLAKE", "REINDEER", "SANTA")),
    ("Bags", ("BAG", "PURSE", "TOTE")),
    ("Candles & Lights", ("CANDLE", "T-LIGHT", "LIGHT", "LANTERN", "LAMP")),
    (
        "Kitchen & Dining",
        ("MUG", "CUP", "PLATE", "BOWL", "TEA", "CAKE", "BAKING", "JAR", "LUNCH", "SPOON", "TIN"),
    ),
    ("Stationery & Wrap", ("CARD", "WRAP", "PAPER", "NOTEBOOK", "PEN", "STICKER", "NAPKIN")),
    ("Home Decor", ("SIGN", "FRAME", "CLOCK", "MIRROR", "CUSHION", "DOORMAT", "HOOK", "HEART")),
    ("Toys & Kids", ("TOY", "GAME", "DOLL", "CHILDREN", "PLAYHOUSE", "SPACEBOY", "DOLLY")),
    ("Garden & Outdoor", ("GARDEN", "PARASOL", "UMBRELLA", "BIRD", "PICNIC")),
)


def load() -> Shop:
    """The whole data set in the producer's schema (its own calendar, dates in UTC)."""
    path = require(data_dir() / FILE, HOW)
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "Description": str})
    return map_rows(raw)


def map_rows(raw: pd.DataFrame) -> Shop:
    """Invoice lines in the source's columns to the producer's two collections."""
    raw = raw[raw["UnitPrice"] > 0].copy()
    invoice = raw["InvoiceNo"].astype(str).str.strip()
    code = raw["StockCode"].astype(str).str.strip().str.upper()
    pair = invoice + "-" + code
    repeat = pair.groupby(pair).cumcount()
    transaction_id = pair.where(repeat == 0, pair + "-" + (repeat + 1).astype(str))
    customer = pd.to_numeric(raw["CustomerID"], errors="coerce")
    user = customer.astype("Int64").astype(str).where(customer.notna(), "guest-" + invoice)
    quantity = raw["Quantity"].astype("int64")
    local = pd.to_datetime(raw["InvoiceDate"]).dt.tz_localize(
        LOCAL_TIME, ambiguous="NaT", nonexistent="shift_forward"
    )
    returned = invoice.str.startswith("C") | (quantity < 0)
    transactions = pd.DataFrame(
        {
            "transactionId": transaction_id,
            "userId": user,
            "productId": code,
            "quantity": quantity.abs(),
            "totalPrice": (quantity.abs() * raw["UnitPrice"]).astype("float64"),
            "transactionDate": local.dt.tz_convert("UTC"),
            "status": returned.map({True: "returned", False: "completed"}),
        }
    ).dropna(subset=["transactionDate"])
    transactions = transactions.sort_values(["transactionDate", "transactionId"], kind="stable")
    described = pd.DataFrame({"productId": code, "name": raw["Description"].fillna("")})
    names = described[described["name"].str.strip() != ""].groupby("productId")["name"]
    name = names.agg(lambda values: values.value_counts().index[0]).str.strip().str.title()
    price = raw["UnitPrice"].groupby(code).median()
    products = pd.DataFrame({"productId": price.index, "price": price.to_numpy()})
    products["name"] = products["productId"].map(name).fillna("Product " + products["productId"])
    products["category"] = [
        _category(code, title)
        for code, title in zip(products["productId"], products["name"], strict=True)
    ]
    products["stock"] = STOCK
    return Shop(
        transactions=transactions.reset_index(drop=True),
        products=products[["productId", "name", "category", "price", "stock"]],
    )


def _category(code: str, name: str) -> str:
    if code in FEES:
        return "Fees & Postage"
    upper = name.upper()
    for category, keywords in CATEGORY_KEYWORDS:
        if any(keyword in upper for keyword in keywords):
            return category
    return "Other"


def prepare(git_dir: Path, commit: str = SOURCE_COMMIT) -> Path:
    """Concatenates the source's per-day CSV files (read from a clone at `commit`) into the one
    file `load()` reads; returns its path."""
    listing = subprocess.run(
        ["git", "-C", str(git_dir), "ls-tree", "--name-only", commit, f"{SOURCE_DIR}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    target = data_dir() / FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for index, name in enumerate(sorted(listing)):
            text = subprocess.run(
                ["git", "-C", str(git_dir), "show", f"{commit}:{name}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            header, _, body = text.partition("\n")
            if index == 0:
                out.write(header + "\n")
            out.write(body if body.endswith("\n") else body + "\n")
    partial.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.datasets.online_retail")
    parser.add_argument("--prepare-from", type=Path, help=f"a git clone of {SOURCE_REPO}")
    args = parser.parse_args()
    if args.prepare_from:
        print(f"wrote {prepare(args.prepare_from)}")
    shop = load()
    t = shop.transactions
    print(f"{len(t):,} lines, {t['transactionDate'].min()} to {t['transactionDate'].max()}")
    for name, series in daily_series(shop).items():
        print(f"{name:<20} {series.sum():>14,.0f} over {len(series)} days")


if __name__ == "__main__":
    main()
