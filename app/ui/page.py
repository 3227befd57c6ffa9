"""What the page shows, gathered from the same service calls the API routes make.

Each section is gathered on its own: a model that is loading, training, not trained or failed,
or a database that is down, leaves a message in its section (the `ServiceError`'s sentence) and
the other sections are shown as usual. The anomaly section scans the stored transactions of its
window, which takes longer than the page's budget on a shop's data, so its result is kept for
ANOMALY_CACHE_SECONDS per window and model version."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from markupsafe import Markup

from app.anomaly.schemas import RecentAnomalies
from app.anomaly.service import AnomalyService
from app.core.database import Database
from app.core.names import ModelName
from app.core.registry import ModelRegistry
from app.core.schemas import ModelStatus
from app.errors import ServiceError
from app.forecast.schemas import CategoriesResponse, ForecastResponse, RecentSales
from app.forecast.service import ForecastService
from app.recommend.schemas import (
    RecommendationResponse,
    RecommendStatus,
    SimilarProductsResponse,
)
from app.recommend.service import RecommendService
from app.ui import charts

T = TypeVar("T")
MAX_ANOMALY_DAYS = 30  # the page offers 7 and 30 days; a link may ask for any up to this
ANOMALY_CACHE_SECONDS = 30.0
MOST_ANOMALOUS = 10
SHOWN_PRODUCTS = 10
INTERVAL_LEVEL = 80


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A service call's answer, or the sentence of the `ServiceError` it raised."""

    value: T | None = None
    error: str | None = None


def _attempt(call: Callable[[], T]) -> Outcome[T]:
    try:
        return Outcome(value=call())
    except ServiceError as exc:
        return Outcome(error=exc.detail)


async def _attempt_awaited(call: Callable[[], Awaitable[T]]) -> Outcome[T]:
    try:
        return Outcome(value=await call())
    except ServiceError as exc:
        return Outcome(error=exc.detail)


@dataclass(frozen=True)
class PageQuery:
    """The page's query parameters: every form on the page is a GET that sets some of them."""

    category: str | None = None
    horizon: int = 14
    days: int = 7
    user: str | None = None
    product: str | None = None


@dataclass(frozen=True)
class ForecastSection:
    status: ModelStatus
    categories: Outcome[CategoriesResponse]
    prediction: Outcome[ForecastResponse]
    recent: Outcome[RecentSales]
    chart: Markup | None


@dataclass(frozen=True)
class AnomalySection:
    status: ModelStatus
    recent: Outcome[RecentAnomalies]
    chart: Markup | None
    json_url: str


@dataclass(frozen=True)
class RecommendSection:
    status: RecommendStatus
    user: Outcome[RecommendationResponse] | None
    similar: Outcome[SimilarProductsResponse] | None


@dataclass(frozen=True)
class HealthSection:
    database_connected: bool
    models: dict[ModelName, ModelStatus]


@dataclass(frozen=True)
class Page:
    query: PageQuery
    forecast: ForecastSection
    anomaly: AnomalySection
    recommend: RecommendSection
    health: HealthSection


@dataclass
class AnomalyCache:
    """The last `recent` answer per (days, model version), kept for ANOMALY_CACHE_SECONDS."""

    entries: dict[tuple[int, str | None], tuple[float, RecentAnomalies]] = field(
        default_factory=dict
    )

    def get(self, key: tuple[int, str | None]) -> RecentAnomalies | None:
        found = self.entries.get(key)
        return found[1] if found and time.monotonic() - found[0] < ANOMALY_CACHE_SECONDS else None

    def put(self, key: tuple[int, str | None], value: RecentAnomalies) -> None:
        self.entries = {k: v for k, v in self.entries.items() if k[1] == key[1] and k != key} | {
            key: (time.monotonic(), value)
        }


@dataclass(eq=False)
class UiPage:
    """Gathers the page from the services; one per application (built in the lifespan)."""

    database: Database
    registry: ModelRegistry
    forecasts: ForecastService
    anomalies: AnomalyService
    recommendations: RecommendService
    _cached: AnomalyCache = field(default_factory=AnomalyCache)

    async def gather(self, query: PageQuery) -> Page:
        return Page(
            query=query,
            forecast=await self._forecast(query),
            anomaly=await self._anomaly(query.days),
            recommend=self._recommend(query),
            health=HealthSection(
                database_connected=self.database.connected,
                models={name: self.registry.describe(name) for name in self.registry.states()},
            ),
        )

    async def _forecast(self, query: PageQuery) -> ForecastSection:
        service = self.forecasts
        prediction = await _attempt_awaited(
            lambda: service.predict(query.horizon, INTERVAL_LEVEL, query.category)
        )
        recent = _attempt(lambda: service.recent_sales(query.category))
        chart = None
        if prediction.value is not None and recent.value is not None:
            chart = Markup(
                charts.forecast_chart(
                    [(day.date, day.sales) for day in recent.value.sales],
                    [
                        charts.BandPoint(p.date, p.predicted_sales, p.lower, p.upper)
                        for p in prediction.value.forecast
                    ],
                )
            )
        return ForecastSection(
            status=self.registry.describe("forecast"),
            categories=_attempt(service.categories),
            prediction=prediction,
            recent=recent,
            chart=chart,
        )

    async def _anomaly(self, days: int) -> AnomalySection:
        status = self.registry.describe("anomaly")
        key = (days, status.version)
        cached = self._cached.get(key)
        recent = (
            Outcome(value=cached)
            if cached is not None
            else await _attempt_awaited(lambda: self.anomalies.recent(days, MOST_ANOMALOUS))
        )
        chart = None
        if recent.value is not None:
            if cached is None:
                self._cached.put(key, recent.value)
            chart = Markup(
                charts.bar_chart(
                    [(day.date, day.flagged) for day in recent.value.per_day],
                    "flagged transactions",
                )
            )
        return AnomalySection(
            status=status,
            recent=recent,
            chart=chart,
            json_url=f"/api/v1/anomaly/recent?days={days}&limit={MOST_ANOMALOUS}",
        )

    def _recommend(self, query: PageQuery) -> RecommendSection:
        service, user, product = self.recommendations, query.user, query.product
        return RecommendSection(
            status=service.status(),
            user=_attempt(lambda: service.recommend(user, SHOWN_PRODUCTS)) if user else None,
            similar=_attempt(lambda: service.similar(product, SHOWN_PRODUCTS)) if product else None,
        )
