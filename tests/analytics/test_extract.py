"""The extract reads column-wise (ADBC in a child process on a large SQLite file, COPY on PostgreSQL,
the driver in chunks otherwise) and every path gives the same typed tables, as known at the month."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Column, Date, Engine, MetaData, String, Table, select, text
from sqlalchemy.orm import Session

from tests.conftest import SIM_END
from wealthcrm.analytics import extract
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.db import make_engine
from wealthcrm.ingest.importer import import_path

from ..ingest.factories import VALID, write_folder

TYPES = {
    "aum_monthly": {
        "customer_id": pa.string(),
        "month": pa.date32(),
        "asset_class": pa.string(),
        "avg_daily_balance": pa.float64(),
        "month_end_balance": pa.float64(),
    },
    "interactions": {"occurred_at": pa.timestamp("us"), "follow_up_on": pa.date32(), "logged_by": pa.int64()},
    "customers": {"consent_marketing": pa.bool_(), "closed_on": pa.date32(), "birth_date": pa.date32()},
    "service_requests": {"opened_at": pa.timestamp("us"), "resolved_at": pa.timestamp("us")},
    "survey_responses": {"nps_score": pa.float64(), "answered_on": pa.date32()},
}


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(name, "ascending") for name in table.column_names])


@pytest.fixture
def small(engine: Engine, tmp_path: Path, settings: Settings) -> Engine:
    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    files["aum_monthly"] += [dict(r, month="2026-10") for r in VALID["aum_monthly"]]
    import_path(engine, write_folder(tmp_path / "in", files), settings=settings, today=date(2026, 11, 28))
    return engine


def test_types_and_point_in_time_on_both_backends(small: Engine) -> None:
    tables = extract_tables(small, until=date(2026, 9, 15))
    for name, types in TYPES.items():
        for column, kind in types.items():
            assert tables[name].schema.field(column).type == kind, (name, column)
    months = set(tables["aum_monthly"].column("month").to_pylist())
    assert max(months) == date(2026, 9, 1)  # October's rows are after the month
    full = extract_tables(small, until=date(2026, 10, 1))
    assert full["aum_monthly"].num_rows == tables["aum_monthly"].num_rows + len(VALID["aum_monthly"])
    # amounts arrive as the decimal written, correctly rounded to float
    expected = sorted(float(r["avg_daily_balance"].replace(",", "")) for r in VALID["aum_monthly"])
    october = full["aum_monthly"].filter(
        pa.compute.equal(full["aum_monthly"]["month"], pa.scalar(date(2026, 10, 1)))
    )
    assert sorted(october.column("avg_daily_balance").to_pylist()) == expected


def test_adbc_child_equals_the_driver_on_a_simulated_branch(
    sim_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_driver = extract_tables(sim_engine, until=SIM_END)
    monkeypatch.setattr(extract, "ADBC_MIN_BYTES", 0)
    by_adbc = extract_tables(sim_engine, until=SIM_END)
    assert by_adbc.keys() == by_driver.keys()
    for name, table in by_driver.items():
        assert by_adbc[name].schema == table.schema, name
        assert _sorted(by_adbc[name]).equals(_sorted(table)), name
        assert table.num_rows > 0, name


def test_adbc_types_a_column_that_is_null_for_many_rows_then_text(tmp_path: Path) -> None:
    """The ADBC driver infers types from the first rows; the placeholder row keeps text as text."""
    path = tmp_path / "nulls.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (k VARCHAR(10), d DATE)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(f"k{i:05d}", None) for i in range(5000)])
        conn.execute("INSERT INTO t VALUES ('last', '2026-10-31')")
    t = Table("t", MetaData(), Column("k", String(10)), Column("d", Date))
    engine = make_engine(f"sqlite:///{path}")
    sql = extract._select_sql(engine, list(t.c), [])
    table = extract._sqlite_arrow(str(path), sql, list(t.c))
    assert table.schema == pa.schema([("k", pa.string()), ("d", pa.date32())])
    assert table.num_rows == 5001
    assert table.column("d").null_count == 5000
    assert table.filter(pa.compute.equal(table["k"], "last"))["d"].to_pylist() == [date(2026, 10, 31)]


def test_adbc_errors_are_reported(tmp_path: Path) -> None:
    t = Table("missing", MetaData(), Column("k", String(10)))
    with pytest.raises(RuntimeError, match="no such table"):
        extract._sqlite_arrow(str(tmp_path / "x.db"), "SELECT k FROM missing", list(t.c))


def test_reading_in_a_child_leaves_the_writers_locks_alone(
    sim_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second copy of SQLite in this process would drop this process's locks when it closes the
    file ("disk I/O error" on the next write); reading in a child process does not."""
    path = tmp_path / "copy.db"
    with sqlite3.connect(Path(sim_engine.url.database or "")) as source, sqlite3.connect(path) as target:
        source.backup(target)
    engine = make_engine(f"sqlite:///{path}")
    monkeypatch.setattr(extract, "ADBC_MIN_BYTES", 0)
    with Session(engine) as session, session.begin():
        first = session.scalars(select(Customer).order_by(Customer.customer_id).limit(1)).one()
        first.occupation = "changed"
        session.flush()  # this connection now holds the write lock
        customer_id = first.customer_id
        tables = extract_tables(engine, until=SIM_END)
        assert tables["customers"].num_rows > 1000
        session.execute(
            text("UPDATE customers SET district = 'd' WHERE customer_id = :c"), {"c": customer_id}
        )
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert conn.execute(
            text("SELECT occupation, district FROM customers WHERE customer_id = :c"),
            {"c": customer_id},
        ).one() == ("changed", "d")
    engine.dispose()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_no_rows_gives_empty_typed_tables(engine: Engine) -> None:
    tables = extract_tables(engine, until=datetime(2026, 10, 1).date())
    assert all(t.num_rows == 0 for t in tables.values())
    assert tables["aum_monthly"].schema.field("month").type == pa.date32()
    assert tables["customers"].schema.field("consent_marketing").type == pa.bool_()


