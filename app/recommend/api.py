"""Recommendation routes: validate, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.core.dependencies import from_state
from app.core.schemas import ERROR_RESPONSES
from app.recommend.schemas import RecommendationResponse, RecommendStatus
from app.recommend.service import RecommendService

ServiceDep = Annotated[RecommendService, Depends(from_state("recommend", RecommendService))]
router = APIRouter(prefix="/api/v1/recommend", tags=["Recommendation"])


@router.get(
    "/user/{user_id}",
    summary="Recommend products to a user",
    response_model=RecommendationResponse,
    responses=ERROR_RESPONSES,
)
async def recommend_for_user(
    service: ServiceDep,
    user_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=200,
            description="The user's userId; an unknown user gets popular products.",
            examples=["0b7e1f3c-5a4d-4c1e-9a57-2f4b7d1e8c90"],
        ),
    ],
    num_recommendations: Annotated[
        int, Query(ge=1, le=50, description="How many products to return.", examples=[5])
    ] = 10,
) -> RecommendationResponse:
    """Products the user has not bought, best first; an unknown user gets popular products."""
    return await service.recommend(user_id, num_recommendations)


@router.get("/status", summary="Recommendation model status", response_model=RecommendStatus)
async def status(service: ServiceDep) -> RecommendStatus:
    return service.status()
