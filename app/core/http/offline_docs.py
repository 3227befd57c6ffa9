"""Swagger UI and ReDoc served with their JavaScript and CSS from the service itself, so that
`/docs` works on a closed network. The assets come from the pinned `fastapi-offline` package
(Swagger UI 5 and ReDoc 2 bundles); FastAPI's own docs routes, which load them from a CDN, are
turned off in `create_app`."""

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"


def _assets_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def _page(body: bytes) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        return HTMLResponse(body)

    return page


def install_offline_docs(app: FastAPI) -> None:
    """Mounts the assets and serves /docs and /redoc, rendered once, pointing at them."""
    app.mount(ASSETS_PATH, StaticFiles(directory=_assets_directory()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    favicon = f"{ASSETS_PATH}/favicon.png"
    pages = {
        "/docs": get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=favicon,
        ),
        "/redoc": get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        ),
    }
    for path, html in pages.items():
        app.add_api_route(path, _page(bytes(html.body)), methods=["GET"], include_in_schema=False)
