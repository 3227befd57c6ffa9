"""Answers only requests addressed to one of ALLOWED_HOSTS (the `Host` header, port aside).

A web page of a name its owner makes resolve to this machine (DNS rebinding) is, for the
browser, of the same origin as the service: CORS does not stop it reading the answers. Its
requests still carry its own name in `Host`, so a service that answers only its own names
serves that page nothing. Other hosts get a 400 with the service's JSON sentence.

Starlette's TrustedHostMiddleware does the same check, but answers plain text and reads
`[::1]:8000` as the host `[`; this one answers JSON and knows IPv6 literals. Names match
exactly (case aside), `*.example.com` matches its subdomains, `*` matches any host.

The health probes (`/api/v1/health/`, `/live` and `/ready`, not `/detailed`) answer every
host: an orchestrator probes with the pod's address as `Host`, and they tell nothing about the
data. Everything else, `/metrics` included, answers the allowed names only."""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import brief

PROBE_PATHS = frozenset({"/api/v1/health/", "/api/v1/health/live", "/api/v1/health/ready"})


def host_name(host_header: str) -> str:
    """The name of a `Host` header: `localhost` of `LocalHost:8000`, `::1` of `[::1]:8000`."""
    header = host_header.strip().lower()
    if header.startswith("["):
        address, _, rest = header[1:].partition("]")
        # After the brackets, a port or nothing; anything else names no host.
        return (
            address
            if not rest or (rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit())
            else ""
        )
    return header.partition(":")[0].removesuffix(".")


def host_allowed(name: str, allowed: list[str]) -> bool:
    """Whether `name` (from `host_name`) is one of `allowed` (as ALLOWED_HOSTS keeps them)."""
    for pattern in allowed:
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class AllowedHosts:
    """Pure ASGI middleware: reads the `Host` header only."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = allowed_hosts
        self.any_host = "*" in allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.any_host
            or scope["type"] not in ("http", "websocket")
            or scope["path"] in PROBE_PATHS
        ):
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host", "")
        if host_allowed(host_name(header), self.allowed):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        named = f"the host {brief(header)}" if header else "no host"
        refusal = JSONResponse(
            status_code=400,
            content={
                "detail": f"Refused: this request is addressed to {named}, not one this "
                "service answers to. Call it by one of its names, or add the name to "
                "ALLOWED_HOSTS."
            },
        )
        await refusal(scope, receive, send)
