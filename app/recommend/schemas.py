"""What the recommendation routes answer."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.schemas import ModelStatus, served_version_field

_ITEM_EXAMPLE = {
    "productId": "9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d",
    "productName": "Wireless Noise-Cancelling Headphones",
    "category": "Electronics",
    "price": 189.99,
    "stock": 42,
    "score": 0.734215,
}


class Recommendation(BaseModel):
    productId: str = Field(examples=[_ITEM_EXAMPLE["productId"]])
    productName: str = Field(examples=[_ITEM_EXAMPLE["productName"]])
    category: str | None = Field(default=None, examples=["Electronics"])
    price: float | None = Field(default=None, examples=[189.99])
    stock: int | None = Field(default=None, examples=[42])
    score: float = Field(
        examples=[0.734215],
        description="The model's score (higher is better), a similarity for similar products, "
        "or recent distinct buyers for popular picks.",
    )


class RecommendationResponse(BaseModel):
    message: str = Field(examples=["Recommendations for user 4f1c... generated successfully."])
    user_id: str = Field(examples=["4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b"])
    strategy: Literal["personalized", "popular"] = Field(
        examples=["personalized"],
        description="personalized for a user the model knows with enough purchases; popular "
        "(most distinct buyers over the last 28 days of the model's window) otherwise.",
    )
    category: str | None = Field(
        default=None, examples=["Electronics"], description="The category asked for, if any."
    )
    recommendations: list[Recommendation] = Field(
        examples=[[_ITEM_EXAMPLE]],
        description="Best first; never a product the user bought, out of stock, or missing "
        "from the catalogue.",
    )
    model_version: str | None = served_version_field()


class SimilarProductsResponse(BaseModel):
    message: str = Field(examples=["Products similar to 9d2c4b7a-... (EASE)."])
    product_id: str = Field(examples=["9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d"])
    recommendations: list[Recommendation] = Field(
        examples=[[_ITEM_EXAMPLE]],
        description="Most similar first; never the product itself, out of stock, or missing "
        "from the catalogue.",
    )
    model_version: str | None = served_version_field()


class FiltersStatus(BaseModel):
    """How fresh what requests filter on is: both are read in the background."""

    catalogue_read_at: datetime | None = Field(
        examples=["2026-11-25T18:00:05Z"],
        description="When names, categories, prices and stock were last read.",
    )
    products_shown: int = Field(
        examples=[1890],
        description="Products of the model that may be shown (in the catalogue, in stock).",
    )
    products_hidden: int = Field(
        examples=[110],
        description="Products of the model out of stock or missing from the catalogue.",
    )
    purchases_read_at: datetime | None = Field(
        examples=["2026-11-25T18:00:05Z"],
        description="When purchases made since the training were last read.",
    )
    purchases_up_to: datetime | None = Field(
        examples=["2026-11-25T17:59:58Z"], description="The newest purchase read."
    )
    users_with_new_purchases: int = Field(examples=[12])
    refresh_seconds: float = Field(examples=[60], description="RECOMMEND_REFRESH_SECONDS.")
    last_error: str | None = Field(
        examples=[None], description="Why the last read failed, while it has not succeeded again."
    )


class RecommendStatus(ModelStatus):
    n_components: int = Field(examples=[50], description="Factors of SVD and ALS.")
    served: str | None = Field(
        examples=["EASE"],
        description="The model served: SVD-binary, SVD-log, ALS, EASE or EASE-top.",
    )
    evaluation: dict[str, dict[str, float]] = Field(
        examples=[
            {
                "popular": {"ndcg_at_10": 0.061, "hit_rate_at_10": 0.31},
                "EASE": {"ndcg_at_10": 0.142, "hit_rate_at_10": 0.52},
            }
        ],
        description="Each candidate's and recent popularity's precision, recall, NDCG and hit "
        "rate at 10, and catalogue coverage, on the last RECOMMEND_EVAL_DAYS days held out.",
    )
    filters: FiltersStatus = Field(
        examples=[
            {
                "catalogue_read_at": "2026-11-25T18:00:05Z",
                "products_shown": 1890,
                "products_hidden": 110,
                "purchases_read_at": "2026-11-25T18:00:05Z",
                "purchases_up_to": "2026-11-25T17:59:58Z",
                "users_with_new_purchases": 12,
                "refresh_seconds": 60,
                "last_error": None,
            }
        ]
    )
