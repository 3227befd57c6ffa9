"""Routes over training jobs: any replica answers about any job (they live in MongoDB)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.core.http import JobLogDep
from app.core.lifecycle import Job, JobState, Stage, Trigger
from app.core.names import ModelName
from app.core.schemas import ERROR_RESPONSES, NOT_FOUND, TrainResponse
from app.errors import NotFound, brief

_ID = "5f0c3a1e9b7d4c2aa1e0f3b2c4d5e6f7"


class JobView(BaseModel):
    """One training: who asked, where it runs, how far it is, and how it ended."""

    id: str = Field(examples=[_ID])
    model: ModelName = Field(examples=["forecast"])
    state: JobState = Field(examples=["running"])
    stage: Stage = Field(
        examples=["fitting"], description="reading, fitting, saving, preparing, then done."
    )
    trigger: Trigger = Field(examples=["request"])
    replica: str = Field(examples=["ai-service-1:7:3f2a"], description="Host and process training.")
    created_at: datetime = Field(examples=["2026-11-25T18:00:00Z"])
    updated_at: datetime = Field(
        examples=["2026-11-25T18:00:10Z"], description="Renewed every 10 s while it runs."
    )
    finished_at: datetime | None = Field(examples=[None])
    timings: dict[str, float] = Field(examples=[{"query_seconds": 2.1, "fit_seconds": 14.2}])
    result: TrainResponse | None = Field(
        examples=[None], description="What the train call answers, once it succeeded."
    )
    error: str | None = Field(examples=[None], description="Why it failed, if it did.")
    status_code: int | None = Field(
        examples=[None], description="The HTTP status its failure maps to."
    )

    @classmethod
    def of(cls, job: Job) -> "JobView":
        return cls.model_validate(job, from_attributes=True)


class JobAccepted(JobView):
    message: str = Field(
        examples=["The forecast model is training; follow job 5f0c... at its Location."]
    )
    location: str = Field(examples=[f"/api/v1/jobs/{_ID}"])


class JobsResponse(BaseModel):
    jobs: list[JobView] = Field(examples=[[]], description="Newest first.")


router = APIRouter(prefix="/api/v1/jobs", tags=["Training"])


@router.get(
    "", summary="Latest training jobs", response_model=JobsResponse, responses=ERROR_RESPONSES
)
async def list_jobs(
    jobs: JobLogDep,
    model: ModelName | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> JobsResponse:
    return JobsResponse(jobs=[JobView.of(job) for job in await jobs.recent(limit, model)])


@router.get(
    "/{job_id}",
    summary="One training job",
    response_model=JobView,
    responses={404: NOT_FOUND, **ERROR_RESPONSES},
)
async def get_job(job_id: str, jobs: JobLogDep) -> JobView:
    job = await jobs.get(job_id)
    if job is None:
        raise NotFound(
            f"No training job {brief(job_id)}; GET /api/v1/jobs lists the latest (jobs are kept "
            "30 days)."
        )
    return JobView.of(job)
