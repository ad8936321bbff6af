"""The command line end to end (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wealthcrm.cli.main import app

from ..conftest import TEST_FIELD_KEY
from ..ingest.factories import VALID_COUNTS, changed, write_folder

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


def test_help_lists_every_command() -> None:
    code, out = run("--help")
    assert code == 0
    for command in ("db", "import", "contract", "tiers", "config", "user", "demo"):
        assert command in out


def test_commands_refuse_a_database_that_is_not_set_up(tmp_path: Path) -> None:
    code, out = run("--database", f"sqlite:///{tmp_path / 'new.db'}", "import", str(tmp_path))
    assert code == 1
    assert "not set up: run `wealthcrm db upgrade` first" in out


def test_import_then_tiers(db_url: str, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    code, out = run("--database", db_url, "import", str(folder), "--json")
    assert code == 0, out
    result = json.loads(out)
    assert (result["ok"], result["rows"]) == (True, sum(VALID_COUNTS.values()))

    code, out = run("--database", db_url, "tiers", "--month", "2026-09", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["total"] == {"customers": 2, "aum": 1_660_000.5}
    assert report["tiers"]["sunflower"] == {"customers": 1, "aum": 1_600_000.5}
    assert report["tiers"]["gold"] == {"customers": 1, "aum": 60_000.0}

    code, out = run("--database", db_url, "tiers", "--month", "2026-10")
    assert code == 1
    assert "no AUM data for 2026-10" in out


def test_rejected_import_exits_2_with_every_problem_as_json(db_url: str, tmp_path: Path) -> None:
    files = changed("customers", 0, national_id="110105194912310021")
    files["aum_monthly"][2]["avg_daily_balance"] = "-1"
    code, out = run("--database", db_url, "import", str(write_folder(tmp_path / "bad", files)), "--json")
    assert code == 2
    assert json.loads(out) == {
        "ok": False,
        "problems": [
            {
                "file": "aum_monthly.csv",
                "row": 4,
                "column": "avg_daily_balance",
                "message": "'-1': must be zero or more (negative values are impossible)",
            },
            {
                "file": "customers.csv",
                "row": 2,
                "column": "national_id",
                "message": "'110105********0021': check digit is wrong (GB 11643)",
            },
        ],
    }
    code, out = run("--database", db_url, "import", str(tmp_path / "bad"), "--check")
    assert code == 2
    assert "2 problem(s); nothing was imported" in out


def test_user_add(db_url: str, tmp_path: Path) -> None:
    run("--database", db_url, "import", str(write_folder(tmp_path / "in")))
    code, out = run(
        "--database",
        db_url,
        "user",
        "add",
        "rm01",
        "--role",
        "rm",
        "--staff-id",
        "S001",
        "--password",
        "long enough pw",
    )
    assert (code, out.strip()) == (0, "added user rm01 (rm)")
    code, out = run(
        "--database",
        db_url,
        "user",
        "add",
        "rm01",
        "--role",
        "rm",
        "--staff-id",
        "S001",
        "--password",
        "long enough pw",
    )
    assert code == 1
    assert "user 'rm01' already exists" in out


def test_config_show_reflects_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wealthcrm.toml").write_text("[tiers]\ngrace_months = 4\n")
    monkeypatch.setenv("WEALTHCRM_CADENCE__SUNFLOWER_DAYS", "21")
    code, out = run("config", "show", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["settings_file"].endswith("wealthcrm.toml")
    assert shown["settings"]["tiers.grace_months"] == 4
    assert shown["settings"]["cadence.sunflower_days"] == 21
    assert shown["settings"]["field_key"] == "********"
    assert shown["settings"]["database_url"] == f"sqlite:///{tmp_path / 'data' / 'wealthcrm.db'}"


def test_bad_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "wealthcrm.toml").write_text("[tiers]\ngrace_monts = 4\n")
    code, out = run("config", "show")
    assert code == 1
    assert "settings:" in out
    assert "grace_monts" in out


def test_contract_prints_a_file() -> None:
    code, out = run("contract", "aum_monthly", "--markdown")
    assert code == 0
    assert "| `avg_daily_balance` | amount" in out
    code, out = run("contract", "nope")
    assert code == 1
