"""`wealthcrm scorecard` and `wealthcrm capability` end to end (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from wealthcrm.audit.models import AuditEntry
from wealthcrm.cli.main import app
from wealthcrm.db import session_scope
from wealthcrm.scorecards.metrics import METRICS
from wealthcrm.scorecards.models import CompetencyAssessment, Qualification, Training

from ..conftest import TEST_FIELD_KEY
from ..scorecards.factories import load

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.setenv("WEALTHCRM_SCORECARDS__WINDOW_MONTHS", "3")
    monkeypatch.delenv("WEALTHCRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def url(engine: Engine, db_url: str) -> str:
    with session_scope(engine) as session:
        load(session)
    return db_url


def run(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", url, *args])
    return result.exit_code, result.output


def test_compute_then_show(url: str) -> None:
    code, out = run(url, "scorecard", "show", "--month", "2026-10")
    assert (code, "no scorecards for 2026-10" in out) == (1, True)

    code, out = run(url, "scorecard", "compute", "--month", "2026-10", "--json")
    assert code == 0, out
    computed = json.loads(out)
    assert (computed["month"], computed["window_months"], computed["horizon_months"]) == ("2026-10", 3, 3)
    units = [(r["level"], r["unit_id"]) for r in computed["rows"]]
    assert units == [
        ("branch", "B1"), ("team", "T1"), ("team", "T2"),
        ("rm", "L1"), ("rm", "R1"), ("rm", "R2"), ("rm", "R3"), ("rm", "R5"),
    ]  # fmt: skip
    r1 = next(r for r in computed["rows"] if r["unit_id"] == "R1")
    assert set(r1["figures"]) == set(METRICS)
    assert (r1["figures"]["customers"], r1["figures"]["at_risk_customers"], r1["figures"]["saves"]) == (
        4,
        3,
        2,
    )

    code, out = run(url, "scorecard", "show", "--month", "2026-10", "--rm", "R1", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert [(r["level"], r["unit_id"]) for r in shown["rows"]] == [
        ("branch", "B1"), ("team", "T1"), ("team", "T2"), ("rm", "R1"),
    ]  # fmt: skip
    assert shown["rows"][-1] == r1
    assert shown["metrics"]["nps"]["definition"]["zh"] == METRICS["nps"].definition_zh

    code, out = run(url, "scorecard", "show", "--month", "2026-10", "--rm", "R1")
    assert code == 0, out
    assert "R1 2026-10" in out and "Customers" in out
    code, out = run(url, "scorecard", "compute", "--month", "2026-10")
    assert code == 0 and "RM scorecards 2026-10" in out

    code, out = run(url, "scorecard", "show", "--month", "2026-10", "--rm", "R9")
    assert code == 1 and "no rm scorecard for 'R9'" in out
    code, out = run(url, "scorecard", "compute", "--month", "2026-12")
    assert code == 1 and "no nightly results for 2026-12" in out
    code, out = run(url, "scorecard", "compute", "--month", "October")
    assert code == 1 and "is not a month" in out


def test_capability_records(url: str, engine: Engine) -> None:
    today = date.today()
    soon = today.replace(year=today.year + 1) if (today.month, today.day) == (2, 29) else today
    expires = date.fromordinal(soon.toordinal() + 30).isoformat()
    args = ["capability", "add-qualification", "R1", "--kind", "afp", "--number", "AFP-123"]
    code, out = run(url, *args, "--obtained", "2024-03-01", "--expires", expires, "--as", "lead1", "--json")
    assert code == 0, out
    qualification = json.loads(out)
    assert (qualification["staff_id"], qualification["days_left"]) == ("R1", 30)

    code, out = run(url, *args, "--obtained", "2024-03-01", "--as", "lead1")
    assert code == 1 and "already has afp AFP-123" in out
    code, out = run(url, *args[:-1], "AFP-9", "--obtained", "2024-03-01", "--as", "rm1")
    assert code == 1 and "may not change capability records" in out
    code, out = run(url, *args[:-1], "AFP-9", "--obtained", "2024-13-01", "--as", "lead1")
    assert code == 1 and "is not a date" in out
    code, out = run(url, *args[:-1], "AFP-9", "--obtained", "2024-03-01", "--as", "nobody")
    assert code == 1 and "no user 'nobody'" in out

    training = ["capability", "add-training", "R2", "--course", "KYC", "--completed", "2026-10-12"]
    code, out = run(url, *training, "--hours", "6", "--score", "88", "--as", "lead1")
    assert code == 0 and "recorded training" in out, out
    code, out = run(url, *training, "--hours", "0", "--as", "lead1")
    assert code == 1 and "hours" in out
    scores = ["--product-knowledge", "4", "--compliance", "2", "--service", "4", "--relationship", "5"]
    code, out = run(
        url,
        "capability",
        "assess",
        "R1",
        "--on",
        "2026-10-20",
        *scores,
        "--digital",
        "3",
        "--as",
        "boss",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["scores"]["compliance"] == 2

    code, out = run(url, "capability", "expiring", "--tasks", "--json")
    assert code == 0, out
    found = json.loads(out)
    assert [q["number"] for q in found["qualifications"]] == ["AFP-123"]
    assert found["tasks"] == {"created": 0, "closed": 0}  # raised when the qualification was recorded
    code, out = run(url, "capability", "expiring", "--days", "10")
    assert code == 0 and "AFP-123" not in out

    with session_scope(engine) as session:
        assert [q.number for q in session.scalars(select(Qualification))] == ["AFP-123"]
        assert [t.course for t in session.scalars(select(Training))] == ["KYC"]
        assert [a.staff_id for a in session.scalars(select(CompetencyAssessment))] == ["R1"]
        actions = session.scalars(
            select(AuditEntry.actor + ":" + AuditEntry.action)
            .where(AuditEntry.action.in_(["qualification.create", "training.create", "assessment.create"]))
            .order_by(AuditEntry.seq)
        ).all()
        assert actions == ["lead1:qualification.create", "lead1:training.create", "boss:assessment.create"]
