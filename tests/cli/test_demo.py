"""`wealthcrm demo --no-serve`: a simulated branch imported, with working logins for every role."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.cli.main import app
from wealthcrm.customers.models import Customer
from wealthcrm.db import make_engine, session_scope
from wealthcrm.users import service as users
from wealthcrm.users.models import User

from ..conftest import TEST_FIELD_KEY

runner = CliRunner()
PASSWORD = "demo-password-1"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.chdir(tmp_path)


def demo(db_url: str, *extra: str) -> tuple[int, str]:
    args = [
        "--database",
        db_url,
        "demo",
        "--no-serve",
        "--customers",
        "200",
        "--months",
        "12",
        "--password",
        PASSWORD,
        *extra,
    ]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def test_demo_builds_a_branch_with_logins(db_url: str) -> None:
    code, out = demo(db_url)
    assert code == 0, out
    assert "start the web app with: wealthcrm serve" in out
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 200
        names = session.scalars(select(User.username).order_by(User.id)).all()
        assert names[0] == "rm01"
        assert names[-3:] == ["analyst01", "auditor01", "admin"]
        assert {"lead01", "manager01", "service01"} <= set(names)
        for name in names:
            assert name in out
            assert users.check_password(users.get(session, username=name), PASSWORD)
        assert session.scalar(select(func.count()).select_from(CustomerMonth)) > 2000
        rm = users.get(session, username="rm01")
        assert rm.staff_id is not None
        assert rm.role == "rm"
    engine.dispose()

    # An earlier demo is replaced, not added to.
    code, out = demo(db_url, "--seed", "7")
    assert code == 0, out
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 200
    engine.dispose()


def test_demo_refuses_a_database_holding_real_data(db_url: str, tmp_path: Path) -> None:
    from ..ingest.factories import write_folder

    assert (
        runner.invoke(app, ["--database", db_url, "import", str(write_folder(tmp_path / "in"))]).exit_code
        == 0
    )
    code, out = demo(db_url)
    assert code == 1
    assert "already holds data that is not a demo" in out
    code, out = demo(db_url, "--force")
    assert code == 0, out


def test_short_password_is_refused(db_url: str) -> None:
    result = runner.invoke(app, ["--database", db_url, "demo", "--no-serve", "--password", "short"])
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
