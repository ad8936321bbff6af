"""Tampering with the audit log the way a database administrator could: around the triggers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from wealthcrm.db import is_postgres


@contextmanager
def bypassing_triggers(engine: Engine) -> Iterator[Connection]:
    """A committed transaction in which UPDATE and DELETE on audit_log are not refused.

    PostgreSQL: ``session_replication_role = replica`` (superuser) skips ordinary triggers for this
    transaction only. SQLite has no such switch: the triggers are dropped (each test has its own file).
    """
    with engine.begin() as conn:
        if is_postgres(conn):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        yield conn
