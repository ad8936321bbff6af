"""The one way analytics reads the database: point-in-time Arrow tables of the contract data.

``extract_tables(engine, until=month)`` returns what was known at the end of ``until``: rows dated
later are left out, and facts that changed later are rolled back where the data allows (a position
closed after the month is still open in it; a customer who closed later is still active; a risk
assessment made later is unknown; a staff member who left later is still active). What the contract
keeps only as a current value (a customer's assigned RM, a product's status) is taken as it is now —
documented in docs/analytics.md.

Rows are read column-wise, never as Python objects one value at a time: on PostgreSQL by ``COPY (SELECT
…) TO STDOUT`` as CSV parsed by pyarrow while it streams; on a SQLite file by the ADBC SQLite driver,
in child processes (see :data:`ADBC_MIN_BYTES`); otherwise through the driver in chunks. Columns are
typed from the SQL types (SQLite hands back dates as text): the same schema everywhere. Two tables are
read at a time. Features, labels, lifecycle stages and alerts all start from these tables.

**Local time.** Every date analytics sees is the branch's local date, and so is every date-time: the
``service_requests`` times, stored as naive UTC, are handed out in the branch's local time
(``time_zone``, ``sla.time_zone``), so a request opened at 00:30 on 1 November in Beijing counts in
November, as the dashboards count it, not in October. ``interactions.occurred_at`` is stored local.
"""

from __future__ import annotations

import calendar
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from wealthcrm.activity.models import DigitalActivity, Transaction
from wealthcrm.config import DEFAULT_TIME_ZONE
from wealthcrm.customers.models import Customer
from wealthcrm.db import to_utc
from wealthcrm.holdings.models import AumMonthly, Position
from wealthcrm.interactions.models import Interaction
from wealthcrm.products.models import Product
from wealthcrm.service.models import ServiceRequest
from wealthcrm.staff.models import Staff
from wealthcrm.surveys.models import SurveyAnswer

#: The item of every questionnaire that holds the Net Promoter question (0–10).
NPS_ITEM = "NPS"

#: Columns analytics may read; PII (national ID, mobile, name) never leaves the database.
CUSTOMER_COLUMNS = (
    Customer.customer_id, Customer.gender, Customer.birth_date, Customer.occupation, Customer.district,
    Customer.onboarded_on, Customer.rm_id, Customer.risk_level, Customer.risk_assessed_on,
    Customer.consent_marketing, Customer.status, Customer.closed_on,
)  # fmt: skip


#: A slice of customers: the first and the last customer ID, both included.
CustomerRange = tuple[str, str]


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _arrow_type(column: Any) -> pa.DataType:
    kind = column.type
    if isinstance(kind, DateTime):
        return pa.timestamp("us")
    if isinstance(kind, Date):
        return pa.date32()
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Numeric | Float):
        return pa.float64()
    return pa.string()


