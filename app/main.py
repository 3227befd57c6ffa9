"""The FastAPI application: shared resources built in the lifespan, thin routers, one error map."""

import asyncio
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from loguru import logger

from app.api.errors import install_error_handlers
from app.api.routes import anomaly, forecast, health, recommend, service
from app.config import APP_NAME, APP_VERSION, Settings, get_settings
from app.database import Database
from app.logging import configure_logging
from app.models.model_manager import ModelManager
from app.models.store import ArtifactStore
from app.services.data_processor import DataProcessor

_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")
# Training threads hold the GIL between Python steps; the event loop's thread waits at most this
# long for it (Python's default is 5 ms), which keeps health and predictions fast meanwhile.
GIL_SWITCH_SECONDS = 0.001


def _lifespan(settings: Settings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        """Starts serving at once: the database is watched and the models are loaded or
        trained by background tasks, which stop cleanly at shutdown."""
        configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        database = Database(settings)
        data = DataProcessor(database.db, settings)
        manager = ModelManager(settings, database, data, ArtifactStore(settings.MODEL_SAVE_PATH))
        database.on_connect(manager.on_database_back)
        tasks = [
            asyncio.create_task(database.watch(), name="database-watch"),
            asyncio.create_task(manager.start(), name="models-start"),
        ]
        if settings.RETRAIN_INTERVAL_HOURS > 0:
            tasks.append(asyncio.create_task(manager.retrain_periodically(), name="retrain"))
        if settings.UNTRAINED_RETRY_MINUTES > 0:
            tasks.append(
                asyncio.create_task(manager.retry_untrained_periodically(), name="retry-untrained")
            )
        logger.info("{} {} started", APP_NAME, APP_VERSION)
        try:
            yield {"settings": settings, "database": database, "data": data, "manager": manager}
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await manager.stop()
            await database.close()
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the application; nothing connects or trains until the lifespan starts."""
    settings = settings or get_settings()
    app = FastAPI(
        title=APP_NAME,
        version=APP_VERSION,
        debug=settings.AI_SERVICE_DEBUG,
        lifespan=_lifespan(settings),
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
    for module in (service, health, forecast, anomaly, recommend):
        app.include_router(module.router)
    return app


app = create_app()
