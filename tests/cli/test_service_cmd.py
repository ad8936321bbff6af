"""`wealthcrm service escalate`: cron's SLA escalation batch, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wealthcrm.cli import common as cli_common
from wealthcrm.cli.main import app
from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.service import service as svc
from wealthcrm.vocab import RequestType, ServiceChannel

from ..conftest import TEST_FIELD_KEY
from ..service.data import bj, seed, who

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.delenv("WEALTHCRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables and lines unwrapped
    # the console was made when the CLI was first imported, perhaps by another test: set its width too
    monkeypatch.setattr(cli_common.console, "width", 200)


@pytest.fixture
def complaint_db(db_url: str, tmp_path: Path) -> str:
    """The service tests' small branch with one sunflower complaint, opened Monday 30 November 2026 at
    10:00 in Beijing by the desk (S03): acknowledge by 12:00, resolve by Wednesday 10:00."""
    engine = make_engine(db_url)
    settings = Settings(data_dir=tmp_path / "data", field_key=TEST_FIELD_KEY)
    with session_scope(engine) as session:
        seed(session)
        svc.create(
            session,
            user=who("svc"),
            customer_id="C1",
            request_type=RequestType.complaint,
            channel=ServiceChannel.branch,
            now=bj(2026, 11, 30, 10),
            settings=settings,
            request_id="R1",
        )
    engine.dispose()
    return db_url


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_escalate_fires_each_step_once(complaint_db: str) -> None:
    # 14:30: the acknowledgement is 2.5 business hours late: step 1 (the assignee) only
    code, out = run("--database", complaint_db, "service", "escalate", "--now", "2026-11-30T14:30", "--json")
    assert code == 0, out
    assert json.loads(out) == {
        "now": "2026-11-30T06:30:00Z",
        "requests": 1,
        "steps": 1,
        "notifications": 1,
        "alerts": 1,
        "tasks": 1,
        "fired": [
            {
                "request_id": "R1",
                "customer_id": "C1",
                "request_type": "complaint",
                "sla": "acknowledge",
                "step": 1,
                "target": "assignee",
                "missed_at": "2026-11-30T04:00:00",
                "staff_ids": ["S03"],
                "user_ids": [],
            }
        ],
    }
    # the next morning (an offset given): 7 business hours late, step 2 tells the RM's team lead
    code, out = run(
        "--database", complaint_db, "service", "escalate", "--now", "2026-12-01T02:00:00+00:00", "--json"
    )
    fired = json.loads(out)
    assert (fired["steps"], fired["alerts"], fired["tasks"]) == (1, 0, 0)
    assert [(f["step"], f["target"], f["staff_ids"]) for f in fired["fired"]] == [(2, "team_lead", ["S02"])]
    # again at the same time: nothing more
    code, out = run("--database", complaint_db, "service", "escalate", "--now", "2026-12-01T10:00")
    assert code == 0
    assert "0 step(s) fired on 0 request(s)" in out
    # Wednesday 16:00, as a table: step 3 of the acknowledgement (the branch manager's staff record and
    # the manager user without one), and steps 1 and 2 of the resolution missed at 10:00
    code, out = run("--database", complaint_db, "service", "escalate", "--now", "2026-12-02T16:00")
    assert code == 0, out
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    assert rows == [
        ["R1", "C1", "complaint", "acknowledge", "3", "branch_manager", "S04, user 6"],
        ["R1", "C1", "complaint", "resolve", "1", "assignee", "S03"],
        ["R1", "C1", "complaint", "resolve", "2", "team_lead", "S02"],
    ]
    assert "3 step(s) fired on 1 request(s): 4 notification(s), 0 alert(s), 0 follow-up task(s)" in out


def test_escalate_refuses_a_bad_time(complaint_db: str) -> None:
    code, out = run("--database", complaint_db, "service", "escalate", "--now", "yesterday")
    assert code == 1 and "--now: 'yesterday' is not an ISO 8601 date and time" in out
    code, out = run("--database", complaint_db, "service", "escalate", "--now", "0001-01-01T00:00")
    assert code == 1 and "out of range" in out


def test_help_has_an_example() -> None:
    code, out = run("service", "escalate", "--help")
    assert code == 0 and "Example: wealthcrm service escalate" in out
