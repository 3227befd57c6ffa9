"""The recommender's use cases: what training reads, a user's recommendations, products similar
to one, and the model's status. Requests read only memory: the model and the filters that
`ServingFilters` keeps fresh in the background."""

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from app.config import POPULAR_DAYS
from app.core.lifecycle import FitReference, ModelService, ModelSpec, TrainingData, note_served
from app.errors import NotFound, ServiceError
from app.recommend.filters import ServingFilters, Snapshot
from app.recommend.inputs import Config, RecommendInput
from app.recommend.queries import RecommendQueries
from app.recommend.schemas import (
    FiltersStatus,
    Recommendation,
    RecommendationResponse,
    RecommendStatus,
    SimilarProductsResponse,
)

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    from app.recommend.model import Ranked, Recommender

_CATEGORIES_SHOWN = 20


class CatalogueNotRead(ServiceError):
    """A model is trained, but the catalogue its answers are filtered with was never read."""

    status_code = 503


class RecommendService(ModelService[RecommendInput, "Recommender"]):
    name = "recommend"
    MODEL_TYPE_SETTING = "RECOMMENDER_MODEL_TYPE"

    fit = FitReference[RecommendInput, "Recommender"]("app.recommend.model:fit_model")

    @cached_property
    def _queries(self) -> RecommendQueries:
        return RecommendQueries(self._db, self._settings)

    @cached_property
    def _filters(self) -> ServingFilters:
        return ServingFilters(self._queries, self._settings, self._clock)

    def spec(self) -> ModelSpec[RecommendInput, "Recommender"]:
        """A model goes live with the catalogue of its products read."""
        return replace(super().spec(), prepare=self._filters.prepare)

    def start(self) -> None:
        """Starts refreshing the catalogue and the purchases since training."""
        self._filters.start()

    async def stop(self) -> None:
        await self._filters.stop()

    async def read(self, now: datetime) -> TrainingData[RecommendInput]:
        s = self._settings
        start = now - timedelta(days=s.DATA_COLLECTION_DAYS)
        cutoff = now - timedelta(days=s.RECOMMEND_EVAL_DAYS)
        purchases = await self._queries.purchases(start, cutoff, now)
        config = Config(
            model_type=s.RECOMMENDER_MODEL_TYPE,
            components=s.RECOMMENDER_COMPONENTS,
            max_model_mb=s.RECOMMEND_MAX_MODEL_MB,
            min_items=s.MIN_INTERACTIONS_FOR_RECOMMENDATION,
        )
        return TrainingData(RecommendInput(purchases, config), len(purchases.users), start, now)

    def recommend(
        self, user_id: str, count: int, category: str | None = None
    ) -> RecommendationResponse:
        """Personal recommendations for a user the model knows with enough purchases, recent
        popular products otherwise; never a product the user bought (in the window or since),
        out of stock, missing from the catalogue, or of another category than asked."""
        snapshot = self._snapshot()
        model, catalogue = snapshot.model, snapshot.catalogue
        allowed = catalogue.allowed(category)
        if allowed is None:
            raise NotFound(self._unknown_category(snapshot, category))
        user = model.user(user_id)
        bought = np.fromiter(self._filters.bought_since(user_id), dtype=np.int64)
        if user is not None:
            bought = np.concatenate([model.bought(user), bought])
        of_category = f" in category {category}" if category else ""
        if user is not None and model.personal(user):
            return RecommendationResponse(
                message=f"Recommendations for user {user_id}{of_category} generated successfully.",
                user_id=user_id,
                strategy="personalized",
                category=category,
                recommendations=_shown(model.recommend(user, count, allowed, bought), snapshot),
                model_version=snapshot.version,
            )
        reason = (
            "the recommendation model did not beat popular picks in its last evaluation"
            if not model.beats_popular
            else f"user {user_id} is new or has too few purchases for personal recommendations"
        )
        return RecommendationResponse(
            message=f"{reason[0].upper()}{reason[1:]}, so these are popular picks{of_category}: "
            f"the products most customers bought in the last {POPULAR_DAYS} days, leaving out "
            "what the user bought.",
            user_id=user_id,
            strategy="popular",
            category=category,
            recommendations=_shown(model.popular(count, allowed, bought), snapshot),
            model_version=snapshot.version,
        )

    def similar(self, product_id: str, count: int) -> SimilarProductsResponse:
        """Products most like one, from the served model's item representation."""
        snapshot = self._snapshot()
        model = snapshot.model
        item = model.item(product_id)
        if item is None:
            raise NotFound(
                f"Product {product_id!r} is not among the {len(model.item_ids):,} products the "
                f"recommendation model learnt from (bought in the last "
                f"{self._settings.DATA_COLLECTION_DAYS} days), so it has no similar products."
            )
        ranked = model.similar(item, count, snapshot.catalogue.available)
        return SimilarProductsResponse(
            message=f"Products similar to {product_id}, from the {model.served} model.",
            product_id=product_id,
            recommendations=_shown(ranked, snapshot),
            model_version=snapshot.version,
        )

    def _snapshot(self) -> Snapshot:
        """The live model with its catalogue (its version noted for the `X-Model-Version`
        header); 503 while there is none."""
        self._registry.live("recommend")
        snapshot = self._filters.snapshot
        if snapshot is None:
            raise CatalogueNotRead(
                "The recommendation model is trained, but the product catalogue it filters "
                "with could not be read yet (the database was unreachable); recommendations "
                "resume by themselves once it is read. Try again shortly."
            )
        note_served(snapshot.version)
        return snapshot

    def _unknown_category(self, snapshot: Snapshot, category: str | None) -> str:
        known = sorted({str(c) for c in snapshot.catalogue.categories if c is not None})
        listed = ", ".join(known[:_CATEGORIES_SHOWN]) + (
            ", ..." if len(known) > _CATEGORIES_SHOWN else ""
        )
        return (
            f"No product the model recommends is in category {category!r} (checked without "
            f"regard to case). Categories: {listed or 'none'}."
        )

    def status(self) -> RecommendStatus:
        """The model requests are answered with: the snapshot's, which stays the previous one
        until a new model's filters are read."""
        filters = self._filters
        snapshot = filters.snapshot
        model = snapshot.model if snapshot is not None else self._live_or_none()
        shown = snapshot.catalogue.shown if snapshot is not None else 0
        return RecommendStatus(
            **self._described().model_dump(),
            n_components=(
                model.components if model is not None else self._settings.RECOMMENDER_COMPONENTS
            ),
            served=model.served if model is not None else None,
            evaluation=model.evaluation if model is not None else {},
            filters=FiltersStatus(
                catalogue_read_at=snapshot.read_at if snapshot is not None else None,
                products_shown=shown,
                products_hidden=len(snapshot.model.item_ids) - shown if snapshot else 0,
                purchases_read_at=filters.purchases_read_at,
                purchases_up_to=filters.purchases_from,
                users_with_new_purchases=filters.users_with_new_purchases,
                refresh_seconds=self._settings.RECOMMEND_REFRESH_SECONDS,
                last_error=filters.last_error,
            ),
        )


def _shown(ranked: "Ranked", snapshot: Snapshot) -> list[Recommendation]:
    """Ranked item codes as the catalogue describes them."""
    model, catalogue = snapshot.model, snapshot.catalogue
    return [
        Recommendation(
            productId=str(model.item_ids[item]), score=round(score, 6), **catalogue.describe(item)
        )
        for item, score in ranked
    ]
