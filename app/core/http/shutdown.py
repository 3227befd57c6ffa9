"""A request cut by shutdown answers 503 with a sentence, not uvicorn's bare 500.

When AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS pass with requests still under way, uvicorn cancels
their tasks (`Task cancelled, timeout graceful shutdown exceeded`) and answers 500 to any that
had not started its response. This middleware catches that cancellation before uvicorn does,
and answers what happened: the service is stopping, retry. Any other cancellation, or one
after the response started, goes on as before."""

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The message uvicorn cancels request tasks with at the end of its graceful shutdown.
UVICORN_SHUTDOWN = "timeout graceful shutdown exceeded"
STOPPING = (
    "The service is shutting down and stopped this request before it finished "
    "(AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS passed); retry it: another replica, or the service "
    "once restarted, answers."
)


class ShutdownAnswer:
    """Pure ASGI middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        except asyncio.CancelledError as exc:
            if started or not any(UVICORN_SHUTDOWN in str(arg) for arg in exc.args):
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            response = JSONResponse({"detail": STOPPING}, 503, headers={"Connection": "close"})
            await response(scope, receive, send)
