"""The one way analytics reads the database: point-in-time Arrow tables of the contract data.

``extract_tables(engine, until=month)`` returns what was known at the end of ``until``: rows dated
later are left out, and facts that changed later are rolled back where the data allows (a position
closed after the month is still open in it; a customer who closed later is still active; a risk
assessment made later is unknown; a staff member who left later is still active). What the contract
keeps only as a current value (a customer's assigned RM, a product's status) is taken as it is now —
documented in docs/analytics.md.

Rows are fetched through the driver, not the ORM, and typed column by column with Arrow (SQLite hands
back dates as text): the same schema on SQLite and PostgreSQL, ten times faster than ORM rows.
Features, labels, lifecycle stages and alerts all start from these tables.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Boolean, Date, DateTime, Engine, Float, Integer, Numeric, select
from sqlalchemy.sql.elements import ColumnElement

from wealthcrm.activity.models import DigitalActivity, Transaction
from wealthcrm.customers.models import Customer
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


def _table(engine: Engine, columns: Sequence[Any], *where: ColumnElement[bool]) -> pa.Table:
    """SELECT columns WHERE … through the driver, as an Arrow table typed from the column types."""
    stmt = select(*columns).where(*where)
    with engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        result = conn.exec_driver_sql(str(compiled))
        rows = result.fetchall()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    arrays = []
    for column, data in zip(columns, values, strict=True):
        target = _arrow_type(column)
        raw = pa.array(
            [None if v is None else (v.value if hasattr(v, "value") else v) for v in data]
            if target == pa.string()
            else list(data)
        )
        arrays.append(raw if raw.type == target else raw.cast(target))
    return pa.table(arrays, names=[c.name for c in columns])


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


def extract_tables(engine: Engine, *, until: date) -> dict[str, pa.Table]:
    """The contract tables as known at the end of the month containing ``until``."""
    first = until.replace(day=1)
    last = month_end(first)
    next_start = datetime.combine(last + timedelta(days=1), time.min)

    customers = _table(engine, CUSTOMER_COLUMNS, Customer.onboarded_on <= last)
    customers = _set_where(
        customers, _after(customers, "closed_on", last), {"status": "active", "closed_on": None}
    )
    customers = _set_where(
        customers, _after(customers, "risk_assessed_on", last), {"risk_level": None, "risk_assessed_on": None}
    )
    staff = _table(engine, list(Staff.__table__.c), Staff.joined_on <= last)
    staff = _set_where(staff, _after(staff, "left_on", last), {"status": "active", "left_on": None})
    positions = _table(engine, list(Position.__table__.c), Position.opened_on <= last)
    positions = _set_where(
        positions, _after(positions, "closed_on", last), {"status": "open", "closed_on": None}
    )
    interaction_columns: list[Any] = [c for c in Interaction.__table__.c if c.name != "notes"]
    requests = _table(engine, list(ServiceRequest.__table__.c), ServiceRequest.opened_at < next_start)
    requests = _set_where(
        requests, _at_or_after(requests, "acknowledged_at", next_start), {"acknowledged_at": None}
    )
    unresolved = _at_or_after(requests, "resolved_at", next_start)
    requests = _set_where(
        requests, unresolved, {"resolved_at": None, "status": "in_progress", "rating": None}
    )
    nps = _table(
        engine,
        [SurveyAnswer.response_id, SurveyAnswer.customer_id, SurveyAnswer.answered_on, SurveyAnswer.score],
        SurveyAnswer.item_id == NPS_ITEM,
        SurveyAnswer.answered_on <= last,
    ).rename_columns(["response_id", "customer_id", "answered_on", "nps_score"])
    return {
        "customers": customers,
        "staff": staff,
        "products": _table(engine, list(Product.__table__.c)),
        "positions": positions,
        "aum_monthly": _table(engine, list(AumMonthly.__table__.c), AumMonthly.month <= first),
        "digital_activity": _table(engine, list(DigitalActivity.__table__.c), DigitalActivity.month <= first),
        "transactions": _table(engine, list(Transaction.__table__.c), Transaction.txn_date <= last),
        "interactions": _table(engine, interaction_columns, Interaction.occurred_at < next_start),
        "service_requests": requests,
        #: one row per survey response: its Net Promoter answer
        "survey_responses": nps,
    }
