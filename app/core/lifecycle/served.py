"""Which model version answered the current request: the capability that answers with a model
notes its version (`note_served`), and the HTTP layer writes it into the `X-Model-Version`
header (`app.core.http.version_header`). A context variable carries it from one to the other,
so no route repeats the header code."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# One list per request, made by `noting_served`: the route runs in tasks and threads that copy
# the context, so it appends to that list rather than setting the variable.
_served: ContextVar[list[str] | None] = ContextVar("served_model_version", default=None)


def note_served(version: str | None) -> str | None:
    """Records the version of the model the current request is answered with; returns it."""
    noted = _served.get()
    if noted is not None and version is not None:
        noted.append(version)
    return version


@contextmanager
def noting_served() -> Iterator[list[str]]:
    """The versions noted while the block runs (a request is answered), in order."""
    noted: list[str] = []
    token = _served.set(noted)
    try:
        yield noted
    finally:
        _served.reset(token)
