"""Refuses requests that change something when a web page of another origin sends them.

CORS keeps a foreign page from reading answers, not from sending requests: a `text/plain` or
form POST needs no preflight, so any page a user opens could make the browser call this
service (and a page opened on the operator's own machine comes from loopback, where training
needs no key when none is configured). Browsers name the page's origin in `Origin` on every
such request; an unsafe method from an origin not in CORS_ORIGINS gets a 403 before the
application sees it. Callers that are not browsers (the backend, curl) send no `Origin`."""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import brief

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
SAME_ORIGIN_FORMS = frozenset({"/ui/signin", "/ui/signout"})


def _host_name(netloc: str) -> str:
    """`localhost` of `localhost:8000`, `[::1]` of `[::1]:8000`."""
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


def same_local_origin(origin: str, host: str | None) -> bool:
    """A page served by this service at a local address (Swagger UI at
    http://localhost:8000/docs) calling it. Only local names count: a page of any other name
    that resolves to this machine (DNS rebinding) is the same origin too, in the browser's view."""
    netloc = origin.partition("://")[2].lower()
    return bool(host) and netloc == str(host).lower() and _host_name(netloc) in _LOCAL_HOSTS


class CrossSiteGuard:
    """Pure ASGI middleware: headers only, nothing is read from the body."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in allowed_origins
        self.allowed = frozenset(origin.lower() for origin in allowed_origins)

    def allows(self, origin: str, host: str | None, path: str = "") -> bool:
        if self.any_origin or origin.lower() in self.allowed or same_local_origin(origin, host):
            return True
        netloc = origin.partition("://")[2].lower()
        return path in SAME_ORIGIN_FORMS and bool(host) and netloc == str(host).lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.allows(origin, headers.get("host"), scope["path"]):
                refusal = JSONResponse(
                    status_code=403,
                    content={
                        "detail": f"Refused: a web page of origin {brief(origin)} may not send "
                        f"{scope['method']} requests to this service. Add that origin to "
                        "CORS_ORIGINS if it should, or call from outside a browser."
                    },
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
