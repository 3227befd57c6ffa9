"""Domain errors. Each carries the HTTP status it maps to and a sentence a person can act on."""

from typing import Any, Literal


def brief(value: Any) -> str:
    """A client's value as shown back in an error message: its repr, cut short."""
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


class ServiceError(Exception):
    """Base of every error the service reports to its callers on purpose."""

    status_code = 500

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidInput(ServiceError):
    """The request is well-formed JSON but its content cannot be used."""

    status_code = 422


class AccessDenied(ServiceError):
    """A guarded route refused its caller: 401 without a valid API key (the detail names the
    header), 403 when the caller may not do this from where it is (the detail says what would
    allow it)."""

    def __init__(
        self, detail: str, status_code: Literal[401, 403], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers)
        self.status_code = status_code


class TooSoon(ServiceError):
    """The same action was asked for again too soon; `Retry-After` says when it may be."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after)})


class NotFound(ServiceError):
    """The request names something the service does not know: the detail says what it knows."""

    status_code = 404


class NotEnoughData(ServiceError):
    """The database holds too little data to train a model."""

    status_code = 409


class ModelNotTrained(ServiceError):
    """A prediction was asked of a model that has not been trained yet."""

    status_code = 503

    def __init__(self, model: str, state: str) -> None:
        super().__init__(
            f"The {model} model is not trained yet (state: {state}). It trains in the background "
            f"when data is available; to train it now, run "
            f"`curl -X POST http://<host>:8000/api/v1/{model}/train` (with "
            "`-H 'X-API-Key: <key>'` when API_KEYS is set; without keys, from the service's "
            "own machine)."
        )


class ModelLoading(ServiceError):
    """A prediction was asked of a model whose saved file is still being read at start-up."""

    status_code = 503

    def __init__(self, model: str) -> None:
        super().__init__(
            f"The {model} model is loading from disk (state: loading); it answers in a few "
            "seconds. Retry shortly; there is no need to train it."
        )


class DatabaseUnavailable(ServiceError):
    """MongoDB did not answer; the service keeps running and retries by itself."""

    status_code = 503

    def __init__(self, cause: object) -> None:
        super().__init__(
            "The database is unreachable right now, so this request cannot be served; "
            f"the service reconnects by itself, try again shortly ({type(cause).__name__})."
        )


class DatabaseTimeout(ServiceError):
    """MongoDB answered too slowly for a bounded call: busy, stalled, or asked for too much."""

    status_code = 503


class TooLarge(ServiceError):
    """The request asks for more work than one call may: the detail says the limit."""

    status_code = 413


class OverBudget(ServiceError):
    """A configured model would not fit the memory budget set for it."""

    status_code = 409


class Conflict(ServiceError):
    """The request cannot be carried out in the current state; the detail says when it can."""

    status_code = 409


class TrainingElsewhere(ServiceError):
    """Another replica is training the model; its job says when it is done."""

    status_code = 409

    def __init__(self, name: str, replica: str) -> None:
        super().__init__(f"The {name} model is being trained by replica {replica}.")


class ModelNotSaved(ServiceError):
    """A trained model could not be saved, so it is not served anywhere: every process keeps
    the version the store's pointer names. 507 Insufficient Storage when the model folder
    cannot take it (full, read-only, not writable); the store's own status (503) when its
    database did not answer."""

    status_code = 507

    def __init__(self, detail: str, status_code: int = 507) -> None:
        super().__init__(detail)
        self.status_code = status_code
