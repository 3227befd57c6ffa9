"""The anomaly model's use cases: what training reads, and scoring the points a client sends."""

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from app.anomaly.features import FEATURES, canonical_features, feature_values
from app.anomaly.queries import transaction_sample
from app.anomaly.schemas import AnomalyResult, AnomalyStatus
from app.config import Settings
from app.core.registry import ModelRegistry, ModelSpec, TrainingData
from app.core.schemas import TrainResponse

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    from app.anomaly.model import AnomalyModel


class AnomalyService:
    def __init__(
        self, settings: Settings, db: AsyncDatabase[dict[str, Any]], registry: ModelRegistry
    ) -> None:
        self._settings = settings
        self._db = db
        self._registry = registry

    def spec(self) -> ModelSpec:
        return ModelSpec(
            name="anomaly",
            model_type=self._settings.ANOMALY_MODEL_TYPE,
            read=self._read,
            fit="app.anomaly.model:train_anomaly_detector",
        )

    async def _read(self, now: datetime) -> TrainingData:
        s = self._settings
        start = now - timedelta(days=s.DATA_COLLECTION_DAYS)
        sample = await transaction_sample(self._db, s, start, s.ANOMALY_SAMPLE_SIZE)
        arguments = (
            sample[FEATURES].to_numpy(),
            FEATURES,
            s.ANOMALY_MODEL_TYPE,
            s.ANOMALY_THRESHOLD,
        )
        return TrainingData(arguments, len(sample), start, now)

    async def train(self) -> TrainResponse:
        return await self._registry.train("anomaly")

    async def detect(
        self, points: list[dict[str, Any]], requested_features: list[str]
    ) -> list[AnomalyResult]:
        """Scores every point in one vectorised call; an empty batch is an empty answer."""
        if not points:
            return []
        model = cast("AnomalyModel", self._registry.live("anomaly"))
        features = canonical_features(requested_features, model.feature_names)
        values = await asyncio.to_thread(feature_values, points, features)
        scores, flags = await asyncio.to_thread(model.score, values)
        return [
            AnomalyResult(
                is_anomaly=bool(flag),
                anomaly_score=float(score),
                data=point,
                details=dict(zip(features, map(float, row), strict=True)),
            )
            for point, score, flag, row in zip(points, scores, flags, values, strict=True)
        ]

    def status(self) -> AnomalyStatus:
        model = cast("AnomalyModel | None", self._registry.live_or_none("anomaly"))
        contamination = (
            model.contamination if model is not None else self._settings.ANOMALY_THRESHOLD
        )
        return AnomalyStatus(
            **self._registry.describe("anomaly").model_dump(),
            contamination_threshold=contamination,
        )
