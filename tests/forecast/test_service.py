"""The forecast kept serialized: the same bytes for the same question of the same model, a new
answer for a new model or a new day."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd

from app.core.lifecycle import ModelRegistry
from app.forecast.inputs import ForecastInput
from app.forecast.model import Forecasters, fit_model
from app.forecast.service import ForecastService
from tests.factories import make_settings, weekly_series


@dataclass
class Registry:
    """The registry's reads a forecast makes."""

    model: Forecasters
    versions: list[str] = field(default_factory=lambda: ["v1"])

    def live(self, _name: str) -> Forecasters:
        return self.model

    def version(self, _name: str) -> str:
        return self.versions[-1]


def _forecasters(days: int) -> Forecasters:
    series = weekly_series(days)  # short: the weekday mean is served, fitted at once
    return fit_model(ForecastInput(series, pd.DataFrame({"a": series / 2}), "ensemble", 5))


async def test_a_forecast_is_serialized_once_per_model_and_question(tmp_path: Path) -> None:
    first = _forecasters(20)
    registry = Registry(first)
    now = datetime.combine(first.total.last_day.date() + timedelta(days=1), datetime.min.time())
    clock = [now]
    service = ForecastService(
        make_settings("mongodb://127.0.0.1:1", tmp_path),
        cast(Any, None),
        cast(ModelRegistry, registry),
        lambda: clock[-1],
    )

    answer = await service.predict_json(7, 80)

    assert await service.predict_json(7, 80) is answer
    assert json.loads(answer) == (await service.predict(7, 80)).model_dump(mode="json")
    assert json.loads(await service.predict_json(7, 80, "a"))["category"] == "a"
    clock.append(now + timedelta(days=1))
    tomorrow = json.loads(await service.predict_json(7, 80))
    assert tomorrow["forecast"][0]["date"] == (now + timedelta(days=1)).date().isoformat()
    registry.model, registry.versions = _forecasters(21), ["v1", "v2"]
    newer = json.loads(await service.predict_json(7, 80))
    assert newer["model_version"] == "v2"
    assert newer["history_end"] == registry.model.total.last_day.date().isoformat()
