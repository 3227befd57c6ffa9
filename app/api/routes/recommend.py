from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.dependencies import DataProcessorDep, ModelManagerDep, SettingsDep
from app.api.schemas.common import ERROR_RESPONSES, TRAIN_ERROR_RESPONSES, TrainResponse
from app.api.schemas.recommend import RecommendationResponse, RecommendStatus
from app.services.inference import recommend_products

router = APIRouter(prefix="/api/v1/recommend", tags=["Recommendation"])


@router.post(
    "/train",
    summary="Train the recommendation model now",
    response_model=TrainResponse,
    responses=TRAIN_ERROR_RESPONSES,
)
async def train_recommendation_model(manager: ModelManagerDep) -> TrainResponse:
    """Builds the sparse user x product matrix of purchased quantities and factorises it."""
    return TrainResponse.from_metadata("recommend", await manager.train("recommend"))


@router.get(
    "/user/{user_id}",
    summary="Recommend products to a user",
    response_model=RecommendationResponse,
    responses=ERROR_RESPONSES,
)
async def recommend_for_user(
    manager: ModelManagerDep,
    data: DataProcessorDep,
    user_id: Annotated[str, Path(min_length=1, max_length=200, description="The user's userId.")],
    num_recommendations: Annotated[
        int, Query(ge=1, le=50, description="How many products to return.")
    ] = 10,
) -> dict[str, object]:
    """Products the user has not bought, best first; an unknown user gets popular products."""
    return await recommend_products(manager, data, user_id, num_recommendations)


@router.get("/status", summary="Recommendation model status", response_model=RecommendStatus)
async def recommend_status(manager: ModelManagerDep, settings: SettingsDep) -> RecommendStatus:
    model = manager.slots["recommend"].model
    n_components = model.n_components if model is not None else settings.RECOMMENDER_COMPONENTS
    return RecommendStatus(**manager.status("recommend"), n_components=n_components)
