"""Importing answers collected elsewhere (CSV, XLSX), all or nothing, and `wealthcrm survey import`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from wealthcrm.audit.models import AuditEntry
from wealthcrm.cli.main import app
from wealthcrm.config import Settings
from wealthcrm.ingest.problems import ImportRejected, Problem
from wealthcrm.surveys import distribution as waves
from wealthcrm.surveys.distribution import Segment
from wealthcrm.surveys.importer import import_answers
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.responses import required_items
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users

from ..conftest import TEST_FIELD_KEY
from ..customers.workbench import load_workbench

ON = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0)
Q = shipped_questionnaire()
ITEMS = required_items(Q)


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def db(wb: Engine) -> Iterator[Session]:
    with Session(wb) as session:
        yield session
        session.rollback()


def row(customer: str, answered_on: str, nps: int = 9, **extra: str) -> dict[str, str]:
    out = {"customer_id": customer, "answered_on": answered_on, **dict.fromkeys(ITEMS, "5")}
    out["NPS"] = str(nps)
    return out | extra


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def answers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0)


def run_import(session: Session, path: Path, settings: Settings, **kwargs: Any) -> Any:
    return import_answers(session, path=path, questionnaire=Q, today=ON, settings=settings, now=NOW, **kwargs)


def test_a_csv_is_stored_once_and_again_changes_nothing(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "paper.csv",
        [row("C003", "2026-11-20", COMMENT="纸质问卷"), row("C004", "2026/11/21", nps=2, TAN1="")],
    )
    before = answers(db)
    result = run_import(db, path, settings)
    assert result.to_dict() == {
        "ok": True,
        "file": "paper.csv",
        "questionnaire_id": "branch_default",
        "wave_id": None,
        "rows": 2,
        "responses": 2,
        "unchanged": 0,
        "answers": 2 * len(ITEMS) + 1 - 1,
        "tasks": 1,
    }
    assert answers(db) == before + result.answers
    stored = db.execute(
        select(SurveyAnswer.response_id, SurveyAnswer.customer_id, SurveyAnswer.answered_on)
        .where(SurveyAnswer.item_id == "NPS", SurveyAnswer.questionnaire_id == "branch_default")
        .order_by(SurveyAnswer.customer_id)
    ).all()
    assert [(c, d) for _r, c, d in stored] == [("C003", date(2026, 11, 20)), ("C004", date(2026, 11, 21))]
    assert all(r.startswith("I") and len(r) == 21 for r, _c, _d in stored)
    task = db.scalars(select(Task).where(Task.source_key == f"survey_recovery:{stored[1][0]}")).one()
    assert (task.assignee_id, task.evidence["nps"]) == ("S004", 2.0)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "survey.import")).one()
    assert (entry.actor, entry.details["responses"], len(entry.details["sha256"])) == ("system", 2, 64)
    again = run_import(db, path, settings)
    assert (again.responses, again.unchanged, again.answers, again.tasks) == (0, 2, 0, 0)
    assert answers(db) == before + result.answers


def test_a_bad_file_lists_every_problem_and_changes_nothing(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        row("C003", "2026-11-20"),
        row("C999", "2026-13-01", TAN1="9", NPS="x"),
        row("", "", COMP1="2"),
        row("C004", "2026-12-01", P_AGE="1;2"),
        row("C003", "2026-11-20"),  # the same response as row 2
        {"customer_id": "C004", "answered_on": "2026-11-02", **dict.fromkeys(ITEMS, "")},
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = answers(db)
    with pytest.raises(ImportRejected) as caught:
        run_import(db, path, settings)
    assert caught.value.problems == [
        Problem("bad.csv", 3, "NPS", "'x' is not a whole number"),
        Problem("bad.csv", 3, "TAN1", "9 is not from 1 to 7"),
        Problem("bad.csv", 3, "answered_on", "'2026-13-01': not a date: use YYYY-MM-DD"),
        Problem("bad.csv", 3, "customer_id", "'C999': no such customer"),
        Problem("bad.csv", 4, "COMP1", "'2' is not one of the codes [0, 1]"),
        Problem("bad.csv", 4, "answered_on", "required"),
        Problem("bad.csv", 4, "customer_id", "required"),
        Problem("bad.csv", 5, "P_AGE", "'1;2' is not one of the codes [1, 2, 3, 4]"),
        Problem("bad.csv", 5, "answered_on", "2026-12-01: is in the future"),
        Problem("bad.csv", 6, None, "the same response as row 2 (I" + _derived("C003", "2026-11-20") + ")"),
        Problem("bad.csv", 7, None, "no item is answered"),
    ]
    assert answers(db) == before


def _derived(customer: str, day: str) -> str:
    import hashlib

    return hashlib.sha256(f"branch_default|{customer}|{day}".encode()).hexdigest()[:20]


def test_columns_are_checked_before_rows(db: Session, settings: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cols.csv", [{"customer": "C003", "TAN1": "5", "tier": "gold"}])
    with pytest.raises(ImportRejected) as caught:
        run_import(db, path, settings)
    assert [(p.row, p.column, p.message) for p in caught.value.problems] == [
        (None, "answered_on", "a required column is missing"),
        (
            None,
            "customer",
            "not an item of questionnaire branch_default (nor customer_id, answered_on, response_id)",
        ),
        (None, "customer_id", "a required column is missing"),
        (
            None,
            "tier",
            "not an item of questionnaire branch_default (nor customer_id, answered_on, response_id)",
        ),
    ]
    with pytest.raises(ImportRejected, match="1 problem"):
        run_import(db, tmp_path / "missing.csv", settings)


def test_an_xlsx_of_a_wave_marks_its_invitations_answered(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    boss = users.get(db, username="boss")
    wave = waves.create_wave(
        db,
        user=boss,
        name="Paper wave",
        questionnaire=Q,
        segment=Segment(rm_id="S001"),
        opens_on=ON - timedelta(days=10),
        closes_on=ON + timedelta(days=5),
        today=ON,
        now=NOW,
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    header = ["customer_id", "answered_on", *ITEMS]
    sheet.append(header)
    sheet.append(["C001", datetime(2026, 11, 25), *[4] * (len(ITEMS) - 1), 10])
    path = tmp_path / "wave.xlsx"
    book.save(path)
    result = run_import(db, path, settings, wave_id=wave.id)
    assert (result.responses, result.wave_id) == (1, wave.id)
    invitation = db.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.wave_id == wave.id, SurveyInvitation.customer_id == "C001"
        )
    ).one()
    assert (invitation.used_at, invitation.response_id) == (NOW, f"W{wave.id}-{invitation.id}")
    assert (
        db.scalar(
            select(SurveyAnswer.score).where(
                SurveyAnswer.response_id == invitation.response_id, SurveyAnswer.item_id == "NPS"
            )
        )
        == 10.0
    )
    assert run_import(db, path, settings, wave_id=wave.id).unchanged == 1
    # not invited, answered outside the wave's days, or twice: rejected, nothing stored
    sheet.append(["C004", datetime(2026, 11, 26), *[4] * len(ITEMS)])
    sheet.append(["C003", datetime(2026, 11, 1), *[4] * len(ITEMS)])
    sheet.cell(row=2, column=3, value=5)  # C001 again, with other answers
    book.save(path)
    with pytest.raises(ImportRejected) as caught:
        run_import(db, path, settings, wave_id=wave.id)
    assert [(p.row, p.column, p.message) for p in caught.value.problems] == [
        (2, None, f"response {invitation.response_id} is already stored with other answers"),
        (3, "customer_id", f"'C004': not invited to wave {wave.id}"),
        (4, "answered_on", "2026-11-01: outside the wave (2026-11-18 to 2026-12-03)"),
    ]


def test_the_cli_imports_and_rejects(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    from ..ingest.factories import write_folder

    runner = CliRunner()
    assert (
        runner.invoke(app, ["--database", db_url, "import", str(write_folder(tmp_path / "in"))]).exit_code
        == 0
    )
    today = date.today().isoformat()
    good = write_csv(tmp_path / "good.csv", [row("C001", today)])
    result = runner.invoke(app, ["--database", db_url, "survey", "import", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["responses"] == 1
    result = runner.invoke(app, ["--database", db_url, "survey", "import", str(good)])
    assert result.exit_code == 0 and "0 new responses" in result.stdout
    assert "1 already stored" in " ".join(result.stdout.split())
    bad = write_csv(tmp_path / "bad.csv", [row("C001", today, TAN1="0")])
    result = runner.invoke(app, ["--database", db_url, "survey", "import", str(bad), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "ok": False,
        "problems": [{"file": "bad.csv", "row": 2, "column": "TAN1", "message": "0 is not from 1 to 7"}],
    }
    result = runner.invoke(app, ["--database", db_url, "survey", "import", str(good), "--wave", "99"])
    assert result.exit_code == 2 and "no survey wave 99" in result.stderr
