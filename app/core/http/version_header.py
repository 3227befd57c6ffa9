"""The `X-Model-Version` header: which training produced the model an answer comes from (noted
by the capability through `app.core.lifecycle.note_served`). Answers whose body is a list
(anomaly detect, read whole by the backend) carry it too; a request that no model served gets
no header."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.lifecycle import noting_served

HEADER = "X-Model-Version"


class ModelVersionHeader:
    """Pure ASGI middleware: adds `X-Model-Version` to an answer a model served."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        with noting_served() as noted:

            async def send_with_version(message: Message) -> None:
                if message["type"] == "http.response.start" and noted:
                    MutableHeaders(scope=message)[HEADER] = noted[-1]
                await send(message)

            await self._app(scope, receive, send_with_version)
