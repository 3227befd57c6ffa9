"""Routes over training jobs: any replica answers about any job (they live in MongoDB)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.dependencies import JobLogDep
from app.core.job_schemas import JobsResponse, JobView
from app.core.names import ModelName
from app.core.schemas import ERROR_RESPONSES, NOT_FOUND
from app.errors import NotFound, brief

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
