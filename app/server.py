"""Serves the API with uvicorn, its logs going through loguru: `python -m app.server`."""

import uvicorn

from app.config import Settings, get_settings
from app.logging import configure_logging


def serve(settings: Settings) -> None:
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    from app.main import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.AI_SERVICE_HOST,
        port=settings.AI_SERVICE_PORT,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    serve(get_settings())
