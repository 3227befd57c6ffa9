"""Counts every HTTP request and times it, labelled by the route that matched.

A pure ASGI middleware (no `BaseHTTPMiddleware`, which runs the app in a task of its own per
request). The label is the matched route's template (`/api/v1/recommend/user/{user_id}`),
never the raw path: a label value per user id would grow without bound. Requests no route
matched share one label."""

import time

from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.observability.metrics import UNMATCHED, ServiceMetrics

# Any token is a valid method on the wire: the others share one label.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        received = dict(scope)  # as it came: the router rewrites paths on its way to a mount
        status = 500  # unless the app starts an answer: an exception escaped it

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_with_status)
        finally:
            route = _template(scope, received)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self._metrics.observe_request(route, method, status, time.perf_counter() - started)


def _template(scope: Scope, received: Scope) -> str:
    """The template of the route that answered. FastAPI records its own routes in the scope,
    which it shares with us; Starlette's (`/openapi.json`, the docs assets' mount) are found
    by matching the request as it came against the application's routes."""
    route = scope.get("route")
    if route is None:
        for candidate in getattr(scope.get("app"), "routes", ()):
            if (
                isinstance(candidate, Route | Mount)
                and candidate.matches(received)[0] is Match.FULL
            ):
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
