"""Recommendation routes: validate, call the service, answer. Nothing here waits for MongoDB."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from app.core.http import from_state, json_answer
from app.core.schemas import ERROR_RESPONSES, NOT_FOUND, SERVED_BY_A_MODEL
from app.recommend.schemas import (
    RecommendationResponse,
    RecommendStatus,
    SimilarProductsResponse,
)
from app.recommend.service import RecommendService

ServiceDep = Annotated[RecommendService, Depends(from_state("recommend", RecommendService))]
Count = Annotated[int, Query(ge=1, le=50, description="How many products to return.", examples=[5])]
router = APIRouter(prefix="/api/v1/recommend", tags=["Recommendation"], responses=SERVED_BY_A_MODEL)
RESPONSES = {**ERROR_RESPONSES, 404: NOT_FOUND}


def _id(description: str, example: str) -> Any:
    """A path parameter holding an id of the producer's."""
    return Path(min_length=1, max_length=200, description=description, examples=[example])


UserId = Annotated[
    str,
    _id(
        "The user's userId; an unknown user gets popular products.",
        "0b7e1f3c-5a4d-4c1e-9a57-2f4b7d1e8c90",
    ),
]
ProductId = Annotated[
    str,
    _id(
        "A productId the model learnt from (bought in its window).",
        "9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d",
    ),
]


@router.get(
    "/user/{user_id}",
    summary="Recommend products to a user",
    response_model=RecommendationResponse,
    responses=RESPONSES,
)
async def recommend_for_user(
    service: ServiceDep,
    user_id: UserId,
    num_recommendations: Count = 10,
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only products of this category (any case); 404 when no product of "
            "the model has it.",
            examples=["Electronics"],
        ),
    ] = None,
) -> Response:
    """Products the user has not bought, in stock and in the catalogue, best first; a user the
    model does not know, or with too few purchases, gets popular picks."""
    return json_answer(service.recommend(user_id, num_recommendations, category))


@router.get("/product/{product_id}/similar", responses=RESPONSES)
async def similar_products(
    service: ServiceDep, product_id: ProductId, num_recommendations: Count = 10
) -> SimilarProductsResponse:
    """Products most often bought by the same customers, from the served model's item
    representation; in stock and in the catalogue."""
    return service.similar(product_id, num_recommendations)


@router.get("/status", summary="Recommendation model status", response_model=RecommendStatus)
async def status(service: ServiceDep) -> RecommendStatus:
    """The evaluation table of the last training, and how fresh the request filters are."""
    return service.status()