def _sums(table: pa.Table, value: str) -> dict[tuple[str, date], float]:
    out: dict[tuple[str, date], float] = {}
    for row in table.to_pylist():
        key = (row["customer_id"], row["month"] if "month" in row else row["txn_date"].replace(day=1))
        out[key] = out.get(key, 0.0) + row[value]
    return out


def test_recent_months_keeps_the_detail_short_and_sums_the_rest_in_the_database(small: Engine) -> None:
    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    full = extract_tables(small, until=date(2026, 10, 1))
    recent = extract_tables(small, until=date(2026, 10, 1), recent_months=0)
    assert set(recent) == set(full) | {"aum_totals", "payroll_months"}
    assert set(recent["aum_monthly"].column("month").to_pylist()) == {date(2026, 10, 1)}
    assert recent["aum_monthly"].num_rows == len(files["aum_monthly"])
    assert all(d >= date(2026, 10, 1) for d in recent["transactions"].column("txn_date").to_pylist())
    totals = _sums(recent["aum_totals"], "avg_daily_balance")
    assert totals == pytest.approx(_sums(full["aum_monthly"], "avg_daily_balance"))
    assert recent["aum_totals"].num_rows == len(totals)  # one row per customer and month
    txns = full["transactions"].to_pandas()
    payroll = txns[(txns["direction"] == "in") & (txns["counterparty_kind"] == "payroll")]
    expected = _sums(pa.Table.from_pandas(payroll, preserve_index=False), "amount")
    assert _sums(recent["payroll_months"], "amount") == pytest.approx(expected)
    assert recent["payroll_months"].schema.field("month").type == pa.date32()


