"""`wealthcrm report monthly` end to end (in-process) on the hand-made branch, both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from wealthcrm.cli.main import app
from wealthcrm.db import session_scope

from ..conftest import TEST_FIELD_KEY
from ..reports.data import load_report_branch

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.delenv("WEALTHCRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_monthly_writes_every_file_per_language(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        load_report_branch(session)
    out = tmp_path / "reports"
    code, text = run(
        "--database", db_url, "report", "monthly", "--month", "2026-10", "--out", str(out), "--json"
    )
    assert code == 0, text
    written = json.loads(text)
    assert written["month"] == "2026-10"
    assert sorted(Path(p).relative_to(out).as_posix() for p in written["files"]) == [
        "en/report.html", "en/report.pdf", "en/report.xlsx",
        "zh_CN/report.html", "zh_CN/report.pdf", "zh_CN/report.xlsx",
    ]  # fmt: skip
    assert (out / "zh_CN" / "report.pdf").read_bytes().startswith(b"%PDF-")
    sheets = load_workbook(out / "en" / "report.xlsx").sheetnames
    assert sheets[1:3] == ["1 Customers and AUM by tier", "2 Tier migration"]

    code, text = run(
        "--database",
        db_url,
        "report",
        "monthly",
        "--month",
        "2026-10",
        "--out",
        str(out / "x"),
        "--lang",
        "en",
    )
    assert code == 0, text
    assert sorted(p.name for p in (out / "x").iterdir()) == ["en"]
    assert "wrote" in text


def test_bad_input_is_an_error_not_a_traceback(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        load_report_branch(session)
    cases = [
        (["--month", "2026-13"], "is not a month"),
        (["--month", "2027-01"], "no AUM data for 2027-01"),
        (["--month", "2026-10", "--lang", "fr"], "--lang: 'fr' is not zh_CN, en or all"),
    ]
    for extra, message in cases:
        code, text = run("--database", db_url, "report", "monthly", "--out", str(tmp_path / "o"), *extra)
        assert code == 1, text
        assert message in " ".join(text.split()), text
