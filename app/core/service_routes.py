"""The service's own routes: the welcome message and the status the platform reads."""

from fastapi import APIRouter

from app.config import APP_NAME, APP_VERSION
from app.core.access import READ_RESPONSES, ReadAccess
from app.core.dependencies import DatabaseDep, RegistryDep, SettingsDep
from app.core.registry import NEVER
from app.core.service_schemas import RootResponse, ServiceStatus

router = APIRouter(tags=["Service"])


@router.get("/", summary="Welcome message and version", response_model=RootResponse)
async def root() -> RootResponse:
    return RootResponse(message=f"Welcome to the {APP_NAME}!", version=APP_VERSION)


@router.get(
    "/status",
    summary="Service status for the platform",
    response_model=ServiceStatus,
    dependencies=[ReadAccess],
    responses=READ_RESPONSES,
)
async def service_status(
    settings: SettingsDep, database: DatabaseDep, registry: RegistryDep
) -> ServiceStatus:
    """Database connection as of the last ping (every DB_WATCH_INTERVAL_SECONDS) and models."""
    states = registry.states()
    trained = {name: registry.live_or_none(name) is not None for name in states}
    return ServiceStatus(
        status="running",
        app_name=APP_NAME,
        app_version=APP_VERSION,
        debug_mode=settings.AI_SERVICE_DEBUG,
        database_connected=database.connected,
        models_loaded=all(trained.values()),
        forecasting_model_trained=trained["forecast"],
        anomaly_model_trained=trained["anomaly"],
        recommendation_model_trained=trained["recommend"],
        last_retrain_time=registry.last_retrain_time or NEVER,
        models=states,
    )
