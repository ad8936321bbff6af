"""`wealthcrm audit verify|search|export` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from wealthcrm.cli.main import app

from ..conftest import TEST_FIELD_KEY
from .dba import bypassing_triggers
from .test_service import _write

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.delenv("WEALTHCRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", db_url, *args])
    return result.exit_code, result.output


def test_verify_is_quiet_on_an_intact_log(db_url: str, engine: Engine) -> None:
    _write(engine)
    code, out = run(db_url, "audit", "verify")
    assert (code, out.strip()) == (0, "ok: 5 entries, the chain is intact (head 5)")
    code, out = run(db_url, "audit", "verify", "--json")
    assert code == 0
    assert json.loads(out) == {
        "ok": True,
        "checked": 5,
        "last_seq": 5,
        "head_seq": 5,
        "broken_seq": None,
        "problem": None,
        "message": "the audit log is intact",
    }


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE audit_log SET actor = 'someone' WHERE seq = 4",
            {"broken_seq": 4, "problem": "edited", "message": "entry 4 was changed after it was written"},
        ),
        (
            "DELETE FROM audit_log WHERE seq = 5",
            {
                "broken_seq": 5,
                "problem": "head_mismatch",
                "message": "the log ends at entry 4 but its head names entry 5",
            },
        ),
        (
            "DELETE FROM audit_log WHERE seq = 3",
            {
                "broken_seq": 3,
                "problem": "missing",
                "message": "entry 3 is missing (the next one present is 4)",
            },
        ),
    ],
    ids=["edited", "deleted-last", "deleted-middle"],
)
def test_verify_detects_tampering_and_exits_1(
    db_url: str, engine: Engine, tamper: str, expected: dict[str, object]
) -> None:
    _write(engine)
    with bypassing_triggers(engine) as conn:
        conn.execute(text(tamper))
    code, out = run(db_url, "audit", "verify", "--json")
    assert code == 1
    result = json.loads(out)
    assert {k: result[k] for k in expected} == expected
    assert result["ok"] is False
    code, out = run(db_url, "audit", "verify")
    assert code == 1 and f"broken at entry {expected['broken_seq']}" in out


def test_search_and_export(db_url: str, engine: Engine, tmp_path: Path) -> None:
    _write(engine)
    code, out = run(db_url, "audit", "search", "--actor", "rm01", "--page-size", "2", "--json")
    assert code == 0, out
    found = json.loads(out)
    assert (found["total"], [i["seq"] for i in found["items"]]) == (3, [5, 3])
    assert found["items"][0]["reason"] == "reason 5"
    code, out = run(db_url, "audit", "search", "--action", "task", "--since", "2026-11-04")
    assert code == 0 and "task.done" in out and "1 entries; page 1" in " ".join(out.split())
    code, out = run(db_url, "audit", "search", "--since", "11/04/2026")
    assert code == 1 and "--since: a date, YYYY-MM-DD" in out

    target = tmp_path / "audit.csv"
    code, out = run(db_url, "audit", "export", "--out", str(target), "--customer", "C002")
    assert (code, out.strip()) == (0, f"wrote 1 entries to {target}")
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["seq"], r["actor"], r["action"], r["customer_id"]) for r in rows] == [
        ("2", "audit", "task.done", "C002")
    ]
