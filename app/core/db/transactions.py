"""Filters on the producer's transactions, through the field names set in configuration; the
capabilities' pipelines start from them."""

from datetime import datetime
from typing import Any

from app.config import Settings


def window_filter(
    settings: Settings, start: datetime, end: datetime | None = None
) -> dict[str, Any]:
    """Transactions dated in [start, end), or from `start` on."""
    bounds: dict[str, datetime] = {"$gte": start}
    if end is not None:
        bounds["$lt"] = end
    return {settings.TRANSACTION_DATE_FIELD: bounds}


def sales_filter(
    settings: Settings, start: datetime, end: datetime | None = None
) -> dict[str, Any]:
    """Transactions in the window that are sales (not failed or returned, by default)."""
    return {
        **window_filter(settings, start, end),
        settings.TRANSACTION_STATUS_FIELD: {"$nin": settings.NON_SALE_STATUSES},
    }
