"""Version ids: how a training's id is made, and which ids are refused (not an id's shape, or
dated in the future). Apart from the stores, since both the disk and GridFS judge ids alike."""

import re
import secrets
from datetime import UTC, datetime, timedelta

from app.core.store.refusals import ArtifactInvalid

# A version id, as `new_version` makes it; nothing else names a version directory.
VERSION_PATTERN = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
# A version id is its training's time: one later than now by more than this clock skew between
# hosts was not made by a training here, and would sort first for ever (holding a keep-slot).
FUTURE_SKEW = timedelta(days=1)


def new_version(trained_at: datetime) -> str:
    """A training's version id, sortable by time and unique across replicas:
    `20261125T180000Z-1a2b3c`."""
    return f"{trained_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def in_the_future(version_id: str, now: datetime | None = None) -> bool:
    """Whether a version id is dated later than now by more than FUTURE_SKEW: refused."""
    try:
        made = datetime.strptime(version_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return False
    return made > (now or datetime.now(UTC)) + FUTURE_SKEW


def refuse_future(version_id: str) -> None:
    if in_the_future(version_id):
        raise ArtifactInvalid(
            f"version {version_id}: its id is dated more than {FUTURE_SKEW.days} day in the "
            "future, so no training here made it (a clock far off, or a planted version)"
        )
