"""The importer end to end, on SQLite and PostgreSQL: valid folders import, bad ones change nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from wealthcrm.config import Settings, SlaSettings
from wealthcrm.customers.models import Customer
from wealthcrm.db import all_models, session_scope
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.ingest.importer import cipher_for, import_path, validate_path
from wealthcrm.ingest.problems import ImportRejected, Problem
from wealthcrm.interactions.models import Interaction
from wealthcrm.service.models import ServiceRequest

from .factories import VALID, VALID_COUNTS, changed, write_folder

TODAY = date(2026, 11, 28)
DATA_TABLES = list(VALID)


def counts(engine: Engine) -> dict[str, int]:
    tables = {t.name: t for t in all_models().sorted_tables}
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(tables[name])).scalar_one() for name in tables
        }


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every data table, to prove a rejected import changed nothing."""
    tables = {t.name: t for t in all_models().sorted_tables}
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(select(tables[name])))
            for name in [*DATA_TABLES, "import_runs"]
        }


def test_valid_folder_imports_every_row(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    result = import_path(engine, write_folder(tmp_path / "in"), settings=settings, today=TODAY)

    assert {f.table: (f.rows, f.changed) for f in result.files} == {
        name: (n, n) for name, n in VALID_COUNTS.items()
    }
    stored = counts(engine)
    assert {name: stored[name] for name in VALID_COUNTS} == VALID_COUNTS
    assert stored["import_runs"] == 1
    with session_scope(engine) as session:
        c1 = session.get(Customer, "C001")
        assert c1 is not None
        assert (c1.name, c1.rm_id, c1.risk_level, c1.consent_marketing) == ("陈一", "S001", "C3", True)
        assert c1.national_id_masked == "110105********002X"
        assert c1.mobile_masked == "138****5678"
        assert c1.national_id_enc is not None and b"110105" not in c1.national_id_enc
        assert cipher_for(settings).decrypt(c1.national_id_enc) == "11010519491231002X"
        c2 = session.get(Customer, "C002")
        assert c2 is not None
        assert (c2.status, c2.closed_on, c2.mobile_masked, c2.national_id_enc) == (
            "closed",
            date(2026, 10, 15),
            "139****1111",
            None,
        )
        wmp = session.get(AumMonthly, ("C001", date(2026, 9, 1), "wmp"))
        assert wmp is not None and wmp.avg_daily_balance == pytest.approx(1_000_000.50)
        contact = session.get(Interaction, "I1")
        assert contact is not None
        assert contact.occurred_at.isoformat() == "2026-10-03T10:30:00"


def test_importing_twice_leaves_identical_rows(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    import_path(engine, folder, settings=settings, today=TODAY)
    first = snapshot(engine)
    second_run = import_path(engine, folder, settings=settings, today=TODAY)

    assert [f.changed for f in second_run.files] == [0] * len(VALID)
    again = snapshot(engine)
    assert {k: v for k, v in again.items() if k != "import_runs"} == {
        k: v for k, v in first.items() if k != "import_runs"
    }
    assert counts(engine)["import_runs"] == 2


def test_reimport_updates_changed_rows_only(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    import_path(engine, write_folder(tmp_path / "a"), settings=settings, today=TODAY)
    files = changed("aum_monthly", 2, avg_daily_balance="70000")
    del files["customers"]  # a later extract need not repeat every file
    result = import_path(engine, write_folder(tmp_path / "b", files), settings=settings, today=TODAY)

    assert {f.table: f.changed for f in result.files}["aum_monthly"] == 1
    with session_scope(engine) as session:
        row = session.get(AumMonthly, ("C002", date(2026, 9, 1), "demand_deposit"))
        assert row is not None and row.avg_daily_balance == 70000
        assert session.scalar(select(func.count()).select_from(Customer)) == 2


def test_bad_id_unknown_product_and_negative_balance_are_all_listed_and_nothing_changes(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    import_path(engine, write_folder(tmp_path / "good"), settings=settings, today=TODAY)
    before = snapshot(engine)
    files = changed("customers", 0, national_id="110105194912310021")
    files["positions"][0]["product_code"] = "WMP999"
    files["aum_monthly"][2]["avg_daily_balance"] = "-60000"
    files["aum_monthly"][1]["avg_daily_balance"] = "999"  # a valid change that must not land either

    with pytest.raises(ImportRejected) as err:
        import_path(engine, write_folder(tmp_path / "bad", files), settings=settings, today=TODAY)

    assert err.value.problems == [
        Problem(
            "aum_monthly.csv",
            4,
            "avg_daily_balance",
            "'-60000': must be zero or more (negative values are impossible)",
        ),
        Problem("customers.csv", 2, "national_id", "'110105********0021': check digit is wrong (GB 11643)"),
        Problem(
            "positions.csv",
            2,
            "product_code",
            "'WMP999': unknown product_code: not in the products file nor in the database",
        ),
    ]
    assert snapshot(engine) == before


def test_every_kind_of_problem_is_reported(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    files = changed("staff", 0, role="boss", joined_on="2027-01-01")
    files["staff"][2]["left_on"] = ""  # status left without a date
    files["customers"][0].update(mobile="12345", risk_assessed_on="", birth_date="1950-01-01", rm_id="S003")
    files["customers"][1]["customer_id"] = "C001"
    files["aum_monthly"][0]["month"] = "2026-13"
    files["transactions"][0]["amount"] = "0"
    files["interactions"][0]["occurred_at"] = "yesterday"
    files["positions"][0]["maturity_on"] = "2026-03-01"

    problems = validate_path(engine, write_folder(tmp_path / "bad", files), settings=settings, today=TODAY)

    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("aum_monthly.csv", 2, "month", "'2026-13': not a month: use YYYY-MM"),
        # C002 was renamed C001 (a duplicate), so nothing defines C002 any more:
        (
            "aum_monthly.csv",
            4,
            "customer_id",
            "'C002': unknown customer_id: not in the customers file nor in the database",
        ),
        ("customers.csv", 2, "birth_date", "differs from the birth date in national_id"),
        ("customers.csv", 2, "mobile", "'*****': not a mainland mobile number (11 digits starting 13–19)"),
        ("customers.csv", 2, "risk_assessed_on", "risk_level and risk_assessed_on must be given together"),
        ("customers.csv", 2, "rm_id", "'S003 (service)': is not an RM or team lead"),
        ("customers.csv", 3, "customer_id", "duplicate key (customer_id): same as row 2"),
        ("interactions.csv", 2, "occurred_at", "'yesterday': not a date and time: use YYYY-MM-DD HH:MM:SS"),
        ("positions.csv", 2, "maturity_on", "'2026-03-01': is before opened_on"),
        ("staff.csv", 2, "joined_on", "'2027-01-01': is after today (2026-11-28)"),
        (
            "staff.csv",
            2,
            "role",
            "'boss': not one of: rm, team_lead, branch_manager, service, analyst, auditor, admin",
        ),
        ("staff.csv", 4, "left_on", "required when status is left"),
        ("transactions.csv", 2, "amount", "'0': must be positive"),
    ]
    assert counts(engine)["customers"] == 0


def test_missing_required_column_and_unknown_file(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in", {"branches": VALID["branches"]})
    (folder / "teams.csv").write_text("team_id,name\nT01,x\n", encoding="utf-8")
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")

    problems = validate_path(engine, folder, settings=settings, today=TODAY)

    assert problems == [Problem("teams.csv", 1, "branch_id", "required column is missing from the header")]
    with pytest.raises(ImportRejected):
        import_path(engine, folder, settings=settings, today=TODAY)
    assert counts(engine)["branches"] == 0


def test_reference_to_stored_rows_is_accepted(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    import_path(engine, write_folder(tmp_path / "a"), settings=settings, today=TODAY)
    only_aum = {"aum_monthly": [dict(VALID["aum_monthly"][0], month="2026-10")]}
    result = import_path(engine, write_folder(tmp_path / "b", only_aum), settings=settings, today=TODAY)
    assert [(f.table, f.changed) for f in result.files] == [("aum_monthly", 1)]


def test_national_id_of_another_stored_customer_is_rejected(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    import_path(engine, write_folder(tmp_path / "a"), settings=settings, today=TODAY)
    newcomer = dict(VALID["customers"][0], customer_id="C003", mobile="")
    problems = validate_path(
        engine, write_folder(tmp_path / "b", {"customers": [newcomer]}), settings=settings, today=TODAY
    )
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "national_id", "'belongs to customer C001': national ID already stored for another customer")
    ]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(engine: Engine, settings: Settings, tmp_path: Path, encoding: str) -> None:
    folder = write_folder(tmp_path / "in", encoding=encoding)
    assert "陈一".encode(encoding.replace("-sig", "")) in (folder / "customers.csv").read_bytes()

    result = import_path(engine, folder, settings=settings, today=TODAY)

    by_file = {f.file: f.encoding for f in result.files}
    # pure-ASCII files are valid UTF-8 whatever they were written as; the Chinese ones tell
    assert by_file["customers.csv"] == by_file["branches.csv"] == encoding
    with session_scope(engine) as session:
        names = session.scalars(select(Customer.name).order_by(Customer.customer_id)).all()
        branch = session.execute(text("SELECT name FROM branches")).scalar_one()
    assert (names, branch) == (["陈一", "刘二"], "深圳福田支行")


def test_parquet_folder_imports(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    result = import_path(engine, write_folder(tmp_path / "pq", fmt="parquet"), settings=settings, today=TODAY)
    assert {f.table: f.rows for f in result.files} == VALID_COUNTS
    assert {name: counts(engine)[name] for name in VALID_COUNTS} == VALID_COUNTS


def test_exception_half_way_rolls_back_everything(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    class Boom(RuntimeError):
        pass

    def explode(table: str) -> None:
        if table == "aum_monthly":
            raise Boom(table)

    with pytest.raises(Boom):
        import_path(
            engine, write_folder(tmp_path / "in"), settings=settings, today=TODAY, on_table_written=explode
        )
    assert all(n == 0 for n in counts(engine).values())


def test_service_request_and_survey_checks(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    files = changed("service_requests", 0, rating="6", resolved_at="2026-10-04 09:00")
    files["service_requests"][1]["status"] = "resolved"
    files["survey_answers"][1]["customer_id"] = "C002"

    problems = validate_path(engine, write_folder(tmp_path / "bad", files), settings=settings, today=TODAY)

    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("service_requests.csv", 2, "rating", "'6': must be at most 5"),
        ("service_requests.csv", 2, "resolved_at", "'2026-10-04': is before opened_at"),
        ("service_requests.csv", 3, "resolved_at", "required when status is closed/resolved"),
        ("survey_answers.csv", 2, "customer_id", "a response has rows with different customer_id values"),
        ("survey_answers.csv", 3, "customer_id", "a response has rows with different customer_id values"),
        ("survey_answers.csv", 4, "customer_id", "a response has rows with different customer_id values"),
    ]


def test_request_times_are_local_in_the_file_and_utc_in_the_database(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The file's times are Beijing time (sla.time_zone); the service workflow keeps instants in UTC.
    Contacts stay in local wall-clock time."""
    files = changed("service_requests", 1, opened_at="2026-11-02 09:30", due_at="2026-11-04 17:30")
    folder = write_folder(tmp_path / "in", files)
    import_path(engine, folder, settings=settings, today=TODAY)

    with session_scope(engine) as session:
        r1, r2 = session.get(ServiceRequest, "R1"), session.get(ServiceRequest, "R2")
        contact = session.get(Interaction, "I1")
        assert r1 is not None and r2 is not None and contact is not None
        assert (r2.opened_at, r2.due_at, r2.acknowledged_at) == (
            datetime(2026, 11, 2, 1, 30),
            datetime(2026, 11, 4, 9, 30),
            None,
        )
        assert (r1.opened_at, r1.acknowledged_at, r1.due_at, r1.resolved_at) == (
            datetime(2026, 10, 5, 1, 0),
            datetime(2026, 10, 5, 2, 0),
            datetime(2026, 10, 7, 10, 0),
            datetime(2026, 10, 8, 3, 0),
        )
        assert contact.occurred_at == datetime(2026, 10, 3, 10, 30)
    again = import_path(engine, folder, settings=settings, today=TODAY)
    assert {f.table: f.changed for f in again.files}["service_requests"] == 0

    # another branch's clock: the same file in UTC is stored as written
    utc = settings.model_copy(update={"sla": SlaSettings(time_zone="UTC")})
    import_path(engine, folder, settings=utc, today=TODAY)
    with session_scope(engine) as session:
        r2 = session.get(ServiceRequest, "R2")
        assert r2 is not None and r2.opened_at == datetime(2026, 11, 2, 9, 30)


def test_not_after_today_compares_the_branchs_local_times(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    late_today = changed("service_requests", 1, opened_at="2026-11-28 23:30")  # 15:30 UTC
    assert (
        validate_path(engine, write_folder(tmp_path / "a", late_today), settings=settings, today=TODAY) == []
    )
    # 16:10 UTC on the 28th, but already the 29th in Beijing
    tomorrow = changed("service_requests", 1, opened_at="2026-11-29 00:10")
    tomorrow["interactions"][0]["occurred_at"] = "2026-11-29 08:00"
    problems = validate_path(engine, write_folder(tmp_path / "b", tomorrow), settings=settings, today=TODAY)
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("interactions.csv", 2, "occurred_at", "'2026-11-29 08:00': is after today (2026-11-28)"),
        ("service_requests.csv", 3, "opened_at", "'2026-11-29 00:10': is after today (2026-11-28)"),
    ]
