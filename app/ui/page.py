"""What the page shows, gathered from the same service calls the API routes make.

Each section is gathered on its own: a model that is loading, training, not trained or failed,
or a database that is down, leaves a message in its section (the `ServiceError`'s sentence) and
the other sections are shown as usual. The anomaly section scans the stored transactions of its
window, which takes longer than the page's budget on a shop's data, so its answer is kept per
window and model version, and refreshed in the background (see `app.ui.cache`)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from markupsafe import Markup

from app.anomaly.schemas import RecentAnomalies
from app.anomaly.service import AnomalyService
from app.core.clock import Clock
from app.core.db import Database
from app.core.lifecycle import ModelRegistry
from app.core.names import ModelName
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
from app.ui.cache import RefreshingCache

T = TypeVar("T")
MAX_ANOMALY_DAYS = 30  # the page offers 7 and 30 days; a link may ask for any up to this
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

    horizon: int
    category: str | None = None
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
    computed_at: datetime | None
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


AnomalyKey = tuple[int, str | None]  # (days, model version)


def _obsolete(new: AnomalyKey, old: AnomalyKey) -> bool:
    """A window's new answer replaces its old one, and any answer of another model version."""
    return new == old or new[1] != old[1]


@dataclass(eq=False)
class UiPage:
    """Gathers the page from the services; one per application (built in the lifespan)."""

    database: Database
    registry: ModelRegistry
    forecasts: ForecastService
    anomalies: AnomalyService
    recommendations: RecommendService
    clock: Clock
    _anomalies_kept: RefreshingCache[AnomalyKey, RecentAnomalies] = field(init=False)

    def __post_init__(self) -> None:
        self._anomalies_kept = RefreshingCache(self.clock, _obsolete)

    async def stop(self) -> None:
        await self._anomalies_kept.stop()

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
        kept = await _attempt_awaited(
            lambda: self._anomalies_kept.get(
                (days, status.version), lambda: self.anomalies.recent(days, MOST_ANOMALOUS)
            )
        )
        recent = Outcome(kept.value.value if kept.value else None, kept.error)
        return AnomalySection(
            status=status,
            recent=recent,
            computed_at=kept.value.computed_at if kept.value else None,
            chart=(
                Markup(
                    charts.bar_chart(
                        [(day.date, day.flagged) for day in recent.value.per_day],
                        "flagged transactions",
                    )
                )
                if recent.value is not None
                else None
            ),
            json_url=f"/api/v1/anomaly/recent?days={days}&limit={MOST_ANOMALOUS}",
        )

    def _recommend(self, query: PageQuery) -> RecommendSection:
        service, user, product = self.recommendations, query.user, query.product
        return RecommendSection(
            status=service.status(),
            user=_attempt(lambda: service.recommend(user, SHOWN_PRODUCTS)) if user else None,
            similar=_attempt(lambda: service.similar(product, SHOWN_PRODUCTS)) if product else None,
        )
