"""MongoDB: the client and its watcher, bounded calls mapped to the service's errors, the
filters on the producer's transactions, and the server's clock for what replicas must judge
alike."""

from app.core.db.database import Database, database_errors
from app.core.db.transactions import sales_filter, window_filter

__all__ = ["Database", "database_errors", "sales_filter", "window_filter"]
