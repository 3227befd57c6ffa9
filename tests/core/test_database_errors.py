"""What a caller reads when MongoDB fails: unreachable and too slow are different sentences."""

import pytest
from pymongo.errors import ExecutionTimeout, ServerSelectionTimeoutError

from app.core.db.database import database_errors
from app.errors import DatabaseTimeout, DatabaseUnavailable


async def test_a_bounded_call_that_outlasts_its_bound_names_the_setting() -> None:
    with pytest.raises(DatabaseTimeout) as error:
        async with database_errors(30, "ANOMALY_RECENT_TIMEOUT_SECONDS"):
            raise ExecutionTimeout("operation exceeded time limit")

    assert error.value.status_code == 503
    assert error.value.detail.startswith(
        "The database did not answer within 30 s (ANOMALY_RECENT_TIMEOUT_SECONDS), so this was "
        "stopped"
    )


async def test_an_unreachable_server_says_the_service_reconnects() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"^The database is unreachable right now"):
        async with database_errors(2):
            raise ServerSelectionTimeoutError("no servers")
