"""uvicorn's httptools protocol with a deadline on request heads, and a JSON 503 when full.

uvicorn times out neither a request head sent slowly nor a connection that sends nothing: each
such connection counts towards `limit_concurrency` for as long as the client keeps it open, so
a couple of thousand of them make every request, liveness included, answer 503. Here a
connection's first request head must be complete within `head_timeout` seconds of the
connection's opening, and each later head on a kept-alive connection within `head_timeout` of
its first byte (total time, not idle time); past it, the connection is closed (with a 408 when
part of a head had arrived). The 503 uvicorn answers beyond `limit_concurrency` is the
service's `{"detail": ...}` sentence instead of `text/plain`.

`app.server.server_options` passes this class, with its timeout, as uvicorn's `http`."""

import asyncio
import json
from typing import Any

from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

SERVER_FULL = (
    "The server is at its connection limit (AI_SERVICE_MAX_CONCURRENCY); retry in a few seconds."
)


def head_too_slow(seconds: float) -> str:
    return (
        f"The request head did not arrive within {seconds:g} s "
        "(REQUEST_HEAD_TIMEOUT_SECONDS); the connection is closed."
    )


def _json(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


async def server_full(_scope: Scope, _receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """What uvicorn's `service_unavailable` answers, as the service's JSON sentence."""
    body = _json(SERVER_FULL)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class HeadTimeoutProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose request heads have `head_timeout` seconds to arrive."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        head_timeout: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_timeout = head_timeout
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_begun = True
        # The first request's deadline runs from the connection's opening; a later one's from
        # its first byte (the keep-alive timeout covers the idle time before it).
        if self.head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        self.head_begun = False
        super().on_headers_complete()

    def _start_asgi_task(self, cycle: Any, app: ASGI3Application) -> None:
        super()._start_asgi_task(cycle, server_full if app is service_unavailable else app)

    def _arm_head_timer(self) -> None:
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head is slow behind a response under way: close once that is sent.
            self.cycle.keep_alive = False
            return
        self.logger.warning("A request head did not arrive within %g s; closed", self.head_timeout)
        if self.head_begun:
            body = _json(head_too_slow(self.head_timeout))
            content = [STATUS_LINE[408]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(
                [
                    b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
            self.transport.write(b"".join(content))
        self.transport.close()
