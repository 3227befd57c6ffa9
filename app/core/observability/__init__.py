"""Prometheus metrics: requests and trainings counted as they happen, models and the database
read at scrape time."""

from app.core.observability.metrics import MULTIPROCESS_DIRECTORY, ServiceMetrics
from app.core.observability.request_metrics import RequestMetrics

__all__ = ["MULTIPROCESS_DIRECTORY", "RequestMetrics", "ServiceMetrics"]
