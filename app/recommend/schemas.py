"""What the recommendation routes answer."""

from typing import Literal

from pydantic import BaseModel, Field

from app.core.schemas import ModelStatus


class Recommendation(BaseModel):
    productId: str = Field(examples=["9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d"])
    productName: str = Field(examples=["Wireless Noise-Cancelling Headphones"])
    category: str | None = Field(default=None, examples=["Electronics"])
    price: float | None = Field(default=None, examples=[189.99])
    stock: int | None = Field(default=None, examples=[42])
    score: float = Field(
        examples=[0.734215], description="Predicted affinity, or popularity for popular items."
    )


class RecommendationResponse(BaseModel):
    message: str = Field(examples=["Recommendations for user 4f1c... generated successfully."])
    user_id: str = Field(examples=["4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b"])
    strategy: Literal["personalized", "popular"] = Field(
        examples=["personalized"],
        description="personalized for a known user; popular for a user the model does not know.",
    )
    recommendations: list[Recommendation] = Field(
        examples=[
            [
                {
                    "productId": "9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d",
                    "productName": "Wireless Noise-Cancelling Headphones",
                    "category": "Electronics",
                    "price": 189.99,
                    "stock": 42,
                    "score": 0.734215,
                }
            ]
        ],
        description="Best first; never a product the user bought or the catalogue lacks.",
    )


class RecommendStatus(ModelStatus):
    n_components: int = Field(examples=[50])
