"""Maps errors to HTTP answers whose `detail` is always a sentence a person can act on."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ServiceError, brief

# However many problems a request has, an answer names this many in `detail` and lists this
# many in `errors`, then says how many more there are: a huge invalid input gets a short answer.
SENTENCES_SHOWN = 5
ERRORS_LISTED = 20
_PART_CHARS = 40  # a key of the client's, as shown in a location
_MSG_CHARS = 200
# FastAPI's answer (400) to a body that fails to parse other than as invalid JSON: bytes that are
# not UTF-8 (UnicodeDecodeError), or JSON nested deeper than Python's recursion limit.
UNPARSABLE_BODY = "There was an error parsing the body"
SEND_JSON = "send a JSON object, encoded as UTF-8, with the header `Content-Type: application/json`"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else f"{text[: most - 3]}..."


def _part(part: Any) -> Any:
    return _cut(part, _PART_CHARS) if isinstance(part, str) else part


def _place(loc: tuple[int | str, ...]) -> str:
    where, *path = loc or ("request",)
    if where == "body" and not path:
        return "The request body"
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{_part(p)}" for p in path).lstrip(".")
    kind = {"query": "Query parameter", "path": "Path parameter", "body": "Field"}.get(
        str(where), str(where).capitalize()
    )
    return f"{kind} '{dotted}'"


def _sentence(error: dict[str, Any], content_type: str | None) -> str:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "invalid JSON")
        return f"The request body is not valid JSON ({reason}); {SEND_JSON}."
    if loc == ("body",) and isinstance(error.get("input"), bytes):
        sent = f"`Content-Type: {_cut(content_type, _PART_CHARS)}`" if content_type else "none"
        return f"The request body was not read as JSON (Content-Type sent: {sent}); {SEND_JSON}."
    got = f" (got {brief(error['input'])})" if error.get("type") != "missing" else ""
    return f"{_place(loc)}: {_cut(str(error['msg']), _MSG_CHARS)}{got}."


def describe_validation_errors(
    errors: list[dict[str, Any]], content_type: str | None = None
) -> str:
    """One sentence per problem, e.g. "Query parameter 'horizon': Input should be less than or
    equal to 30 (got '31').", for the first SENTENCES_SHOWN problems, then how many more."""
    sentences = [_sentence(error, content_type) for error in errors[:SENTENCES_SHOWN]]
    if len(errors) > SENTENCES_SHOWN:
        sentences.append(f"And {len(errors) - SENTENCES_SHOWN:,} more problems.")
    return " ".join(sentences)


def _plain(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first ERRORS_LISTED structured errors, reduced to short JSON-safe fields."""
    return [
        {
            "loc": [_part(part) for part in e.get("loc", ())],
            "msg": _cut(str(e.get("msg")), _MSG_CHARS),
            "type": e.get("type"),
        }
        for e in errors[:ERRORS_LISTED]
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = describe_validation_errors(errors, request.headers.get("content-type"))
    return JSONResponse(status_code=422, content={"detail": detail, "errors": _plain(errors)})


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers
    )


def _unparsable_body(cause: BaseException | None) -> JSONResponse:
    """A 422, as for invalid JSON, whose detail says why the body could not be read."""
    detail = {
        UnicodeDecodeError: f"The request body is not UTF-8 text, so it cannot be read as JSON; "
        f"{SEND_JSON}.",
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
    if exc.status_code == 400 and detail == UNPARSABLE_BODY:
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
