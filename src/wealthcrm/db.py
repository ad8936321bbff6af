"""Engine and session factory, and the declarative Base with one naming convention."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


#: How much of a SQLite file connections read through a memory map (address space, not memory).
SQLITE_MMAP_BYTES = 1 << 30
#: The most page cache one SQLite connection keeps, in KiB (it grows as pages are read).
SQLITE_CACHE_KIB = 32 * 1024


def _sqlite_file_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    # WAL: readers (the web app) never block the nightly import; NORMAL is durable in WAL mode
    # except for the last transactions on power loss, which a re-run import restores.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Reads through a memory map of the file (the OS's page cache, no read() call and copy per page)
    # and a larger page cache per connection (the default is 2 MB): a page of the web app reads a few
    # thousand B-tree pages; these halve the time of such reads (the book's count: 4 → 2 ms).
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


#: PostgreSQL session settings of wealthcrm's connections, unless the database URL sets ``options``.
#: ``random_page_cost`` 1.1 instead of 4 (the default assumes spinning disks): a branch's data sits in
#: memory or on SSD, where a key look-up costs little more than reading on. With 4 the planner read
#: every task and alert of the branch and hash-joined them to an RM's few hundred customers: the
#: Today page's SQL at 50,000 customers 48 → 15 ms (EXPLAIN ANALYZE, same queries).
PG_CONNECT_OPTIONS = "-c random_page_cost=1.1"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite gets foreign keys, WAL and a busy timeout, PostgreSQL
    :data:`PG_CONNECT_OPTIONS`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            event.listen(engine, "connect", _sqlite_file_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        if "options" not in parsed.query:
            connect_args = {"options": PG_CONNECT_OPTIONS, **kwargs.pop("connect_args", {})}
            return create_engine(url, connect_args=connect_args, **kwargs)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Services never commit; this does."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def utcnow() -> datetime:
    """Now as naive UTC: the form every stored timestamp takes."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(at: datetime, time_zone: str) -> datetime:
    """A stored timestamp (naive UTC) as naive local wall-clock time in ``time_zone``."""
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)


def to_utc(local: datetime, time_zone: str) -> datetime:
    """Naive local wall-clock time in ``time_zone`` as a stored timestamp (naive UTC)."""
    return local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC).replace(tzinfo=None)


def refresh_statistics(engine: Engine) -> None:
    """Refresh the query planner's statistics after a bulk change (an import, a nightly batch).

    Without them SQLite guesses, and at 50,000 customers it drove Today's count of at-risk customers
    from the month index over the whole branch instead of from the RM's customers (51 ms instead of
    3 ms). ``analysis_limit`` samples each index (a second or two at that size); PostgreSQL's
    autovacuum would get there eventually, but not before the morning's first page.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql("ANALYZE")


def is_postgres(engine_or_conn: Any) -> bool:
    return bool(engine_or_conn.dialect.name == "postgresql")


def all_models() -> MetaData:
    """Import every domain's models so Base.metadata is complete (for Alembic and tests)."""
    import wealthcrm.activity.models
    import wealthcrm.alerts.models
    import wealthcrm.analytics.models
    import wealthcrm.audit.models
    import wealthcrm.customers.models
    import wealthcrm.entitlements.models
    import wealthcrm.holdings.models
    import wealthcrm.ingest.models
    import wealthcrm.interactions.models
    import wealthcrm.products.models
    import wealthcrm.recommendations.models
    import wealthcrm.scorecards.models
    import wealthcrm.service.models
    import wealthcrm.staff.models
    import wealthcrm.surveys.models
    import wealthcrm.tasks.models
    import wealthcrm.users.models  # noqa: F401

    return Base.metadata


def str_enum(enum_cls: type[Any], name: str, *, check: bool = True) -> Any:
    """A portable enum column type: VARCHAR plus a CHECK constraint (no Postgres-only ENUM types).

    ``check=False`` leaves out the CHECK for the largest fact tables: SQLite evaluates an ``IN (…)``
    list per row, which measured 2 s per million rows of import (bench/import.py), and the importer and
    the ORM already refuse values outside the enum.
    """
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=check,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def money() -> Any:
    """CNY amounts: exact NUMERIC(18,2) in the database, floats in Python (analytics works on floats)."""
    from sqlalchemy import Numeric

    return Numeric(18, 2, asdecimal=False)
