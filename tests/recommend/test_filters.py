"""The in-memory filters when MongoDB cannot be reached: nothing is served half-filtered."""

from pathlib import Path

from pymongo import AsyncMongoClient

from app.recommend.filters import ServingFilters
from app.recommend.model import train_recommender
from app.recommend.queries import RecommendQueries
from tests import factories
from tests.factories import (
    free_port,
    make_settings,
    recommender_config,
    taste_purchases,
)


async def test_a_model_whose_catalogue_cannot_be_read_is_not_served(tmp_path: Path) -> None:
    url = f"mongodb://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(
        url, tmp_path, MONGODB_TIMEOUT_MS=200, RECOMMEND_READ_TIMEOUT_SECONDS=0.2
    )
    client: AsyncMongoClient = AsyncMongoClient(url, serverSelectionTimeoutMS=200)
    filters = ServingFilters(
        RecommendQueries(client["shop"], settings), settings, factories.test_clock
    )
    model = train_recommender(taste_purchases(), recommender_config())

    await filters.prepare(model, {"version": "20260615T120000Z-000001"})
    await filters.refresh()

    await client.close()
    assert filters.snapshot is None
    assert filters.purchases_read_at is None
    assert filters.last_error is not None
    assert filters.last_error.startswith(
        "Reading the catalogue failed: The database is unreachable"
    )