def _select_sql(
    engine: Engine,
    columns: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    keys: CustomerRange | None = None,
) -> str:
    """The SELECT as text with literal values. On SQLite every column is cast to its storage class
    (NUMERIC columns may hold integers and reals side by side; dates and times are text) and the
    WHERE columns are written ``+column`` so no index is used: these filters keep nearly every row,
    and walking an index to then look each row up is three times slower than reading the table.
    ``keys`` (a slice of customers, on a table with ``customer_id``) is the one term that may use an
    index: it keeps a slice of the rows, and every table's customer index starts with the customer."""
    key_terms: list[ColumnElement[bool]] = []
    if keys is not None and "customer_id" in columns[0].table.c:
        key_terms.append(columns[0].table.c.customer_id.between(*keys))
    if engine.dialect.name != "sqlite":
        stmt = select(*columns).where(*where, *key_terms)
        return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    storage = {pa.float64(): "REAL", pa.int64(): "INTEGER", pa.bool_(): "INTEGER"}
    items: list[Any] = []
    for c in columns:
        cast = f"CAST({c.table.name}.{c.name} AS {storage.get(_arrow_type(c), 'TEXT')})"
        items.append(literal_column(cast).label(c.name))
    unindexed = [_unary_plus(w) for w in where]
    stmt = select(*items).select_from(columns[0].table).where(*unindexed, *key_terms)
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _unary_plus(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``+column <op> literal`` (SQLite's way to say: do not use an index for this term)."""
    binary: Any = condition
    left = binary.left
    plain = literal_column(f"+{left.table.name}.{left.name}", type_=left.type)
    result: ColumnElement[bool] = binary.operator(plain, binary.right)
    return result


def _typed(raw: pa.Table, columns: Sequence[Any]) -> pa.Table:
    """Cast each column to the Arrow type of its SQL type (SQLite hands back dates as text)."""
    arrays = []
    for column, data in zip(columns, raw.columns, strict=True):
        target = _arrow_type(column)
        arrays.append(data if data.type == target else data.cast(target))
    return pa.table(arrays, names=[c.name for c in columns])


#: Below this size a SQLite file is read in this process through Python's driver (tests, small
#: branches); above it, by the ADBC driver in child processes.
ADBC_MIN_BYTES = 128 * 2**20

# The child: runs one query with the ADBC SQLite driver and writes the Arrow IPC stream to stdout.
# A child process, not this one: the driver links its own copy of SQLite, and two copies of SQLite
# in one process break each other's POSIX file locks (closing a file in one copy drops the locks the
# other holds: "disk I/O error", or worse, while the nightly writes).
_ADBC_CHILD = """
import json
import sys
import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
request = json.loads(sys.stdin.read())
kinds = {"string": pa.string(), "date32[day]": pa.date32(), "timestamp[us]": pa.timestamp("us"),
         "double": pa.float64(), "int64": pa.int64(), "bool": pa.bool_()}
schema = pa.schema([(name, kinds[kind]) for name, kind in request["columns"]])
with adbc.connect(sys.argv[1]) as conn, conn.cursor() as cur:
    cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
    cur.execute(request["sql"])
    reader = cur.fetch_record_batch()
    with pa.ipc.new_stream(sys.stdout.buffer, schema) as out:
        placeholder = True
        for batch in reader:
            if placeholder:
                batch, placeholder = batch.slice(1), False
            typed = [a if a.type == f.type else a.cast(f.type) for a, f in zip(batch.columns, schema)]
            out.write_batch(pa.record_batch(typed, schema=schema))
"""


def _sqlite_arrow(path: str, sql: str, columns: Sequence[Any]) -> pa.Table:
    """Run ``sql`` through the ADBC SQLite driver, which builds Arrow arrays in C, in a child process
    that types them (dates arrive as text) batch by batch and streams them back as Arrow IPC: this
    process only ever holds the typed columns.

    The driver infers each column's type from the first batch of rows and fails when a column that
    was all NULL there holds text later; a first row of typed placeholders (dropped again) fixes
    every column's type."""
    placeholder = {pa.float64(): "0.0", pa.int64(): "0", pa.bool_(): "0"}
    first = ", ".join(f"{placeholder.get(_arrow_type(c), chr(39) * 2)} AS {c.name}" for c in columns)
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", _ADBC_CHILD, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors,
        )  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        try:
            request = {
                "sql": f"SELECT {first} UNION ALL {sql}",
                "columns": [(c.name, str(_arrow_type(c))) for c in columns],
            }
            child.stdin.write(json.dumps(request).encode())
            child.stdin.close()
            raw = pa.ipc.open_stream(child.stdout).read_all()
        except pa.ArrowInvalid:
            raw = None
        finally:
            child.stdout.close()
            code = child.wait()
        if code != 0 or raw is None:
            errors.seek(0)
            raise RuntimeError(f"reading {path} failed: {errors.read().decode(errors='replace')[-2000:]}")
    return _typed(raw, columns)


class _CopyStream(io.RawIOBase):
    """A readable file over the chunks of a PostgreSQL ``COPY … TO STDOUT``."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = self._copy.read()
            if not chunk:
                return 0
            self._rest = memoryview(chunk)
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _postgres_arrow(engine: Engine, sql: str, columns: Sequence[Any]) -> pa.Table:
    """``COPY (SELECT …) TO STDOUT`` as CSV, parsed into typed Arrow columns by pyarrow's CSV reader
    while it streams (unquoted empty fields are NULL, quoted ones empty strings)."""
    names = [c.name for c in columns]
    convert = pacsv.ConvertOptions(
        column_types={c.name: _arrow_type(c) for c in columns},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    raw = engine.raw_connection()
    try:
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with raw.driver_connection.cursor() as cur, cur.copy(copy_sql) as copy:  # type: ignore[union-attr]
            stream = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
            if not stream.peek(1):  # no rows: pyarrow refuses an empty CSV file
                table = pa.table([pa.array([], _arrow_type(c)) for c in columns], names=names)
            else:
                table = pacsv.read_csv(
                    stream,
                    read_options=pacsv.ReadOptions(column_names=names, block_size=8 << 20),
                    convert_options=convert,
                )
        raw.rollback()
    finally:
        raw.close()
    return table


def _driver_arrow(engine: Engine, sql: str, columns: Sequence[Any]) -> pa.Table:
    """Rows through the DB-API driver in chunks, column by column into Arrow (any other backend)."""
    batches: list[pa.Table] = []
    with engine.connect() as conn:
        result = conn.exec_driver_sql(sql)
        while rows := result.fetchmany(100_000):
            data = [
                pa.array([None if v is None else getattr(v, "value", v) for v in values])
                for values in zip(*rows, strict=True)
            ]
            batches.append(_typed(pa.table(data, names=[c.name for c in columns]), columns))
    if not batches:
        return pa.table([pa.array([], _arrow_type(c)) for c in columns], names=[c.name for c in columns])
    return pa.concat_tables(batches)


Query = tuple[Sequence[Any], Sequence[ColumnElement[bool]]]


def _read(
    engine: Engine,
    columns: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    keys: CustomerRange | None = None,
) -> pa.Table:
    """SELECT columns WHERE … as an Arrow table typed from the column types, read column-wise: ADBC
    on a large SQLite file, COPY on PostgreSQL, the driver in chunks otherwise. Same schema everywhere."""
    return _read_sql(engine, _select_sql(engine, columns, where, keys), columns)


def _read_sql(engine: Engine, sql: str, columns: Sequence[Any]) -> pa.Table:
    """A query's rows as Arrow, typed from ``columns`` (name and SQL type of each result column)."""
    if (path := _sqlite_file(engine)) and os.path.getsize(path) >= ADBC_MIN_BYTES:
        return _sqlite_arrow(path, sql, columns)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return _postgres_arrow(engine, sql, columns)
    return _driver_arrow(engine, sql, columns)


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or "mode=memory" in database:
        return None
    return database if os.path.exists(database) else None


def _tables(engine: Engine, queries: dict[str, Query], keys: CustomerRange | None) -> dict[str, pa.Table]:
    """Every query, two at a time (the database or the child process does the work, in parallel)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_read, engine, columns, where, keys)
            for name, (columns, where) in queries.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _set_where(table: pa.Table, mask: pa.ChunkedArray, values: dict[str, Any]) -> pa.Table:
    """Where ``mask`` holds, replace columns by constants (None for null)."""
    for name, value in values.items():
        column = table.column(name)
        replaced = pc.if_else(mask, pa.scalar(value, column.type), column)
        table = table.set_column(table.schema.get_field_index(name), name, replaced)
    return table


def _after(table: pa.Table, name: str, day: date) -> pa.ChunkedArray:
    return pc.fill_null(pc.greater(table.column(name), pa.scalar(day, pa.date32())), False)


def _at_or_after(table: pa.Table, name: str, moment: datetime) -> pa.ChunkedArray:
    return pc.fill_null(pc.greater_equal(table.column(name), pa.scalar(moment, pa.timestamp("us"))), False)


def _local_times(table: pa.Table, time_zone: str) -> pa.Table:
    """Every timestamp column (naive UTC, as stored) as the branch's naive local time, column-wise."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            aware = table.column(i).cast(pa.timestamp(f.type.unit, tz=time_zone))  # naive values are UTC
            table = table.set_column(i, f.name, pc.local_timestamp(aware))
    return table


#: ``aum_totals``: month-average AUM summed over asset classes, one row per customer and month.
AUM_TOTAL_COLUMNS = (
    Column("customer_id", String()),
    Column("month", Date()),
    Column("avg_daily_balance", Float()),
)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _key_sql(keys: CustomerRange | None) -> str:
    """`` AND customer_id BETWEEN …`` for a slice of customers (nothing for all of them)."""
    return "" if keys is None else f" AND customer_id BETWEEN {_sql_text(keys[0])} AND {_sql_text(keys[1])}"


def _aum_totals_sql(engine: Engine, first: date, keys: CustomerRange | None = None) -> str:
    """AUM per customer and month, summed in the database: a quarter of the rows of ``aum_monthly``.
    On SQLite the table is its key's B-tree (customer, month, class), so the groups arrive in order
    and the sum streams; the month filter is ``+month`` for the reason given in :func:`_select_sql`."""
    if engine.dialect.name == "sqlite":
        return (
            "SELECT CAST(customer_id AS TEXT) AS customer_id, CAST(month AS TEXT) AS month, "
            "CAST(SUM(avg_daily_balance) AS REAL) AS avg_daily_balance FROM aum_monthly "
            f"WHERE +month <= '{first.isoformat()}'{_key_sql(keys)} GROUP BY customer_id, month"
        )
    return (
        "SELECT customer_id, month, CAST(SUM(avg_daily_balance) AS DOUBLE PRECISION) AS avg_daily_balance "
        f"FROM aum_monthly WHERE month <= DATE '{first.isoformat()}'{_key_sql(keys)} "
        "GROUP BY customer_id, month"
    )


#: ``payroll_months``: payroll credits (in, counterparty ``payroll``) summed per customer and month.
PAYROLL_MONTH_COLUMNS = (
    Column("customer_id", String()),
    Column("month", Date()),
    Column("amount", Float()),
)


def _payroll_months_sql(engine: Engine, last: date, keys: CustomerRange | None = None) -> str:
    if engine.dialect.name == "sqlite":
        month = "substr(txn_date, 1, 7) || '-01'"
        return (
            f"SELECT CAST(customer_id AS TEXT) AS customer_id, {month} AS month, "
            "CAST(SUM(amount) AS REAL) AS amount FROM transactions "
            "WHERE +direction = 'in' AND +counterparty_kind = 'payroll' "
            f"AND +txn_date <= '{last.isoformat()}'{_key_sql(keys)} "
            f"GROUP BY customer_id, {month}"
        )
    month = "CAST(date_trunc('month', txn_date) AS DATE)"
    return (
        f"SELECT customer_id, {month} AS month, CAST(SUM(amount) AS DOUBLE PRECISION) AS amount "
        "FROM transactions WHERE direction = 'in' AND counterparty_kind = 'payroll' "
        f"AND txn_date <= DATE '{last.isoformat()}'{_key_sql(keys)} GROUP BY customer_id, {month}"
    )


def months_before(month: date, n: int) -> date:
    """The first day of the month ``n`` months before ``month``'s."""
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def customer_ranges(engine: Engine, *, until: date, size: int) -> list[CustomerRange | None]:
    """The customers known at the end of ``until``'s month in slices of ``size`` by customer ID: the
    first and last ID of each slice (``[None]``, every customer at once, when they fit in one)."""
    last = month_end(until.replace(day=1))
    with engine.connect() as conn:
        ids = conn.scalars(
            select(Customer.customer_id).where(Customer.onboarded_on <= last).order_by(Customer.customer_id)
        ).all()
    if len(ids) <= size:
        return [None]
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def extract_tables(
    engine: Engine,
    *,
    until: date,
    recent_months: int | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
    customers: CustomerRange | None = None,
) -> dict[str, pa.Table]:
    """The contract tables as known at the end of the month containing ``until``.

    ``recent_months`` (the nightly: it needs one month's features and alerts, not every month's)
    keeps the two largest tables short: ``aum_monthly`` and ``transactions`` from that many months
    before ``until``'s on. What needs more history comes summed in the database instead: the tier
    history every month's total AUM (``aum_totals``, :data:`AUM_TOTAL_COLUMNS`), the payroll alert
    every month's payroll credits, however long ago the last one was (``payroll_months``,
    :data:`PAYROLL_MONTH_COLUMNS`). At a million customers this halves what the nightly holds.

    ``time_zone`` is the branch's (``sla.time_zone``): months end at its midnight, and the
    ``service_requests`` times come out in its local time (see the module's note).

    ``customers`` (the nightly's slices, :func:`customer_ranges`): only the rows of the customers
    whose ID lies in this closed range; staff and products whole.
    """
    first = until.replace(day=1)
    last = month_end(first)
    next_start = datetime.combine(last + timedelta(days=1), time.min)
    aum_where: list[ColumnElement[bool]] = [AumMonthly.month <= first]
    txn_where: list[ColumnElement[bool]] = [Transaction.txn_date <= last]
    if recent_months is not None:
        since = months_before(first, recent_months)
        aum_where.append(AumMonthly.month >= since)
        txn_where.append(Transaction.txn_date >= since)

    interaction_columns: list[Any] = [c for c in Interaction.__table__.c if c.name != "notes"]
    nps_columns = [
        SurveyAnswer.response_id,
        SurveyAnswer.customer_id,
        SurveyAnswer.answered_on,
        SurveyAnswer.score,
    ]
    # largest first, so the two readers finish together
    read = _tables(
        engine,
        {
            "aum_monthly": (list(AumMonthly.__table__.c), aum_where),
            "transactions": (list(Transaction.__table__.c), txn_where),
            "digital_activity": (list(DigitalActivity.__table__.c), [DigitalActivity.month <= first]),
            "positions": (list(Position.__table__.c), [Position.opened_on <= last]),
            "interactions": (interaction_columns, [Interaction.occurred_at < next_start]),
            "service_requests": (
                list(ServiceRequest.__table__.c),
                [ServiceRequest.opened_at < to_utc(next_start, time_zone)],
            ),
            "customers": (CUSTOMER_COLUMNS, [Customer.onboarded_on <= last]),
            "survey_responses": (
                nps_columns,
                [SurveyAnswer.item_id == NPS_ITEM, SurveyAnswer.answered_on <= last],
            ),
            "staff": (list(Staff.__table__.c), [Staff.joined_on <= last]),
            "products": (list(Product.__table__.c), []),
        },
        customers,
    )
    people = read["customers"]
    people = _set_where(people, _after(people, "closed_on", last), {"status": "active", "closed_on": None})
    people = _set_where(
        people, _after(people, "risk_assessed_on", last), {"risk_level": None, "risk_assessed_on": None}
    )
    staff = read["staff"]
    staff = _set_where(staff, _after(staff, "left_on", last), {"status": "active", "left_on": None})
    positions = read["positions"]
    positions = _set_where(
        positions, _after(positions, "closed_on", last), {"status": "open", "closed_on": None}
    )
    requests = _local_times(read["service_requests"], time_zone)
    requests = _set_where(
        requests, _at_or_after(requests, "acknowledged_at", next_start), {"acknowledged_at": None}
    )
    unresolved = _at_or_after(requests, "resolved_at", next_start)
    requests = _set_where(
        requests, unresolved, {"resolved_at": None, "status": "in_progress", "rating": None}
    )
    totals = (
        {
            "aum_totals": _read_sql(engine, _aum_totals_sql(engine, first, customers), AUM_TOTAL_COLUMNS),
            "payroll_months": _read_sql(
                engine, _payroll_months_sql(engine, last, customers), PAYROLL_MONTH_COLUMNS
            ),
        }
        if recent_months is not None
        else {}
    )
    nps = read["survey_responses"].rename_columns(["response_id", "customer_id", "answered_on", "nps_score"])
    return {
        "customers": people,
        "staff": staff,
        "products": read["products"],
        "positions": positions,
        "aum_monthly": read["aum_monthly"],
        "digital_activity": read["digital_activity"],
        "transactions": read["transactions"],
        "interactions": read["interactions"],
        "service_requests": requests,
        #: one row per survey response: its Net Promoter answer
        "survey_responses": nps,
        **totals,
    }
