"""A small simulated branch imported into a SQLite file, shared by the analytics tests of a session."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from wealthcrm import schema
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch

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
