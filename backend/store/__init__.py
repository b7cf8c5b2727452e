"""The conversation store: SQLite through SQLAlchemy, versioned and migrated at start-up."""

from backend.store.db import DB_FILENAME, StoreError
from backend.store.migrations import LATEST_VERSION
from backend.store.models import ROLES, STATUSES
from backend.store.store import Store

__all__ = ["DB_FILENAME", "LATEST_VERSION", "ROLES", "STATUSES", "Store", "StoreError"]
