"""Who may train and who may read: API keys sent as `X-API-Key`.

Training (and, later, the other routes that change the service: jobs, rollback) needs a key;
with no key configured it is open only to the service's own machine, so that a fresh install
trains from `curl` on the same host and from nowhere else. Reads stay open unless
AUTH_REQUIRED_FOR_READS is set (the platform's backend sends no credentials today).

Use `OperatorAccess` in a route's `dependencies=` to guard a route that changes the service,
`ReadAccess` for one that only reads."""

import hashlib
import hmac
import ipaddress
import re
import time
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from loguru import logger
from pydantic import SecretStr

from app.config import Settings
from app.core.http.dependencies import SettingsDep
from app.core.schemas import error_response
from app.errors import AccessDenied

API_KEY_HEADER = "X-API-Key"
_API_KEY = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="One of the service's API_KEYS. Training needs it; reads too when "
    "AUTH_REQUIRED_FOR_READS is set.",
)
KeyHeader = Annotated[str | None, Security(_API_KEY)]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def key_matches(given: str | None, keys: list[SecretStr]) -> bool:
    """Whether `given` is one of `keys`. Every key is compared, each in constant time and as
    digests of one length, so the answer's timing tells neither which key was close, nor how
    much of one matched, nor how long the keys are."""
    if not given:
        return False
    candidate = _digest(given)
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate, _digest(key.get_secret_value()))
    return found


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine's own (127.0.0.0/8, ::1, or IPv4 loopback
    mapped into IPv6)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


PROXY_HEADERS = (
    "X-Forwarded-For",
    "Forwarded",
    "X-Real-IP",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Via",
    "True-Client-IP",
    "CF-Connecting-IP",
    "X-Client-IP",
)


def proxy_header(request: Request) -> str | None:
    """The first header of a proxy that the request carries, if any: such a request was
    relayed, and its socket address (the proxy's) says nothing of where it came from."""
    return next((name for name in PROXY_HEADERS if name in request.headers), None)


