"""The public data sets' loaders map their source rows into the producer's schema, and the
stress transforms move the level as they say. Small rows written here, no downloaded file."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.datasets import ddop_shops, online_retail, public, stress

TRANSACTION_COLUMNS = [
    "transactionId",
    "userId",
    "productId",
    "quantity",
    "totalPrice",
    "transactionDate",
    "status",
]
PRODUCT_COLUMNS = ["productId", "name", "category", "price", "stock"]

ONLINE_RETAIL_CSV = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom
536380,22139,RETROSPOT TEA SET CERAMIC 11 PC,3,2011-06-03 10:00:00,4.95,,United Kingdom
536381,22140,LOST IN THE POST,-12,2011-06-04 10:00:00,0.0,,United Kingdom
"""


def _check_schema(shop: public.Shop) -> None:
    assert list(shop.transactions.columns) == TRANSACTION_COLUMNS
    assert list(shop.products.columns) == PRODUCT_COLUMNS
    t = shop.transactions
    assert t["transactionId"].is_unique
    assert str(t["transactionDate"].dt.tz) == "UTC"
    assert t["quantity"].dtype == np.int64
    assert t["totalPrice"].dtype == np.float64
    assert (t["quantity"] >= 0).all()
    assert (t["totalPrice"] >= 0).all()
    assert set(t["status"]) <= {"completed", "returned"}
    assert set(t["productId"]) <= set(shop.products["productId"])
    for column in ("transactionId", "userId", "productId"):
        assert all(isinstance(value, str) for value in t[column])


def test_online_retail_rows_map_into_the_producer_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / online_retail.FILE
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as out:
        out.write(ONLINE_RETAIL_CSV)
    monkeypatch.setenv(public.DATA_ENV, str(tmp_path))

    shop = online_retail.load()

    _check_schema(shop)
    t = shop.transactions.set_index("transactionId")
    assert len(t) == 4  # the line at a unit price of 0 is dropped
    assert t.loc["536365-85123A", "totalPrice"] == pytest.approx(6 * 2.55)
    assert "536365-85123A-2" in t.index  # a repeated invoice line keeps its own id
    assert t.loc["C536379-D", "status"] == "returned"
    assert t.loc["C536379-D", "quantity"] == 1
    assert t.loc["536365-85123A", "userId"] == "17850"
    assert t.loc["536380-22139", "userId"] == "guest-536380"
    # UK local time: GMT in December, BST (UTC+1) in June.
    assert t.loc["536365-85123A", "transactionDate"] == pd.Timestamp("2010-12-01 08:26", tz="UTC")
    assert t.loc["536380-22139", "transactionDate"] == pd.Timestamp("2011-06-03 09:00", tz="UTC")
    category = shop.products.set_index("productId")["category"]
    assert category["D"] == "Fees & Postage"
    assert category["85123A"] == "Candles & Lights"
    assert category["22139"] == "Kitchen & Dining"


def test_the_bakery_and_the_restaurant_map_into_the_producer_schema() -> None:
    bakery = ddop_shops.map_bakery(
        pd.DataFrame(
            {
                "date": ["2016-01-02", "2016-01-02", "2016-01-03"],
                "store": [2, 3, 2],
                "product": [101, 101, 109],
                "demand": [254.0, 0.0, 12.6],
            }
        )
    )
    _check_schema(bakery)
    assert list(bakery.transactions["transactionId"]) == ["2016-01-02-2-101", "2016-01-03-2-109"]
    assert list(bakery.transactions["quantity"]) == [254, 13]
    assert bakery.transactions["transactionDate"].iloc[0] == pd.Timestamp(
        "2016-01-02 12:00", tz="UTC"
    )
    yaz = ddop_shops.map_yaz(
        pd.DataFrame({"date": ["2013-10-04", "2013-10-05"], "lamb": [50, 0], "fish": [6, 8]})
    )
    _check_schema(yaz)
    assert sorted(yaz.products["category"]) == ["Fish", "Lamb"]
    assert len(yaz.transactions) == 3


def test_daily_series_count_sales_per_utc_day_with_zeros_for_empty_days() -> None:
    shop = ddop_shops.map_bakery(
        pd.DataFrame(
            {
                "date": ["2016-01-01", "2016-01-01", "2016-01-04"],
                "store": [1, 1, 1],
                "product": [101, 109, 101],
                "demand": [10.0, 5.0, 7.0],
            }
        )
    )
    returned = shop.transactions.iloc[[0]].assign(transactionId="r", status="returned")
    shop = public.Shop(
        transactions=pd.concat([shop.transactions, returned], ignore_index=True),
        products=shop.products,
    )
    series = public.daily_series(shop)
    assert list(series) == ["total", "Product 101", "Product 109"]
    assert list(series["total"]) == [15.0, 0.0, 0.0, 7.0]
    assert list(series["Product 109"]) == [5.0, 0.0, 0.0, 0.0]
    assert series["total"].index[0] == pd.Timestamp("2016-01-01")


def test_stress_transforms_move_the_level_as_they_say() -> None:
    days = pd.date_range("2020-10-01", periods=400, freq="D")
    flat = pd.Series(100.0, index=days)
    quarter = round(stress.QUARTER_DAYS)
    assert stress.trend(flat, 0.3).iloc[quarter] == pytest.approx(130.0, rel=0.01)
    assert stress.trend(flat, -0.3).iloc[2 * quarter] == pytest.approx(49.0, rel=0.01)
    shifted = stress.level_shift(flat, -0.4, days[200])
    assert shifted.iloc[199] == 100.0
    assert (shifted.iloc[200:] == 60.0).all()
    assert stress.level_shift(flat, 0.4, days[200]).iloc[-1] == pytest.approx(140.0)
    ramp = stress.new_year_ramp(flat, 2021, gain=0.5, weeks=8)
    new_year = days.get_loc(pd.Timestamp("2021-01-01"))
    assert (ramp.iloc[: new_year + 1] == 100.0).all()
    assert ramp.iloc[new_year + 28] == pytest.approx(125.0)
    assert np.allclose(ramp.iloc[new_year + 56 :], 150.0)


def test_a_missing_data_file_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(public.DATA_ENV, str(tmp_path))
    with pytest.raises(public.MissingData, match="prepare"):
        ddop_shops.load_bakery()
