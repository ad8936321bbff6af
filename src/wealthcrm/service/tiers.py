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


def is_gold_prospect(session: Session, *, customer_id: str, on: date, min_aum: float) -> bool:
    """Whether the customer is a *gold prospect* in the latest month stored at or before ``on``'s month,
    as the nightly's contact cadence reads it: gold, AUM at least ``min_aum`` and higher than the month
    before (``cadence.gold_prospect_min_aum``; :func:`wealthcrm.tasks.rules.is_gold_prospect`)."""
    rows = session.execute(
        select(CustomerMonth.month, CustomerMonth.tier, CustomerMonth.aum)
        .where(CustomerMonth.customer_id == customer_id, CustomerMonth.month <= on.replace(day=1))
        .order_by(CustomerMonth.month.desc())
        .limit(2)
    ).all()
    if not rows:
        return False
    latest = rows[0]
    if Tier(latest.tier) is not Tier.gold or float(latest.aum) < min_aum:
        return False
    before = rows[1] if len(rows) > 1 else None
    return (
        before is not None
        and before.month == _months_back(latest.month, 1)
        and float(latest.aum) > float(before.aum)
    )
