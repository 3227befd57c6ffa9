"""Read-your-writes across processes: before a request is served, a model version another
process saved or rolled back is served here too (see `ModelRegistry.sync`: a `stat` per model
when nothing changed). Pure ASGI, so that it adds no task and leaves the body stream alone."""

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.lifecycle import ModelRegistry
from app.core.names import MODEL_NAMES, ModelName

# Answered without looking at the model store: probes and metrics report this process as it is.
UNSYNCED = frozenset({"/api/v1/health/", "/api/v1/health/live", "/api/v1/health/ready", "/metrics"})
# A model's own routes need that model alone synced: one `stat` rather than one per model.
_OWN_PREFIX = {f"/api/v1/{name}/": name for name in MODEL_NAMES}


class ModelSync:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in UNSYNCED:
            registry: ModelRegistry = scope["state"]["registry"]
            await registry.sync(routed_model(scope["path"]))
        await self.app(scope, receive, send)


def routed_model(path: str) -> ModelName | None:
    """The model whose routes `path` is under; None for any other route (all are synced)."""
    for prefix, name in _OWN_PREFIX.items():
        if path.startswith(prefix):
            return name
    return None
