"""The composition root: builds the shared core, registers each capability, wires the routers."""

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from loguru import logger

from app.anomaly import api as anomaly_api
from app.anomaly.service import AnomalyService
from app.config import APP_NAME, APP_VERSION, Settings, get_settings
from app.core.clock import Clock, utc_now
from app.core.db import Database
from app.core.http import (
    READ_RESPONSES,
    AllowedHosts,
    BodySizeLimit,
    CrossSiteGuard,
    ModelSync,
    ModelVersionHeader,
    ReadAccess,
    RequestLog,
    ShutdownAnswer,
    install_error_handlers,
    install_offline_docs,
    warn_if_open,
)
from app.core.lifecycle import FitWorker, JobLog, Leases, ModelParts, ModelRegistry
from app.core.observability import RequestMetrics, ServiceMetrics
from app.core.routes import open_routers, read_routers
from app.core.store import ArtifactStore, GridFSModelStore, LocalModelStore, ModelStore, signing_key
from app.forecast import api as forecast_api
from app.forecast.service import ForecastService
from app.logging import configure_logging
from app.recommend import api as recommend_api
from app.recommend.service import RecommendService
from app.ui import router as ui_router
from app.ui.page import UiPage

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
    jobs: JobLog
    metrics: ServiceMetrics
    forecast: ForecastService
    anomaly: AnomalyService
    recommend: RecommendService
    ui: UiPage


def build_state(settings: Settings, clock: Clock, service_metrics: ServiceMetrics) -> AppState:
    """Builds the core and one service per capability, and registers each capability's model
    with the registry; nothing connects, trains or runs in the background yet."""
    database = Database(settings)
    seconds = settings.MONGODB_TIMEOUT_MS / 1000
    jobs = JobLog(database.db, settings.JOBS_COLLECTION, seconds, clock)
    leases = Leases(database.db, settings.JOBS_COLLECTION, jobs.replica, seconds)
    store = _model_store(settings, database)
    registry = ModelRegistry(
        ModelParts(settings, database, store, FitWorker(), jobs, leases, clock)
    )
    forecast = ForecastService(settings, database.db, registry, clock)
    anomaly = AnomalyService(settings, database.db, registry, clock)
    recommend = RecommendService(settings, database.db, registry, clock)
    registry.register(forecast.spec())
    registry.register(anomaly.spec())
    registry.register(recommend.spec())
    return AppState(
        settings=settings,
        clock=clock,
        database=database,
        registry=registry,
        jobs=jobs,
        metrics=service_metrics,
        forecast=forecast,
        anomaly=anomaly,
        recommend=recommend,
        ui=UiPage(database, registry, forecast, anomaly, recommend, clock),
    )


def _lifespan(
    settings: Settings, clock: Clock, service_metrics: ServiceMetrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[AppState]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[AppState]:
        """Builds the state, then starts serving at once: the database watcher, the registry
        and the recommender's filters run their own background tasks, stopped at shutdown."""
        configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
        warn_if_open(settings)
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        state = build_state(settings, clock, service_metrics)
        database, registry = state["database"], state["registry"]
        service_metrics.watch(registry, database, clock)
        database.start()
        registry.start()
        state["recommend"].start()
        logger.info("{} {} started", APP_NAME, APP_VERSION)
        try:
            yield state
        finally:
            # Side by side, each bounded (2 s), then the client: with uvicorn's graceful period
            # (5 s), a stop ends within docker's 10 s even while MongoDB stalls.
            await asyncio.gather(state["ui"].stop(), state["recommend"].stop(), registry.stop())
            await database.stop()
            service_metrics.unwatch()
            logger.info("{} stopped", APP_NAME)

    return lifespan


def _model_store(settings: Settings, database: Database) -> ModelStore:
    """The store MODEL_STORE names; a GridFS one keeps each host's copies in MODEL_SAVE_PATH."""
    key = settings.MODEL_SIGNING_KEY
    files = ArtifactStore(
        settings.MODEL_SAVE_PATH,
        signing_key(key.get_secret_value() if key else None, settings.MODEL_SIGNING_KEY_FILE),
        settings.MODEL_KEEP_VERSIONS,
    )
    if settings.MODEL_STORE == "local":
        return LocalModelStore(files)
    if key is None:
        logger.warning(
            "MODEL_STORE=gridfs without MODEL_SIGNING_KEY: replicas on other hosts make keys "
            "of their own and refuse this one's versions. Set the same MODEL_SIGNING_KEY on "
            "every replica."
        )
    return GridFSModelStore(
        files,
        database.db,
        settings.MODEL_GRIDFS_BUCKET,
        settings.MONGODB_TIMEOUT_MS / 1000,
        settings.TRAINING_TIMEOUT_SECONDS,
        settings.MODEL_KEEP_VERSIONS,
    )


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids for generated clients: `<tag>-<function name>`."""
    tag = route.tags[0] if route.tags else "service"
    return f"{str(tag).lower().replace(' ', '_')}-{route.name}"


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    """The composition root: builds the application and wires the core to each capability;
    nothing connects or trains until the lifespan starts."""
    settings = settings or get_settings()
    service_metrics = ServiceMetrics()
    app = FastAPI(
        title=APP_NAME,
        version=APP_VERSION,
        debug=settings.AI_SERVICE_DEBUG,
        lifespan=_lifespan(settings, clock, service_metrics),
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        description="Daily sales forecasting, anomaly detection on transactions and product "
        "recommendations for the Adaptive BI platform, over its MongoDB data.",
    )
    # Added innermost first: a request meets the metrics, the log line, the host check, the
    # shutdown answer, CORS, the cross-site guard, the body limit, then the models are synced
    # with the store, before any route.
    app.add_middleware(ModelVersionHeader)
    app.add_middleware(ModelSync)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.MAX_REQUEST_BODY_BYTES,
        timeout_seconds=settings.REQUEST_BODY_TIMEOUT_SECONDS,
    )
    app.add_middleware(CrossSiteGuard, allowed_origins=settings.CORS_ORIGINS)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ORIGINS,
        allow_credentials="*" not in settings.CORS_ORIGINS,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    # A request cut by shutdown answers 503 (not uvicorn's 500), logged and counted as such.
    app.add_middleware(ShutdownAnswer)
    app.add_middleware(AllowedHosts, allowed_hosts=settings.ALLOWED_HOSTS)
    app.add_middleware(RequestLog)
    app.add_middleware(RequestMetrics, metrics=service_metrics)  # outermost: times them all
    install_error_handlers(app)
    install_offline_docs(app)
    for router in open_routers():
        app.include_router(router)
    for router in (
        *read_routers(),
        forecast_api.router,
        anomaly_api.router,
        recommend_api.router,
    ):
        app.include_router(router, dependencies=[ReadAccess], responses=READ_RESPONSES)
    app.include_router(ui_router.router)  # checks access itself: a key, or a signed-in session
    return app


app = create_app()
