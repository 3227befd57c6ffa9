"""`GET /ui`: the page, rendered on the server from what the services answer.

No script runs on the page: its forms are GETs whose query parameters choose the category, the
anomaly window, the user and the product, so it works without JavaScript and every view has a
link of its own.

With AUTH_REQUIRED_FOR_READS, a browser cannot send `X-API-Key`: `/ui` then shows a sign-in
form instead of the page, whose key, when it is one of API_KEYS, opens a session kept in a
signed cookie (see `app.core.http.access`). The cookie opens this page alone; sign-out is a
POST, so that no link prefetch or foreign page can end a session by a mere GET."""

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, TypedDict
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from app.config import APP_NAME, APP_VERSION, MAX_FORECAST_HORIZON, Settings
from app.core.http import (
    SESSION_COOKIE,
    SESSION_PATH,
    SettingsDep,
    from_state,
    key_matches,
    may_read_page,
    session_cookie,
    session_valid,
)
from app.ui.page import MAX_ANOMALY_DAYS, PageQuery, UiPage

router = APIRouter(include_in_schema=False)
_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
)
templates = Jinja2Templates(env=_environment)
PageDep = Annotated[UiPage, Depends(from_state("ui", UiPage))]
Text = Annotated[str | None, Query(max_length=200)]


def _moment(value: datetime | str | None) -> str:
    """A time as the page shows it: minutes, UTC."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return value or "never"


def _number(value: object, digits: int = 2) -> str:
    """A figure with thousands separators; a dash for a missing one (a metric a row lacks)."""
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else "–"


_environment.filters["moment"] = _moment
_environment.filters["number"] = _number


# No other site may frame the page or its form (clickjacking a sign-in or a sign-out).
_NOT_FRAMED = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
_NO_STORE = {**_NOT_FRAMED, "Cache-Control": "no-store"}
_CHALLENGE = {**_NO_STORE, "WWW-Authenticate": 'ApiKey header="X-API-Key"'}


def _sign_in_form(request: Request, settings: Settings, problem: str | None = None) -> HTMLResponse:
    """The sign-in form, with a 401: the page needs a key the browser has not given."""
    return templates.TemplateResponse(
        request,
        "signin.html",
        {
            "app_name": APP_NAME,
            "app_version": APP_VERSION,
            "hours": f"{settings.UI_SESSION_HOURS:g}",
            "problem": problem,
        },
        status_code=401,
        headers=_CHALLENGE,
    )


class _CookieScope(TypedDict):
    path: str
    secure: bool
    httponly: bool
    samesite: Literal["strict"]


def _back_to_page() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=303, headers=_NO_STORE)


@router.post("/ui/signin", response_class=HTMLResponse)
async def sign_in(request: Request, settings: SettingsDep) -> Response:
    """The form's POST (`key=...`, form-encoded): a valid key sets the session cookie and goes
    back to the page; any other answer is the form again, with a sentence."""
    if not settings.AUTH_REQUIRED_FOR_READS:
        return _back_to_page()  # the page is open: there is nothing to sign in to
    try:
        form = parse_qs((await request.body()).decode(errors="replace"), max_num_fields=10)
    except ValueError:  # more fields than a sign-in has
        form = {}
    given = (form.get("key") or [""])[0].strip()
    # Each key is compared (in constant time), so the answer's timing says nothing of which.
    matched = [key for key in settings.API_KEYS if key_matches(given, [key])]
    if not matched:
        return _sign_in_form(
            request,
            settings,
            "That key is not one of the service's API keys; check it and try again."
            if given
            else "Enter one of the service's API keys to sign in.",
        )
    seconds = round(settings.UI_SESSION_HOURS * 3600)
    response = _back_to_page()
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(matched[0], int(time.time()) + seconds),
        max_age=seconds,
        expires=seconds,
        **_cookie_scope(request),
    )
    return response


@router.post("/ui/signout", response_class=HTMLResponse)
async def sign_out(request: Request) -> Response:
    """Ends the browser's session: the cookie is cleared, and the page (or its form) follows."""
    response = _back_to_page()
    response.delete_cookie(SESSION_COOKIE, **_cookie_scope(request))
    return response


def _cookie_scope(request: Request) -> _CookieScope:
    """Where the session cookie goes, set or cleared: the page alone, never to scripts or
    other sites, and only over https when the request came so."""
    return _CookieScope(
        path=SESSION_PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )


@router.get("/ui", response_class=HTMLResponse)
async def page(
    request: Request,
    ui: PageDep,
    settings: SettingsDep,
    category: Text = None,
    horizon: Annotated[int | None, Query(ge=1, le=MAX_FORECAST_HORIZON)] = None,
    days: Annotated[int, Query(ge=1, le=MAX_ANOMALY_DAYS)] = 7,
    user: Text = None,
    product: Text = None,
) -> HTMLResponse:
    """One section per model; a section whose model cannot answer says why. With
    AUTH_REQUIRED_FOR_READS and neither a valid key nor a session: the sign-in form."""
    if not may_read_page(request, settings):
        return _sign_in_form(request, settings)
    query = PageQuery(
        category=(category or "").strip() or None,
        horizon=horizon or settings.FORECAST_HORIZON,
        days=days,
        user=(user or "").strip() or None,
        product=(product or "").strip() or None,
    )
    return templates.TemplateResponse(
        request,
        "page.html",
        {
            "page": await ui.gather(query),
            "app_name": APP_NAME,
            "app_version": APP_VERSION,
            "signed_in": settings.AUTH_REQUIRED_FOR_READS
            and session_valid(request.cookies.get(SESSION_COOKIE), settings.API_KEYS),
        },
        headers=_NO_STORE if settings.AUTH_REQUIRED_FOR_READS else _NOT_FRAMED,
    )
