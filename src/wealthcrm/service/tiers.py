"""A customer's tier as the nightly batch last stored it (``customer_months``), for SLAs and benefits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.vocab import Tier


def _months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def customer_tier(session: Session, *, customer_id: str, on: date, grace_months: int = 0) -> Tier | None:
    """The tier of the latest month stored at or before ``on``'s month; with ``grace_months``, the
    highest tier of that month and the ``grace_months`` months before it (a downgraded customer keeps
    the higher tier that long). None when the customer has no stored month."""
    month = on.replace(day=1)
    latest = session.scalar(
        select(CustomerMonth.month)
        .where(CustomerMonth.customer_id == customer_id, CustomerMonth.month <= month)
        .order_by(CustomerMonth.month.desc())
        .limit(1)
    )
    if latest is None:
        return None
    tiers = session.scalars(
        select(CustomerMonth.tier).where(
            CustomerMonth.customer_id == customer_id,
            CustomerMonth.month <= latest,
            CustomerMonth.month >= _months_back(latest, grace_months),
        )
    ).all()
    return max((Tier(t) for t in tiers), key=lambda t: t.rank)
