"""The core's own routes and their response models: the service's welcome and status, health,
metrics, training and its jobs, and the saved versions of every model."""

from fastapi import APIRouter

from app.core.names import MODEL_NAMES
from app.core.routes import health, jobs, metrics, service, training, versions


def open_routers() -> list[APIRouter]:
    """Routes that decide their own access (probes and metrics open, training for operators)."""
    return [service.router, health.router, metrics.router, training.training_router(MODEL_NAMES)]


def read_routers() -> list[APIRouter]:
    """Routes to mount behind read access, beside the capabilities'."""
    return [jobs.router, versions.router]


__all__ = ["open_routers", "read_routers"]
