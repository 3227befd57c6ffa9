"""The recommender's use cases: what training reads, and a user's recommendations."""

import asyncio
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, cast

from app.core.capability import ModelService
from app.core.registry import TrainingData
from app.recommend.queries import ProductDetails, RecommendQueries
from app.recommend.schemas import Recommendation, RecommendationResponse, RecommendStatus

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    from app.recommend.model import Ranked, Recommender

ROOM = 10  # extra candidates ranked, for products the user bought or the catalogue lacks
RECOMMEND_ROUNDS = 3


def _named(
    ranked: "Ranked", details: dict[str, ProductDetails], bought: set[str]
) -> list[Recommendation]:
    """Ranked products the user has not bought and the catalogue names, best first."""
    return [
        Recommendation(**details[item], productId=item, score=round(score, 6))
        for item, score in ranked
        if item not in bought and details.get(item, {}).get("productName")
    ]


class RecommendService(ModelService):
    name = "recommend"
    FIT = "app.recommend.model:train_recommender"  # run in the worker process
    MODEL_TYPE_SETTING = "RECOMMENDER_MODEL_TYPE"

    @cached_property
    def _queries(self) -> RecommendQueries:
        """One per service, so that its product cache is shared by every request."""
        return RecommendQueries(self._db, self._settings)

    async def read(self, now: datetime) -> TrainingData:
        s = self._settings
        start = now - timedelta(days=s.DATA_COLLECTION_DAYS)
        interactions = await self._queries.user_item_interactions(
            start, s.MIN_INTERACTIONS_FOR_RECOMMENDATION
        )
        arguments = (interactions, s.RECOMMENDER_COMPONENTS)
        return TrainingData(arguments, len(interactions), start, now)

    async def recommend(self, user_id: str, count: int) -> RecommendationResponse:
        """Personal recommendations for a known user, popular products otherwise. Products the
        user ever bought, and products missing from the catalogue, are left out before the cut.

        Candidates are ranked with some room; which of them the user bought and their catalogue
        details are read concurrently. When too many were left out, the ranking is redone
        without them, a bounded number of times."""
        model = cast("Recommender", self._registry.live("recommend"))
        known = model.knows(user_id)
        left_out: set[str] = set()
        picked: list[Recommendation] = []
        for _ in range(RECOMMEND_ROUNDS):
            ranked = (
                model.recommend(user_id, count + ROOM, left_out)
                if known
                else model.popular(count + ROOM, left_out)
            )
            candidates = [item for item, _ in ranked]
            bought, details = await asyncio.gather(
                self._queries.bought_among(user_id, candidates),
                self._queries.products(candidates),
            )
            picked = _named(ranked, details, bought)
            if len(picked) >= count or len(ranked) < count + ROOM:
                break
            left_out |= set(candidates) - {p.productId for p in picked}
        if known:
            return RecommendationResponse(
                message=f"Recommendations for user {user_id} generated successfully.",
                user_id=user_id,
                strategy="personalized",
                recommendations=picked[:count],
            )
        return RecommendationResponse(
            message=f"No personal recommendations for user {user_id} (unknown, or too few "
            "purchases); returning the most popular products they have not bought.",
            user_id=user_id,
            strategy="popular",
            recommendations=picked[:count],
        )

    def status(self) -> RecommendStatus:
        model = cast("Recommender | None", self._registry.live_or_none("recommend"))
        n_components = (
            model.n_components if model is not None else self._settings.RECOMMENDER_COMPONENTS
        )
        return RecommendStatus(
            **self._registry.describe("recommend").model_dump(), n_components=n_components
        )
