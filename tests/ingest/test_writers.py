"""The bulk writer: SQLite rows go to the driver in slices, inserted and upserted alike."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import JSON, Column, Engine, Float, Integer, MetaData, String, Table, create_engine, select

from wealthcrm.ingest import writers


def test_sqlite_rows_go_in_slices_and_every_row_lands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "SQLITE_SLICE_ROWS", 3)  # 10 rows: slices of 3, 3, 3 and 1
    table = Table(
        "things",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String),
        Column("x", Float),
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    first = pd.DataFrame(
        {"id": range(10), "name": [f"n{i}" for i in range(10)], "x": [i / 2 for i in range(10)]}
    )
    with engine.begin() as conn:
        assert writers.upsert(conn, table, first) == 10  # a first load
    changed = first.assign(x=[float("nan") if i == 7 else i / 2 + (i % 4 == 0) for i in range(10)])
    with engine.begin() as conn:
        assert writers.upsert(conn, table, changed) == 4  # rows 0, 4, 8 and 7 (x now null) change
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    assert [tuple(r) for r in rows] == [
        (i, f"n{i}", None if i == 7 else i / 2 + (i % 4 == 0)) for i in range(10)
    ]


def test_upsert_compares_json_columns_on_both_backends(engine: Engine) -> None:
    """A second upsert of rows with a JSON column (the nightly's reasons) writes only the changed ones;
    PostgreSQL has no equality on ``json``, so the writer compares them as ``jsonb``."""
    table = Table("json_things", MetaData(), Column("id", Integer, primary_key=True), Column("reasons", JSON))
    first = pd.DataFrame({"id": [1, 2, 3], "reasons": ['[{"f": "a"}]', '[{"f": "b"}]', None]})
    changed = first.assign(reasons=['[{"f": "a"}]', '[{"f": "c"}]', "[]"])
    with engine.connect() as conn, conn.begin() as transaction:
        table.create(conn)
        assert writers.upsert(conn, table, first) == 3
        assert writers.upsert(conn, table, first) == 0
        assert writers.upsert(conn, table, changed) == 2
        rows = conn.execute(select(table).order_by(table.c.id)).all()
        transaction.rollback()
    assert [tuple(r) for r in rows] == [(1, [{"f": "a"}]), (2, [{"f": "c"}]), (3, [])]
