"""Bulk upserts: PostgreSQL through COPY, SQLite through executemany, both inside the caller's transaction.

Rows are upserted on the table's primary key (the contract's natural key). An update only touches rows
whose values differ, so re-importing the same files writes nothing. Encrypted columns keep their stored
ciphertext when the blind index shows the plaintext is unchanged (AES-GCM ciphertexts differ every time).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, LargeBinary, Table, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from wealthcrm.db import is_postgres


def upsert(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    *,
    insert_only: Sequence[str] = (),
    keep_foreign_keys: bool = False,
) -> int:
    """Insert or update `frame` into `table` on its primary key; returns rows inserted or changed.

    ``keep_foreign_keys``: a first load on PostgreSQL keeps the table's foreign keys rather than
    dropping and re-adding them. Dropping one locks the table it references (ACCESS EXCLUSIVE) until
    the transaction ends, so other connections cannot read it meanwhile (the nightly reads its next
    slice of customers while it writes the first)."""
    if frame.empty:
        return 0
    columns = [c for c in frame.columns if c in table.c]
    key = [c.name for c in table.primary_key.columns]
    updatable = [c for c in columns if c not in key and c not in insert_only]
    empty = not conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table.name})")).scalar()
    if empty:
        # First load of a table: nothing to conflict with (keys were checked unique), so load it the
        # way databases load fastest: without secondary indexes and, on PostgreSQL, without
        # foreign-key triggers (6 s per million rows, bench/import.py), then rebuild both in bulk —
        # inside the same transaction, so a failure still leaves nothing behind.
        with _bulk_load(conn, table, keep_foreign_keys=keep_foreign_keys):
            if is_postgres(conn):
                _copy(conn, table.name, _pg_arrow(table, frame[columns]))
            else:
                _sqlite_insert(conn, table, frame[columns], "")
        return len(frame)
    if is_postgres(conn):
        return _pg_upsert(conn, table, frame[columns], key, updatable)
    return _sqlite_insert(conn, table, frame[columns], _on_conflict(table, key, updatable, pg=False))


@contextmanager
def _bulk_load(conn: Connection, table: Table, *, keep_foreign_keys: bool = False) -> Iterator[None]:
    indexes = list(table.indexes)
    foreign_keys = list(table.foreign_key_constraints) if is_postgres(conn) and not keep_foreign_keys else []
    for fk in foreign_keys:
        conn.execute(DropConstraint(fk))
    for index in indexes:
        conn.execute(DropIndex(index))
    yield
    for index in indexes:
        conn.execute(CreateIndex(index))
    for fk in foreign_keys:
        conn.execute(AddConstraint(fk))  # validated in one pass over the table


def _stable(column: str, table_name: str, excluded: str, distinct: str) -> str:
    """SET expression: keep the stored ciphertext when the plaintext (its blind index) is unchanged."""
    index = column.removesuffix("_enc") + "_index"
    return (
        f"CASE WHEN {table_name}.{index} {distinct} {excluded}.{index} "
        f"THEN {table_name}.{column} ELSE {excluded}.{column} END"
    )


def _differs(table: Table, column: str, differ: str, *, pg: bool) -> str:
    """Stored and new value of ``column`` differ (PostgreSQL has no equality on ``json``: as jsonb)."""
    if pg and isinstance(table.c[column].type, JSON):
        return f"CAST({table.name}.{column} AS jsonb) {differ} CAST(excluded.{column} AS jsonb)"
    return f"{table.name}.{column} {differ} excluded.{column}"


def _on_conflict(table: Table, key: list[str], updatable: list[str], *, pg: bool) -> str:
    name = table.name
    if not updatable:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    same = "IS NOT DISTINCT FROM" if pg else "IS"
    differ = "IS DISTINCT FROM" if pg else "IS NOT"
    sets = []
    for c in updatable:
        if c.endswith("_enc") and c.removesuffix("_enc") + "_index" in updatable:
            sets.append(f"{c} = {_stable(c, name, 'excluded', same)}")
        else:
            sets.append(f"{c} = excluded.{c}")
    compared = [c for c in updatable if not c.endswith("_enc")]
    where = " OR ".join(_differs(table, c, differ, pg=pg) for c in compared) or "FALSE"
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(sets)} WHERE {where}"


# --- SQLite ----------------------------------------------------------------------------------------


def _sqlite_column(table: Table, name: str, series: pd.Series) -> list[Any]:
    """Python values as SQLAlchemy's SQLite dialect stores them (ISO text dates, 0/1 booleans)."""
    col_type = table.c[name].type
    if isinstance(col_type, DateTime):
        arr = pa.Array.from_pandas(series)
        return pa.compute.strftime(arr, format="%Y-%m-%d %H:%M:%S.000000").to_pylist()  # type: ignore[no-any-return]
    if isinstance(col_type, Date):
        return pa.Array.from_pandas(series).cast(pa.date32()).cast(pa.string()).to_pylist()  # type: ignore[no-any-return]
    if isinstance(col_type, Boolean):
        return [None if v is None or v is pd.NA else int(v) for v in series.astype(object)]
    if series.dtype.kind == "f":
        values = series.to_numpy()
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    return pa.Array.from_pandas(series).to_pylist() if not isinstance(col_type, LargeBinary) else list(series)


