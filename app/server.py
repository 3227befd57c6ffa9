"""Serves the API with uvicorn, its logs going through loguru: `python -m app.server`.

With AI_SERVICE_WORKERS above 1, uvicorn starts that many worker processes sharing the port;
each builds the application from the environment (`app.main:app`). They share the model store:
the training lease lets one of them train a model, and every one serves the version in the
store's `current` pointer (see `ModelRegistry.sync`)."""

import uvicorn

from app.config import Settings, get_settings
from app.logging import configure_logging


def serve(settings: Settings) -> None:
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    from app.main import create_app

    workers = settings.AI_SERVICE_WORKERS
    uvicorn.run(
        "app.main:app" if workers > 1 else create_app(settings),
        workers=workers,
        host=settings.AI_SERVICE_HOST,
        port=settings.AI_SERVICE_PORT,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    serve(get_settings())
