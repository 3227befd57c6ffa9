"""Refuses request bodies over MAX_REQUEST_BODY_BYTES before anything parses them.

A body announced larger (`Content-Length`) is refused before a byte of it is read; a body
streamed without a length (chunked) is counted as it arrives and refused as soon as it passes
the limit, so at most the limit is ever held in memory."""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive` while the application reads the body: an HTTPException, so that
    FastAPI passes it on (it does not report it as a body it failed to parse) and the error
    handlers answer it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"The request body is larger than {limit:,} bytes (MAX_REQUEST_BODY_BYTES); "
            "send a smaller one, e.g. split a batch of points into several requests.",
        )


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


class BodySizeLimit:
    """Pure ASGI middleware."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(BodyTooLarge(self.max_bytes), scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await self._refuse(exc, scope, receive, send)

    @staticmethod
    async def _refuse(exc: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(status_code=413, content={"detail": exc.detail})
        await response(scope, receive, send)
