"""Alembic environment: runs on the connection handed over by wealthcrm.schema, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from wealthcrm.db import all_models, make_engine

config = context.config
target_metadata = all_models()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables so one migration runs on both.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run `wealthcrm db upgrade`")
run_migrations_online()
