"""The anomaly sample pipeline against SecantusDB, compared with the seeded documents."""

from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from app.anomaly.queries import transaction_sample
from app.config import Settings
from tests.factories import NOW


async def test_sample_is_bounded_and_drawn_from_the_window(
    db: AsyncDatabase, settings: Settings, documents: dict
) -> None:
    start = NOW - timedelta(days=20)
    window = {
        (t["totalPrice"], t["quantity"])
        for t in documents["transactions"]
        if t["transactionDate"] >= start
    }

    sample = await transaction_sample(db, settings, start, size=200)

    assert list(sample.columns) == ["totalAmount", "quantity"]
    assert len(sample) == 200
    assert set(zip(sample.totalAmount, sample.quantity, strict=True)) <= window
