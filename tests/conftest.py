"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL too when
WEALTHCRM_TEST_DATABASE_URL is set (as .ci/run does)."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from wealthcrm import schema
from wealthcrm.config import Settings
from wealthcrm.db import all_models, make_engine
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch

PG_ENV = "WEALTHCRM_TEST_DATABASE_URL"
TEST_FIELD_KEY = base64.b64encode(bytes(range(32))).decode()
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", field_key=TEST_FIELD_KEY)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> str:
    """A migrated PostgreSQL database of this test worker's own (so xdist workers never collide)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    url = make_url(base)
    if worker_id != "master":
        name = f"{url.database}_{worker_id}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = url.set(database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    engine.dispose()
    return rendered


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(t.name for t in all_models().sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """An empty, migrated database on each backend; committed writes are allowed and cleaned up."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    _truncate_all(engine)
    try:
        yield url
    finally:
        _truncate_all(engine)
        engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (services never commit)."""
    with engine.connect() as conn:
        trans = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield sess
        finally:
            sess.close()
            trans.rollback()


# --- a small simulated branch, shared by the analytics and alert tests of a session -----------------

SIM_TODAY = date(2026, 11, 28)
SIM_END = date(2026, 10, 1)


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("branch")
    simulate_branch(
        customers=1500, months=18, seed=5, out=out, fmt="parquet", end_month="2026-10", today=SIM_TODAY
    )
    return out


@pytest.fixture(scope="session")
def sim_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), field_key=base64.b64encode(bytes(32)).decode())


@pytest.fixture(scope="session")
def sim_engine(sim_dir: Path, sim_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The simulated branch in a migrated SQLite database (read-only for tests: copy it to change it)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'sim.db'}")
    schema.upgrade(engine)
    import_path(engine, sim_dir, settings=sim_settings, today=SIM_TODAY)
    return engine
