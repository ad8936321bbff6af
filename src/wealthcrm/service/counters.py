"""Counter rows that concurrent writers lock before they check a limit (quotas, slot capacity).

:func:`locked_counter` makes sure the row exists (``INSERT … ON CONFLICT DO NOTHING``: two first
writers cannot both create it) and then reads it with ``SELECT … FOR UPDATE``. On PostgreSQL the lock
makes a second writer wait until the first commits and then read the count the first wrote; on SQLite
the insert takes the database's write lock first, which serialises writers the same way (SQLite ignores
FOR UPDATE). Either way a check-then-increment under the lock cannot over-book.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wealthcrm.db import Base

M = TypeVar("M", bound=Base)


def locked_counter(session: Session, model: type[M], **key: Any) -> M:
    """The ``model`` row with primary key ``key`` (created with its defaults if missing), locked."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**key).on_conflict_do_nothing())
    stmt = select(model).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one()
