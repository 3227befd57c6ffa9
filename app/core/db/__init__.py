"""MongoDB: the client and its watcher, bounded calls mapped to the service's errors, the
filters on the producer's transactions, the rollups MongoDB keeps summed for the trainings, and
the server's clock for what replicas must judge
alike."""

from app.core.db.database import Database, database_errors
from app.core.db.rollups import Rollup, RollupRun, Rollups
from app.core.db.server_time import NOW_MILLIS, from_now, older_than
from app.core.db.transactions import sales_filter, window_filter

__all__ = [
    "NOW_MILLIS",
    "Database",
    "Rollup",
    "RollupRun",
    "Rollups",
    "database_errors",
    "from_now",
    "older_than",
    "sales_filter",
    "window_filter",
]
