"""The one way analytics reads the database: point-in-time Arrow tables of the contract data.

``extract_tables(engine, until=month)`` returns what was known at the end of ``until``: rows dated
later are left out, and facts that changed later are rolled back where the data allows (a position
closed after the month is still open in it; a customer who closed later is still active; a risk
assessment made later is unknown). What the contract keeps only as a current value (a customer's
assigned RM, a product's status) is taken as it is now — documented in docs/analytics.md.

Features, labels, lifecycle stages and alerts all start from these tables, so the same definitions
can run on DuckDB here and on Spark for a whole bank.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, Executable, select

from wealthcrm.activity.models import DigitalActivity, Transaction
from wealthcrm.customers.models import Customer
from wealthcrm.holdings.models import AumMonthly, Position
from wealthcrm.interactions.models import Interaction
from wealthcrm.products.models import Product
from wealthcrm.staff.models import Staff

#: Columns analytics may read; PII (national ID, mobile, name) never leaves the database.
CUSTOMER_COLUMNS = (
    Customer.customer_id, Customer.gender, Customer.birth_date, Customer.occupation, Customer.district,
    Customer.onboarded_on, Customer.rm_id, Customer.risk_level, Customer.risk_assessed_on,
    Customer.consent_marketing, Customer.status, Customer.closed_on,
)  # fmt: skip


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _frame(engine: Engine, stmt: Executable) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def extract_tables(engine: Engine, *, until: date) -> dict[str, pa.Table]:
    """The contract tables as known at the end of the month containing ``until``."""
    first = until.replace(day=1)
    last = month_end(first)
    next_start = datetime.combine(last + timedelta(days=1), time.min)

    customers = _frame(engine, select(*CUSTOMER_COLUMNS).where(Customer.onboarded_on <= last))
    later_close = customers["closed_on"].notna() & (
        pd.to_datetime(customers["closed_on"]) > pd.Timestamp(last)
    )
    customers.loc[later_close, "status"] = "active"
    customers.loc[later_close, "closed_on"] = None
    later_risk = customers["risk_assessed_on"].notna() & (
        pd.to_datetime(customers["risk_assessed_on"]) > pd.Timestamp(last)
    )
    customers.loc[later_risk, ["risk_level", "risk_assessed_on"]] = None

    staff = _frame(engine, select(*Staff.__table__.c).where(Staff.joined_on <= last))
    later_leave = staff["left_on"].notna() & (pd.to_datetime(staff["left_on"]) > pd.Timestamp(last))
    staff.loc[later_leave, "status"] = "active"
    staff.loc[later_leave, "left_on"] = None

    positions = _frame(engine, select(*Position.__table__.c).where(Position.opened_on <= last))
    later_closed = positions["closed_on"].notna() & (
        pd.to_datetime(positions["closed_on"]) > pd.Timestamp(last)
    )
    positions.loc[later_closed, "status"] = "open"
    positions.loc[later_closed, "closed_on"] = None

    return {
        "customers": _to_arrow(customers),
        "staff": _to_arrow(staff),
        "products": _to_arrow(_frame(engine, select(*Product.__table__.c))),
        "positions": _to_arrow(positions),
        "aum_monthly": _to_arrow(
            _frame(engine, select(*AumMonthly.__table__.c).where(AumMonthly.month <= first))
        ),
        "digital_activity": _to_arrow(
            _frame(engine, select(*DigitalActivity.__table__.c).where(DigitalActivity.month <= first))
        ),
        "transactions": _to_arrow(
            _frame(engine, select(*Transaction.__table__.c).where(Transaction.txn_date <= last))
        ),
        "interactions": _to_arrow(
            _frame(
                engine,
                select(*(c for c in Interaction.__table__.c if c.name != "notes")).where(
                    Interaction.occurred_at < next_start
                ),
            )
        ),
    }
