"""The `X-Model-Version` header: which training produced the model an answer comes from.

The service that answers with a model notes its version (`note_served`); this middleware
writes the header when the answer starts. A context variable carries the version from one to
the other, so no route repeats the header code, and answers whose body is a list (anomaly
detect, read whole by the backend) carry the version too. A request that no model served
gets no header."""

from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Model-Version"

# One list per request, made by the middleware: the route runs in tasks and threads that copy
# the context, so it appends to the middleware's list rather than setting the variable.
_served: ContextVar[list[str] | None] = ContextVar("served_model_version", default=None)


def note_served(version: str | None) -> str | None:
    """Records the version of the model the current request is answered with; returns it."""
    noted = _served.get()
    if noted is not None and version is not None:
        noted.append(version)
    return version


class ModelVersionHeader:
    """Pure ASGI middleware: adds `X-Model-Version` to an answer a model served."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        noted: list[str] = []
        token = _served.set(noted)

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start" and noted:
                MutableHeaders(scope=message)[HEADER] = noted[-1]
            await send(message)

        try:
            await self._app(scope, receive, send_with_version)
        finally:
            _served.reset(token)
