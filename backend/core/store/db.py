"""The SQLite engine: per-connection pragmas and explicit BEGIN modes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event

from backend.core.errors import AppError
from backend.core.json_text import loads

BUSY_TIMEOUT_MS = 5000
# Execution option read by the "begin" hook: "IMMEDIATE" for units of work that write.
BEGIN_MODE = "cloudtolocalllm_begin_mode"


class StoreError(AppError):
    """The database file cannot be used: not SQLite, unreadable, unwritable or too new."""

    code = "database_unusable"
    http_status = 500


def unusable(path: Path, reason: object) -> StoreError:
    return StoreError(f"Cannot use the database {path}: {reason}")


def database_error(reason: object) -> StoreError:
    """A failed unit of work, told without the file's path: the message reaches clients."""
    return StoreError(f"The database failed: {_told(reason)}", code="database_error")


def _told(reason: object) -> str:
    # sqlite3's messages are one short line ("database or disk is full"); anything else
    # (a codec's complaint quoting the text) is named by its type, as it may hold text.
    said = str(reason).strip().splitlines() if isinstance(reason, sqlite3.Error) else []
    return said[0][:120] if said else type(reason).__name__


def set_pragmas(connection: sqlite3.Connection) -> None:
    """Pragmas every connection needs; busy_timeout first so the others wait for locks."""
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    # NORMAL is durable in WAL mode except for the last commits on power loss, and it
    # keeps the ~4 writes a second of a streaming reply from each waiting for fsync.
    connection.execute("PRAGMA synchronous = NORMAL")


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # sqlite3's legacy mode only BEGINs before DML: reads would see no stable snapshot
    # and a read-then-write could hit SQLITE_BUSY_SNAPSHOT. We emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    set_pragmas(dbapi_connection)


def _on_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so two
    # writers queue instead of one failing on a lock upgrade; readers use DEFERRED.
    mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(path: Path) -> Engine:
    """An engine for the file at `path`, safe to share between threads."""
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,  # parameters are message text: never in errors or logs
        json_deserializer=loads,  # stats and options of every message a conversation shows
        # The most recently used connection first: its page cache is the warm one.
        pool_use_lifo=True,
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine
