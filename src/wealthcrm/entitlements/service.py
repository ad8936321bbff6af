"""Entitlements: what a customer may still use this year, redeeming with quota checks, usage and cost.

- :func:`benefit_tier` — the tier whose benefits apply: the highest of the customer's latest stored
  month and the ``entitlements.grace_months`` months before it (a downgraded customer keeps the
  higher tier's benefits through the grace period);
- :func:`remaining` — every catalogue benefit with the quota, used and remaining uses this calendar
  year (Customer 360);
- :func:`redeem` / :func:`cancel` — a use by service staff (or the RM, team lead, branch manager) for a
  customer in their scope. The quota check locks the customer's counter row of that benefit and year
  (:func:`~wealthcrm.service.counters.locked_counter`), so concurrent redemptions cannot exceed it;
  a use over the quota is :class:`Conflict`, a benefit the tier does not include :class:`Invalid`;
- :func:`usage_report` — uses, customers and cost per benefit and tier in a year (branch-wide roles).

Years are calendar years in the branch's time zone (``sla.time_zone``). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.config import BenefitSettings, Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import WHOLE_BRANCH, scope_filter
from wealthcrm.customers.service import get_customer
from wealthcrm.entitlements.models import EntitlementCounter, EntitlementRedemption
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.counters import locked_counter
from wealthcrm.service.tiers import customer_tier
from wealthcrm.vocab import Role, Tier

#: roles that redeem benefits for customers in their scope
REDEEMING_ROLES = frozenset({Role.service, Role.rm, Role.team_lead, Role.branch_manager})
MAX_QUANTITY = 20


class Staffer(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


def _calendar(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar.from_settings(settings.sla)


def benefit_tier(session: Session, *, customer_id: str, now: datetime, settings: Settings) -> Tier | None:
    """The tier whose benefits the customer has at ``now`` (None: never tiered, so none)."""
    return customer_tier(
        session,
        customer_id=customer_id,
        on=_calendar(settings).local_date(now),
        grace_months=settings.entitlements.grace_months,
    )


@dataclass(frozen=True, slots=True)
class Balance:
    benefit: str
    tier: str | None
    quota: int | None  # None: unlimited; 0: not in the customer's tier
    used: int
    remaining: int | None  # None: unlimited
    cost: float

    @property
    def eligible(self) -> bool:
        return self.quota is None or self.quota > 0


def remaining(
    session: Session, *, user: Staffer, customer_id: str, now: datetime, settings: Settings
) -> list[Balance]:
    """Every benefit of the catalogue for a customer in ``user``'s scope: quota, used, remaining this year."""
    get_customer(session, user=user, customer_id=customer_id)
    tier = benefit_tier(session, customer_id=customer_id, now=now, settings=settings)
    year = _calendar(settings).to_local(now).year
    used = dict(
        session.execute(
            select(EntitlementCounter.benefit, EntitlementCounter.used).where(
                EntitlementCounter.customer_id == customer_id, EntitlementCounter.year == year
            )
        ).all()
    )
    out = []
    for b in settings.entitlements.benefits:
        quota = 0 if tier is None else b.quota(tier)
        n = int(used.get(b.code, 0))
        left = None if quota is None else max(quota - n, 0)
        out.append(Balance(b.code, None if tier is None else tier.value, quota, n, left, b.cost))
    return out


def _benefit(settings: Settings, code: str) -> BenefitSettings:
    benefit = settings.entitlements.benefit(code)
    if benefit is None:
        raise Invalid(f"no benefit {code!r} in the catalogue")
    return benefit


def redeem(
    session: Session,
    *,
    user: Staffer,
    customer_id: str,
    benefit: str,
    now: datetime,
    settings: Settings,
    quantity: int = 1,
    note: str | None = None,
) -> EntitlementRedemption:
    """Record ``quantity`` uses of ``benefit`` for the customer, within this year's quota of their
    benefit tier. Audited as ``entitlement.redeem``."""
    get_customer(session, user=user, customer_id=customer_id)
    if Role(user.role) not in REDEEMING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not redeem benefits")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity: 1 to {MAX_QUANTITY}")
    spec = _benefit(settings, benefit)
    tier = benefit_tier(session, customer_id=customer_id, now=now, settings=settings)
    quota = 0 if tier is None else spec.quota(tier)
    if quota == 0 or tier is None:
        raise Invalid(f"benefit {benefit} is not included in the customer's tier ({tier or 'none'})")
    year = _calendar(settings).to_local(now).year
    counter = locked_counter(session, EntitlementCounter, customer_id=customer_id, benefit=benefit, year=year)
    if quota is not None and counter.used + quantity > quota:
        raise Conflict(
            f"benefit {benefit}: {counter.used} of {quota} uses taken in {year}; "
            f"{max(quota - counter.used, 0)} left, {quantity} asked"
        )
    counter.used += quantity
    redemption = EntitlementRedemption(
        customer_id=customer_id,
        benefit=benefit,
        year=year,
        quantity=quantity,
        tier=tier,
        cost=round(spec.cost * quantity, 2),
        redeemed_at=now,
        staff_id=user.staff_id,
        created_by=user.username,
        note=(note or "").strip() or None,
        cancelled_at=None,
    )
    session.add(redemption)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="entitlement.redeem",
        entity="entitlement_redemption",
        entity_id=redemption.id,
        customer_id=customer_id,
        details={
            "benefit": benefit,
            "quantity": quantity,
            "year": year,
            "tier": tier.value,
            "used": counter.used,
            "quota": quota,
        },
        at=now,
    )
    return redemption


def cancel(
    session: Session, *, user: Staffer, redemption_id: int, now: datetime, reason: str | None = None
) -> EntitlementRedemption:
    """Cancel a redemption (a mistake, a no-show): its uses go back to the year's quota."""
    redemption = session.get(EntitlementRedemption, redemption_id)
    if redemption is None:
        raise NotFound(f"no redemption {redemption_id}")
    try:
        get_customer(session, user=user, customer_id=redemption.customer_id)
    except NotFound:
        raise NotFound(f"no redemption {redemption_id}") from None
    if Role(user.role) not in REDEEMING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not cancel redemptions")
    if redemption.cancelled_at is not None:
        raise Conflict(f"redemption {redemption_id} is already cancelled")
    counter = locked_counter(
        session,
        EntitlementCounter,
        customer_id=redemption.customer_id,
        benefit=redemption.benefit,
        year=redemption.year,
    )
    counter.used = max(counter.used - redemption.quantity, 0)
    redemption.cancelled_at = now
    session.flush()
    audit.record(
        session,
        actor=user,
        action="entitlement.cancel",
        entity="entitlement_redemption",
        entity_id=redemption.id,
        customer_id=redemption.customer_id,
        reason=reason,
        details={"benefit": redemption.benefit, "quantity": redemption.quantity, "year": redemption.year},
        at=now,
    )
    return redemption


def history(
    session: Session, *, user: Staffer, customer_id: str, limit: int = 50
) -> list[EntitlementRedemption]:
    """The customer's redemptions, newest first (cancelled ones included)."""
    get_customer(session, user=user, customer_id=customer_id)
    return list(
        session.scalars(
            select(EntitlementRedemption)
            .where(EntitlementRedemption.customer_id == customer_id)
            .order_by(EntitlementRedemption.redeemed_at.desc(), EntitlementRedemption.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class UsageRow:
    benefit: str
    tier: str
    uses: int
    customers: int
    cost: float


def usage_report(session: Session, *, user: Staffer, year: int) -> list[UsageRow]:
    """Uses (not cancelled), distinct customers and cost to the branch per benefit and tier in ``year``,
    for the branch-wide roles; by benefit, then tier."""
    if Role(user.role) not in WHOLE_BRANCH:
        raise Forbidden("the usage report is for the branch manager, auditors and analysts")
    r = EntitlementRedemption
    rows = session.execute(
        select(
            r.benefit,
            r.tier,
            func.sum(r.quantity),
            func.count(func.distinct(r.customer_id)),
            func.sum(r.cost),
        )
        .join(Customer, Customer.customer_id == r.customer_id)
        .where(r.year == year, r.cancelled_at.is_(None), scope_filter(user))
        .group_by(r.benefit, r.tier)
    ).all()
    out = [
        UsageRow(str(b), str(getattr(t, "value", t)), int(u or 0), int(c or 0), round(float(cost or 0), 2))
        for b, t, u, c, cost in rows
    ]
    rank = {t.value: t.rank for t in Tier}
    return sorted(out, key=lambda row: (row.benefit, rank.get(row.tier, 99)))
