from pydantic import BaseModel, Field

from app.api.schemas.common import ModelStatus


class Recommendation(BaseModel):
    productId: str
    productName: str
    category: str | None = None
    price: float | None = None
    stock: int | None = None
    score: float = Field(description="Predicted affinity, or popularity for popular items.")


class RecommendationResponse(BaseModel):
    message: str = Field(examples=["Recommendations for user 4f1c... generated successfully."])
    user_id: str
    strategy: str = Field(examples=["personalized"], description="personalized or popular")
    recommendations: list[Recommendation]


class RecommendStatus(ModelStatus):
    n_components: int
