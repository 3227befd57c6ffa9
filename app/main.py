"""The composition root: builds the shared core, registers each capability, wires the routers."""

import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from loguru import logger

from app.anomaly import api as anomaly_api
from app.anomaly.service import AnomalyService
from app.config import APP_NAME, APP_VERSION, Settings, get_settings
from app.core import health, service_routes, training
from app.core.clock import Clock, utc_now
from app.core.database import Database
from app.core.docs import install_offline_docs
from app.core.http_errors import install_error_handlers
from app.core.names import MODEL_NAMES
from app.core.registry import ModelRegistry
from app.core.runner import FitRunner
from app.core.store import ArtifactStore
from app.forecast import api as forecast_api
from app.forecast.service import ForecastService
from app.logging import configure_logging
from app.recommend import api as recommend_api
from app.recommend.service import RecommendService
from app.ui import router as ui_router
from app.ui.page import UiPage

_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")
# Fits run in a worker process, but scoring, saving and loading models run in threads of the
# server; the event loop's thread waits at most this long for the GIL (Python's default is
# 5 ms), which keeps health and predictions fast meanwhile.
GIL_SWITCH_SECONDS = 0.001


class AppState(TypedDict):
    """What every request can reach (`request.state`): the core and each capability's service."""

    settings: Settings
    clock: Clock
    database: Database
    registry: ModelRegistry
    forecast: ForecastService
    anomaly: AnomalyService
    recommend: RecommendService
    ui: UiPage


def _lifespan(
    settings: Settings, clock: Clock
) -> Callable[[FastAPI], AbstractAsyncContextManager[AppState]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[AppState]:
        """Builds the core and registers each capability, then starts serving at once: the
        database watcher and the registry run their own background tasks, stopped at shutdown."""
        configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        database = Database(settings)
        registry = ModelRegistry(
            settings, database, ArtifactStore(settings.MODEL_SAVE_PATH), FitRunner(), clock
        )
        forecast = ForecastService(settings, database.db, registry, clock)
        anomaly = AnomalyService(settings, database.db, registry, clock)
        recommend = RecommendService(settings, database.db, registry, clock)
        state = AppState(
            settings=settings,
            clock=clock,
            database=database,
            registry=registry,
            forecast=forecast,
            anomaly=anomaly,
            recommend=recommend,
            ui=UiPage(database, registry, forecast, anomaly, recommend, clock),
        )
        for service in (state["forecast"], state["anomaly"], state["recommend"]):
            registry.register(service.spec())
        database.start()
        registry.start()
        state["recommend"].start()
        logger.info("{} {} started", APP_NAME, APP_VERSION)
        try:
            yield state
        finally:
            await state["ui"].stop()
            await state["recommend"].stop()
            await registry.stop()
            await database.stop()
            logger.info("{} stopped", APP_NAME)

    return lifespan


async def _log_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """One line per request: method, path, status, duration, and the request id, which is taken
    from `X-Request-ID` when the caller sends a sane one and returned in that header."""
    given = request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
    finally:
        logger.info(
            "{} {} {} {:.1f}ms request_id={}",
            request.method,
            request.url.path,
            status,
            (time.perf_counter() - started) * 1000,
            request_id,
        )
    response.headers["X-Request-ID"] = request_id
    return response


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids for generated clients: `<tag>-<function name>`."""
    tag = route.tags[0] if route.tags else "service"
    return f"{str(tag).lower().replace(' ', '_')}-{route.name}"


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    """The composition root: builds the application and wires the core to each capability;
    nothing connects or trains until the lifespan starts."""
    settings = settings or get_settings()
    app = FastAPI(
        title=APP_NAME,
        version=APP_VERSION,
        debug=settings.AI_SERVICE_DEBUG,
        lifespan=_lifespan(settings, clock),
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        description="Daily sales forecasting, anomaly detection on transactions and product "
        "recommendations for the Adaptive BI platform, over its MongoDB data.",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ORIGINS,
        allow_credentials="*" not in settings.CORS_ORIGINS,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.middleware("http")(_log_request)
    install_error_handlers(app)
    install_offline_docs(app)
    for router in (
        service_routes.router,
        health.router,
        training.training_router(MODEL_NAMES),
        forecast_api.router,
        anomaly_api.router,
        recommend_api.router,
        ui_router.router,
    ):
        app.include_router(router)
    return app


app = create_app()
