"""`GET /ui`: the page, rendered on the server from what the services answer.

No script runs on the page: its forms are GETs whose query parameters choose the category, the
anomaly window, the user and the product, so it works without JavaScript and every view has a
link of its own."""

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from app.config import APP_NAME, APP_VERSION, MAX_FORECAST_HORIZON
from app.core.http import SettingsDep, from_state
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
    """One section per model; a section whose model cannot answer says why."""
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
        {"page": await ui.gather(query), "app_name": APP_NAME, "app_version": APP_VERSION},
    )