def _check_key(given: str | None, keys: list[SecretStr]) -> None:
    if key_matches(given, keys):
        return
    challenge = {"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'}
    if not given:
        raise AccessDenied(
            f"This route needs an API key: send one of the service's API_KEYS in the "
            f"`{API_KEY_HEADER}` header.",
            401,
            challenge,
        )
    raise AccessDenied(
        f"The `{API_KEY_HEADER}` header sent is not one of the service's API_KEYS; send a "
        "valid key.",
        401,
        challenge,
    )


async def require_operator(request: Request, settings: SettingsDep, key: KeyHeader) -> None:
    """Routes that change the service: a valid key, or, with no key configured, a client on
    the service's own machine."""
    if settings.API_KEYS:
        _check_key(key, settings.API_KEYS)
        return
    forwarded = proxy_header(request)
    if forwarded:
        raise AccessDenied(
            f"No API key is configured, and this request came through a proxy (it carries "
            f"`{forwarded}`), so it is not taken as a call from the service's own machine: "
            f"set API_KEYS on the service and send one in the `{API_KEY_HEADER}` header.",
            403,
        )
    if not is_loopback(request.client.host if request.client else None):
        raise AccessDenied(
            "No API key is configured, so this route only answers calls from the service's "
            f"own machine: set API_KEYS on the service and send one in the `{API_KEY_HEADER}` "
            "header.",
            403,
        )


async def require_reader(settings: SettingsDep, key: KeyHeader) -> None:
    """Routes that only read: open, unless AUTH_REQUIRED_FOR_READS asks for a key."""
    if settings.AUTH_REQUIRED_FOR_READS:
        _check_key(key, settings.API_KEYS)


OperatorAccess = Depends(require_operator)
ReadAccess = Depends(require_reader)

# Sessions of the page (`/ui`) for people, whose browser cannot send `X-API-Key`: signing in
# with a key sets this cookie, sent back only to `/ui` and its sign-in and sign-out routes. It
# opens the page alone: the page calls the services in-process, and the API's read routes still
# need the header. Its value is `<expiry>.<signature>`, the expiry in Unix seconds and the
# signature an HMAC-SHA256 of it, keyed by a secret derived from the API key that signed in:
# the cookie carries no key, every process and replica sharing API_KEYS verifies it with no
# secret of its own, and removing a key from API_KEYS ends every session opened with it.
SESSION_COOKIE = "ui_session"
SESSION_PATH = "/ui"
_SESSION_CONTEXT = b"adaptive-bi ai-service ui session v1"


def _session_signature(key: SecretStr, expires: int) -> str:
    secret = hmac.new(key.get_secret_value().encode(), _SESSION_CONTEXT, hashlib.sha256).digest()
    return hmac.new(secret, str(expires).encode(), hashlib.sha256).hexdigest()


# Expiry digits, a dot, a hex SHA-256: anything else (other digits Unicode calls digits among
# them) is no session.
_SESSION_VALUE = re.compile(r"[0-9]{1,12}\.[0-9a-f]{64}")


def session_cookie(key: SecretStr, expires: int) -> str:
    """The cookie's value for a session opened with `key`, valid until `expires` (Unix s)."""
    return f"{expires}.{_session_signature(key, expires)}"


def session_valid(value: str | None, keys: list[SecretStr], now: float | None = None) -> bool:
    """Whether a session cookie was signed with one of `keys` and has not expired. Every key's
    signature is compared, in constant time, as for `key_matches`."""
    if not value:
        return False
    expires_text, _, signature = value.partition(".")
    if not _SESSION_VALUE.fullmatch(value):
        return False
    expires = int(expires_text)
    if expires <= (time.time() if now is None else now):
        return False
    found = False
    for key in keys:
        found |= hmac.compare_digest(signature.encode(), _session_signature(key, expires).encode())
    return found


def may_read_page(request: Request, settings: Settings) -> bool:
    """Whether a caller may see the page: always when reads are open; otherwise with a valid
    `X-API-Key` or a valid session cookie."""
    if not settings.AUTH_REQUIRED_FOR_READS:
        return True
    if key_matches(request.headers.get(API_KEY_HEADER), settings.API_KEYS):
        return True
    return session_valid(request.cookies.get(SESSION_COOKIE), settings.API_KEYS)


async def require_metrics_key(request: Request, settings: SettingsDep) -> None:
    """`/metrics`: open when METRICS_KEY is unset (even with AUTH_REQUIRED_FOR_READS);
    otherwise it needs that key as `Authorization: Bearer <key>` (what Prometheus's scrape
    configs send) or as `X-API-Key`."""
    if settings.METRICS_KEY is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    given = token.strip() if scheme.lower() == "bearer" else request.headers.get(API_KEY_HEADER)
    if key_matches(given, [settings.METRICS_KEY]):
        return
    raise AccessDenied(
        "`/metrics` needs the service's METRICS_KEY: send it as `Authorization: Bearer <key>` "
        f"or in the `{API_KEY_HEADER}` header.",
        401,
        {"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


MetricsAccess = Depends(require_metrics_key)

READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_response(
        f"No valid API key in `{API_KEY_HEADER}`, when AUTH_REQUIRED_FOR_READS is set.",
        f"This route needs an API key: send one of the service's API_KEYS in the "
        f"`{API_KEY_HEADER}` header.",
    )
}
OPERATOR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_response(
        f"No valid API key in `{API_KEY_HEADER}`.",
        f"The `{API_KEY_HEADER}` header sent is not one of the service's API_KEYS; send a "
        "valid key.",
    ),
    403: error_response(
        "No API key is configured and the caller is not on the service's machine (a request "
        "relayed by a proxy never is), or a web page whose origin is not in CORS_ORIGINS "
        "sent the request.",
        "No API key is configured, so this route only answers calls from the service's own "
        f"machine: set API_KEYS on the service and send one in the `{API_KEY_HEADER}` header.",
    ),
}


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def open_warnings(settings: Settings) -> list[str]:
    """What in the settings leaves the service open to its network: shown at start-up in the
    log and in `/status`."""
    warnings = []
    if not settings.API_KEYS and settings.AI_SERVICE_HOST.lower() not in _LOOPBACK_NAMES:
        warnings.append(
            f"No API_KEYS set and the service listens on {settings.AI_SERVICE_HOST}, beyond "
            "this machine: anyone who can reach it reads every answer, and a proxy on this "
            "machine that adds no X-Forwarded-For makes every caller look local, able to "
            "train and roll back. Set API_KEYS, or AI_SERVICE_HOST=127.0.0.1."
        )
    if not settings.API_KEYS and settings.TRUSTED_PROXIES:
        warnings.append(
            "TRUSTED_PROXIES is set but API_KEYS is not: requests relayed by a proxy are never "
            "taken as local, so training and rollbacks answer no one through it. Set API_KEYS."
        )
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append(
            "ALLOWED_HOSTS=*: requests addressed to any host name are answered, so a web page "
            "of a name made to resolve to this machine (DNS rebinding) can read the answers."
        )
    return warnings


def warn_if_open(settings: Settings) -> None:
    """At start-up: says how training is guarded when no key is set, and what is open."""
    if not settings.API_KEYS:
        logger.warning(
            "No API_KEYS set: training answers only calls from this machine (loopback); set "
            "API_KEYS to train from elsewhere and protect it with a key"
        )
    for warning in open_warnings(settings):
        logger.warning(warning)
