"""Serves the API with uvicorn, its logs going through loguru: `python -m app.server`.

Connections: idle keep-alive connections stay open AI_SERVICE_KEEP_ALIVE_SECONDS, longer than
the callers' pools keep them, so a client never reuses a connection the server is closing; at
most AI_SERVICE_MAX_CONCURRENCY connections and requests are held, beyond which uvicorn answers
503 at once (the service's JSON sentence); a request head must arrive within
REQUEST_HEAD_TIMEOUT_SECONDS, or the connection is closed (`app.server_protocol`); bodies are
bounded by MAX_REQUEST_BODY_BYTES.
Shutdown waits AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS for requests under way, then stops.
`X-Forwarded-For` is read only from the proxies TRUSTED_PROXIES names (none by default),
whatever FORWARDED_ALLOW_IPS says.

With AI_SERVICE_WORKERS above 1, uvicorn starts that many worker processes sharing the port;
each builds the application from the environment (`app.main:app`). They share the model store:
the training lease lets one of them train a model, and every one serves the version in the
store's `current` pointer (see `ModelRegistry.sync`)."""

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from app.config import Settings, get_settings
from app.core.observability import MULTIPROCESS_DIRECTORY
from app.logging import configure_logging
from app.server_protocol import HeadTimeoutProtocol


def server_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn's options for the service (those of `uvicorn.Config`). The HTTP protocol is
    httptools' with a deadline on request heads: a partial of a module-level class, so that
    uvicorn's worker processes (started with `spawn`) receive it pickled."""
    return dict(
        workers=settings.AI_SERVICE_WORKERS,
        loop="uvloop",
        http=functools.partial(
            HeadTimeoutProtocol, head_timeout=settings.REQUEST_HEAD_TIMEOUT_SECONDS
        ),
        host=settings.AI_SERVICE_HOST,
        port=settings.AI_SERVICE_PORT,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.AI_SERVICE_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=settings.AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS,
        limit_concurrency=settings.AI_SERVICE_MAX_CONCURRENCY,
        # Both explicit: uvicorn would otherwise read FORWARDED_ALLOW_IPS from the environment
        # and trust X-Forwarded-For from loopback.
        proxy_headers=bool(settings.TRUSTED_PROXIES),
        forwarded_allow_ips=settings.TRUSTED_PROXIES,
    )


def serve(settings: Settings) -> None:
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    from app.main import create_app

    workers = settings.AI_SERVICE_WORKERS
    if workers > 1:
        _share_metrics_between_workers()
    uvicorn.run("app.main:app" if workers > 1 else create_app(settings), **server_options(settings))


def _share_metrics_between_workers() -> None:
    """Workers count into files of one fresh directory, which every scrape sums (see
    `app.core.observability.metrics`); set before they start, since prometheus-client reads
    it at import."""
    if not os.environ.get(MULTIPROCESS_DIRECTORY):
        os.environ[MULTIPROCESS_DIRECTORY] = tempfile.mkdtemp(prefix="ai-service-metrics-")
    for stale in Path(os.environ[MULTIPROCESS_DIRECTORY]).glob("*.db"):
        stale.unlink()


if __name__ == "__main__":
    serve(get_settings())
