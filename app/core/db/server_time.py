"""MongoDB's clock, for what several replicas must judge alike (the training lease, abandoned
jobs): pipeline expressions evaluated by the server with `$$NOW`, so that replicas whose clocks
disagree still agree on what expired.

Dates are compared as milliseconds since the epoch (`$toLong`), which MongoDB and SecantusDB
(the test server) both do right; SecantusDB 0.7 compares `$$NOW` with a stored date as neither
less, equal nor greater."""

from typing import Any

NOW_MILLIS = {"$toLong": "$$NOW"}


def from_now(seconds: float) -> dict[str, Any]:
    """The date `seconds` after the server's now."""
    return {"$add": ["$$NOW", round(seconds * 1000)]}


def older_than(date: Any, seconds: float) -> dict[str, Any]:
    """Whether the date expression is more than `seconds` before the server's now; true for a
    missing date."""
    return {"$lt": [{"$toLong": date}, {"$subtract": [NOW_MILLIS, round(seconds * 1000)]}]}
