"""The life of each model: registered by its capability (`ModelService`, `ModelSpec`), loaded or
trained at start-up, trained as a job (`jobs`) by the process holding its lease (`lease`), its
fit run in a worker process (`fit_worker`), saved, served and synced (`registry`), rolled back
(`versions`)."""

from app.core.lifecycle.fit_worker import FitWorker
from app.core.lifecycle.jobs import Job, JobLog, JobState, Stage, Trigger
from app.core.lifecycle.lease import Leases
from app.core.lifecycle.registry import ModelRegistry
from app.core.lifecycle.served import note_served, noting_served
from app.core.lifecycle.service import ModelService
from app.core.lifecycle.slot import NEVER
from app.core.lifecycle.spec import (
    FitReference,
    FittedModel,
    ModelSpec,
    TrainingData,
    TrainingEnded,
)
from app.core.lifecycle.trainer import ModelParts

__all__ = [
    "NEVER",
    "FitReference",
    "FitWorker",
    "FittedModel",
    "Job",
    "JobLog",
    "JobState",
    "Leases",
    "ModelParts",
    "ModelRegistry",
    "ModelService",
    "ModelSpec",
    "Stage",
    "TrainingData",
    "TrainingEnded",
    "Trigger",
    "note_served",
    "noting_served",
]
