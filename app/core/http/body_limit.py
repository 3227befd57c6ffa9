"""Bounds what a request body may cost: its size, MAX_REQUEST_BODY_BYTES, refused before
anything parses it, and the time it takes to arrive, REQUEST_BODY_TIMEOUT_SECONDS.

A body announced larger (`Content-Length`) is refused before a byte of it is read; a body
streamed without a length (chunked) is counted as it arrives and refused as soon as it passes
the limit, so at most the limit is ever held in memory. A client that sends its body slowly
(a byte now and then) would hold its connection and request for as long as it likes: uvicorn
has no such timeout, so the body must have arrived by the deadline."""

import asyncio

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyRefused(HTTPException):
    """Raised from `receive` while the application reads the body: an HTTPException, so that
    FastAPI passes it on (it does not report it as a body it failed to parse) and the error
    handlers answer it."""


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        413,
        f"The request body is larger than {limit:,} bytes (MAX_REQUEST_BODY_BYTES); send a "
        "smaller one, e.g. split a batch of points into several requests.",
    )


def too_slow(seconds: float) -> BodyRefused:
    return BodyRefused(
        408,
        f"The request body did not arrive within {seconds:g} s (REQUEST_BODY_TIMEOUT_SECONDS); "
        "send it whole at once, or check the connection.",
    )


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


class BodySizeLimit:
    """Pure ASGI middleware."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(too_large(self.max_bytes), scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_seconds
        received = 0
        complete = False
        started = False

        async def counted() -> Message:
            nonlocal received, complete
            if complete:  # the body is in; the app may wait for a disconnect as long as it likes
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise too_slow(self.timeout_seconds) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyRefused as exc:
            if started:
                raise
            await self._refuse(exc, scope, receive, send)

    @staticmethod
    async def _refuse(exc: BodyRefused, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})
        await response(scope, receive, send)