def test_the_nightly_month_is_the_same_from_the_short_extract(
    sim_engine: Engine, sim_settings: Settings
) -> None:
    """Tier history, features and alerts of the night's month from ``recent_months`` equal those from
    the whole history (the nightly extracts the short way)."""
    from wealthcrm.alerts.rules import evaluate_rules
    from wealthcrm.analytics.features import build_features
    from wealthcrm.analytics.lifecycle import assign_stages
    from wealthcrm.analytics.nightly import recent_months
    from wealthcrm.analytics.tiering import tier_history

    def night(tables: dict[str, pa.Table]) -> tuple[object, ...]:
        history = tier_history(tables, sim_settings)
        history = history.merge(assign_stages(history, tables, sim_settings), on=["customer_id", "month"])
        features = build_features(tables, settings=sim_settings, months=[SIM_END], history=history)
        alerts = evaluate_rules(tables, history, SIM_END, sim_settings)
        return history, features, alerts

    long_h, long_f, long_a = night(extract_tables(sim_engine, until=SIM_END))
    short_tables = extract_tables(sim_engine, until=SIM_END, recent_months=recent_months(sim_settings))
    assert (
        short_tables["transactions"].num_rows
        < 0.5 * extract_tables(sim_engine, until=SIM_END)["transactions"].num_rows
    )
    short_h, short_f, short_a = night(short_tables)
    import pandas as pd

    pd.testing.assert_frame_equal(short_h, long_h, check_exact=False, rtol=1e-12)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(short_f, long_f, check_exact=False, rtol=1e-9)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(short_a, long_a)  # type: ignore[arg-type]
    assert len(long_a) > 0 and (long_a["alert_type"] == "payroll_stopped").any()  # type: ignore[index]


def test_request_times_come_out_in_the_branchs_local_time(
    engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    """Stored in UTC, read in Beijing time: a request opened at 00:30 on 1 November (16:30 UTC on
    31 October) belongs to November, and one resolved then was still open at the end of October."""
    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    files["service_requests"][0].update(resolved_at="2026-11-01 00:10")
    files["service_requests"][1].update(opened_at="2026-11-01 00:30", due_at="2026-11-03 17:00")
    import_path(engine, write_folder(tmp_path / "in", files), settings=settings, today=date(2026, 11, 28))

    october = {
        r["request_id"]: r
        for r in extract_tables(engine, until=date(2026, 10, 1))["service_requests"].to_pylist()
    }
    assert list(october) == ["R1"]
    assert (october["R1"]["opened_at"], october["R1"]["resolved_at"], october["R1"]["status"]) == (
        datetime(2026, 10, 5, 9, 0),
        None,
        "in_progress",
    )
    november = {
        r["request_id"]: r
        for r in extract_tables(engine, until=date(2026, 11, 1))["service_requests"].to_pylist()
    }
    assert (november["R1"]["resolved_at"], november["R1"]["status"]) == (
        datetime(2026, 11, 1, 0, 10),
        "closed",
    )
    assert (november["R2"]["opened_at"], november["R2"]["due_at"]) == (
        datetime(2026, 11, 1, 0, 30),
        datetime(2026, 11, 3, 17, 0),
    )
    in_utc = extract_tables(engine, until=date(2026, 10, 1), time_zone="UTC")["service_requests"]
    assert sorted(in_utc.column("request_id").to_pylist()) == ["R1", "R2"]  # 16:30 on 31 October


def test_slices_of_customers_partition_the_extract(sim_engine: Engine) -> None:
    """The nightly's slices: every customer in exactly one, and the tables of the slices together are
    the tables of the whole branch (customer-keyed tables split, staff and products whole in each)."""
    whole = extract_tables(sim_engine, until=SIM_END, recent_months=6)
    ids = sorted(whole["customers"].column("customer_id").to_pylist())
    ranges = extract.customer_ranges(sim_engine, until=SIM_END, size=97)
    assert len(ranges) == -(-len(ids) // 97) > 2
    assert [r for r in ranges if r is not None] == [
        (ids[i], ids[min(i + 97, len(ids)) - 1]) for i in range(0, len(ids), 97)
    ]
    assert extract.customer_ranges(sim_engine, until=SIM_END, size=len(ids)) == [None]

    parts = [extract_tables(sim_engine, until=SIM_END, recent_months=6, customers=r) for r in ranges]
    assert parts[0]["customers"].num_rows == 97
    for name, table in whole.items():
        if "customer_id" in table.column_names:
            together = pa.concat_tables([p[name] for p in parts])
            assert _sorted(together).equals(_sorted(table)), name
            assert table.num_rows > 0, name
        else:
            assert all(p[name].equals(table) for p in parts), name
