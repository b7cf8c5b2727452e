"""The conversation store: SQLite through SQLAlchemy, versioned and migrated at start-up."""

from backend.core.settings import DB_FILENAME
from backend.core.store.db import StoreError
from backend.core.store.migrations import LATEST_VERSION
from backend.core.store.models import ROLES, STATUSES
from backend.core.store.store import Store

__all__ = ["DB_FILENAME", "LATEST_VERSION", "ROLES", "STATUSES", "Store", "StoreError"]
