"""The model registry freezes the garbage collector after installing a model, which is only safe
if a replaced model is freed by reference counting: models must hold no reference cycles."""

import gc
import io
from collections.abc import Callable

import joblib
import pytest

from app.anomaly.model import train_from_sample
from app.forecast.model import train_forecaster
from app.recommend.model import train_recommender
from tests.factories import (
    priced_sample,
    product_references,
    recommender_config,
    taste_purchases,
    weekly_series,
)

TRAINERS: dict[str, Callable[[], object]] = {
    "forecast": lambda: train_forecaster(weekly_series(), "RandomForestRegressor"),
    "anomaly": lambda: train_from_sample(priced_sample(), product_references(), {}, "ECOD", 0.01),
    "anomaly-forest": lambda: train_from_sample(
        priced_sample(), product_references(), {}, "IsolationForest", 0.01
    ),
    "recommend": lambda: train_recommender(taste_purchases(), recommender_config()),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINERS)
def test_a_model_and_its_reloaded_copy_leave_no_cyclic_garbage(name: str) -> None:
    model = TRAINERS[name]()
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    reloaded = joblib.load(buffer)
    gc.collect()

    del model, reloaded

    assert gc.collect() == 0
