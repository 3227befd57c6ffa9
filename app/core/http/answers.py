"""Answers already serialized. A route that built its pydantic answer itself returns it through
`json_answer`, so that FastAPI does not dump, validate and serialize it again (the route's
`response_model` still documents it); an answer kept as bytes is sent as it is."""

from fastapi.responses import Response
from pydantic import BaseModel


def json_answer(body: BaseModel | bytes) -> Response:
    content = body if isinstance(body, bytes) else body.model_dump_json().encode()
    return Response(content, media_type="application/json")