#: rows turned into Python values at a time: the SQLite driver takes rows of Python objects, about
#: 60 bytes a value, so a nightly's first run (24 months × a million customers) at once would need
#: more than 15 GB; in slices it stays at a few hundred MB, in the same transaction
SQLITE_SLICE_ROWS = 200_000


def _sqlite_insert(conn: Connection, table: Table, frame: pd.DataFrame, on_conflict: str) -> int:
    cols = list(frame.columns)
    placeholders = ", ".join("?" * len(cols))
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({placeholders}) {on_conflict}"
    raw = conn.connection.driver_connection
    assert raw is not None
    before = raw.total_changes
    cur = raw.cursor()
    try:
        for start in range(0, len(frame), SQLITE_SLICE_ROWS):
            part = frame.iloc[start : start + SQLITE_SLICE_ROWS]
            cur.executemany(sql, zip(*(_sqlite_column(table, c, part[c]) for c in cols), strict=True))
    finally:
        cur.close()
    return int(raw.total_changes - before)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_arrow(table: Table, frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow columns whose CSV text PostgreSQL's COPY reads back exactly."""
    arrays = {}
    for name in frame.columns:
        col_type = table.c[name].type
        series = frame[name]
        if isinstance(col_type, LargeBinary):
            arrays[name] = pa.array([None if v is None else "\\x" + v.hex() for v in series], pa.string())
        elif isinstance(col_type, DateTime):
            arrays[name] = pa.compute.strftime(pa.Array.from_pandas(series), format="%Y-%m-%d %H:%M:%S")
        elif isinstance(col_type, Date):
            arrays[name] = pa.Array.from_pandas(series).cast(pa.date32())
        elif isinstance(col_type, Boolean):
            arrays[name] = pa.array(series.astype(object).where(series.notna(), None).tolist(), pa.bool_())
        else:
            arrays[name] = pa.Array.from_pandas(series)
    return pa.table(arrays)


def _copy(conn: Connection, target: str, data: pa.Table) -> None:
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, write_options=pacsv.WriteOptions(include_header=False, batch_size=65536))
    raw = conn.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {target} ({', '.join(data.column_names)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        view = buf.getbuffer()
        step = 1 << 20
        for start in range(0, len(view), step):
            copy.write(view[start : start + step])


def _pg_upsert(
    conn: Connection, table: Table, frame: pd.DataFrame, key: list[str], updatable: list[str]
) -> int:
    data = _pg_arrow(table, frame)
    stage = f"_stage_{table.name}"
    conn.execute(text(f"CREATE TEMP TABLE {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"))
    _copy(conn, stage, data)
    cols = ", ".join(data.column_names)
    result = conn.execute(
        text(
            f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} "
            + _on_conflict(table, key, updatable, pg=True)
        )
    )
    conn.execute(text(f"DROP TABLE {stage}"))
    return int(result.rowcount)
