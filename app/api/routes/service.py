from fastapi import APIRouter

from app.api.dependencies import DatabaseDep, ModelManagerDep, SettingsDep
from app.api.schemas.service import RootResponse, ServiceStatus
from app.config import APP_NAME, APP_VERSION
from app.models.model_manager import NEVER

router = APIRouter(tags=["Service"])


@router.get("/", summary="Welcome message and version", response_model=RootResponse)
async def root() -> RootResponse:
    return RootResponse(message=f"Welcome to the {APP_NAME}!", version=APP_VERSION)


@router.get("/status", summary="Service status for the platform", response_model=ServiceStatus)
async def service_status(
    settings: SettingsDep, database: DatabaseDep, manager: ModelManagerDep
) -> ServiceStatus:
    """Database connection as of the last ping (every DB_WATCH_INTERVAL_SECONDS) and models."""
    trained = {name: slot.model is not None for name, slot in manager.slots.items()}
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
        last_retrain_time=manager.last_retrain_time or NEVER,
        models={name: slot.state for name, slot in manager.slots.items()},
    )
