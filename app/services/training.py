"""What training each model means: which data to read, then which fit to run off the event loop.

Each trainer reads MongoDB through the data processor (async), fits in a worker thread, and
returns the model with the facts its metadata records. Time spent in the database and in the
model is measured apart, since the embedded database scans far slower than MongoDB."""

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, TypeVar

from app.config import Settings
from app.services.data_processor import AMOUNT, QUANTITY, DataProcessor

ANOMALY_FEATURES = [AMOUNT, QUANTITY]
T = TypeVar("T")


@dataclass
class Trained:
    """A fitted model and the facts about its training that go into its metadata."""

    model: Any
    rows: int
    window_start: datetime
    window_end: datetime
    metrics: dict[str, float]
    feature_names: list[str] = field(default_factory=list)
    query_seconds: float = 0.0
    fit_seconds: float = 0.0

    def metadata(self, model_type: str) -> dict[str, Any]:
        return {
            "model_type": model_type,
            "trained_at": datetime.now(UTC).isoformat(),
            "data_window": {
                "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat(),
            },
            "rows_used": self.rows,
            "metrics": self.metrics,
            "feature_names": self.feature_names,
            "query_seconds": round(self.query_seconds, 3),
            "fit_seconds": round(self.fit_seconds, 3),
        }


Trainer = Callable[[DataProcessor, Settings, datetime], Awaitable[Trained]]


def start_of_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ml(module: str) -> ModuleType:
    """An ML module, imported on first use in the worker thread: scikit-learn and SciPy take
    seconds to import, and the API must answer at once after start-up."""
    return importlib.import_module(f"app.models.{module}")


async def _timed(work: Awaitable[T]) -> tuple[T, float]:
    """The result of `work` and the seconds it took."""
    started = time.perf_counter()
    result = await work
    return result, time.perf_counter() - started


async def _timed_fit(fit: Callable[[], Any]) -> tuple[Any, float]:
    """Runs a fit in a worker thread, off the event loop; returns the model and its seconds."""
    return await _timed(asyncio.to_thread(fit))


async def train_forecast(data: DataProcessor, settings: Settings, now: datetime) -> Trained:
    """Complete UTC days of the collection window; today is still filling up, so left out."""
    end = start_of_day(now)
    start = end - timedelta(days=settings.DATA_COLLECTION_DAYS)
    series, query_seconds = await _timed(data.daily_sales(start, end))
    model, fit_seconds = await _timed_fit(
        lambda: _ml("forecasting").train_forecaster(series, settings.FORECAST_MODEL_TYPE)
    )
    return Trained(
        model,
        len(series),
        start,
        end,
        model.metrics,
        model.feature_names,
        query_seconds,
        fit_seconds,
    )


async def train_anomaly(data: DataProcessor, settings: Settings, now: datetime) -> Trained:
    start = now - timedelta(days=settings.DATA_COLLECTION_DAYS)
    sample, query_seconds = await _timed(
        data.transaction_sample(start, settings.ANOMALY_SAMPLE_SIZE)
    )
    model, fit_seconds = await _timed_fit(
        lambda: _ml("anomaly_detection").train_anomaly_detector(
            sample[ANOMALY_FEATURES].to_numpy(),
            ANOMALY_FEATURES,
            settings.ANOMALY_MODEL_TYPE,
            settings.ANOMALY_THRESHOLD,
        )
    )
    return Trained(
        model,
        len(sample),
        start,
        now,
        model.metrics,
        ANOMALY_FEATURES,
        query_seconds,
        fit_seconds,
    )


async def train_recommend(data: DataProcessor, settings: Settings, now: datetime) -> Trained:
    start = now - timedelta(days=settings.DATA_COLLECTION_DAYS)
    interactions, query_seconds = await _timed(
        data.user_item_interactions(start, settings.MIN_INTERACTIONS_FOR_RECOMMENDATION)
    )
    model, fit_seconds = await _timed_fit(
        lambda: _ml("recommendation").train_recommender(
            interactions, settings.RECOMMENDER_COMPONENTS
        )
    )
    return Trained(
        model, len(interactions), start, now, model.metrics, [], query_seconds, fit_seconds
    )
