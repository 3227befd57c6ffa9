"""Maps errors to HTTP answers whose `detail` is always a sentence a person can act on."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ServiceError, brief


def _place(loc: tuple[Any, ...]) -> str:
    where, *path = loc or ("request",)
    if where == "body" and not path:
        return "The request body"
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    kind = {"query": "Query parameter", "path": "Path parameter", "body": "Field"}.get(
        str(where), str(where).capitalize()
    )
    return f"{kind} '{dotted}'"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """One sentence per problem, e.g. "Query parameter 'horizon': Input should be less than or
    equal to 30 (got '31')."."""
    sentences = []
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            sentences.append(f"The request body is not valid JSON ({reason}).")
            continue
        got = f" (got {brief(error['input'])})" if error.get("type") != "missing" else ""
        sentences.append(f"{_place(tuple(error.get('loc', ())))}: {error['msg']}{got}.")
    return " ".join(sentences)


def _plain(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The structured errors, reduced to JSON-safe fields."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return JSONResponse(
        status_code=422,
        content={"detail": describe_validation_errors(errors), "errors": _plain(errors)},
    )


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})


# FastAPI's answer (400) to a body that fails to parse other than as invalid JSON: bytes that are
# not UTF-8 (UnicodeDecodeError), or JSON nested deeper than Python's recursion limit.
_UNPARSABLE_BODY = "There was an error parsing the body"


def _unparsable_body(cause: BaseException | None) -> JSONResponse:
    """A 422, as for invalid JSON, whose detail says why the body could not be read."""
    detail = {
        UnicodeDecodeError: "The request body is not UTF-8 text, so it cannot be read as JSON; "
        "send JSON encoded as UTF-8.",
        RecursionError: "The request body is JSON nested too deeply to be read; send the shape "
        "documented at /docs.",
    }.get(
        type(cause),
        f"The request body could not be read as JSON ({type(cause).__name__}); send the shape "
        "documented at /docs.",
    )
    error = {"loc": ["body"], "msg": detail, "type": "json_invalid"}
    return JSONResponse(status_code=422, content={"detail": detail, "errors": [error]})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and detail == _UNPARSABLE_BODY:
        return _unparsable_body(exc.__cause__)
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such endpoint; the API is listed at /docs."
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.opt(exception=exc).error("Unhandled error on {} {}", request.method, request.url.path)
    return JSONResponse(
        status_code=500,
        content={"detail": "An internal error occurred; it has been logged. Please report it."},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
