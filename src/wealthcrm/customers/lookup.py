"""The service desk's look-up: service staff have no book; they reach a customer by an exact customer id
or mobile number, with a reason, and get a time-limited, masked view of that customer.

Each look-up that finds someone creates an :class:`~wealthcrm.customers.models.AccessGrant` per
customer found (valid ``security.lookup_grant_hours``) and one ``lookup`` audit entry per customer;
one that finds nobody is audited too (``lookup`` with ``found: 0``), so an auditor sees fishing.
A mobile number is found through its keyed blind index (the number itself is never compared, stored
or logged in clear). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.audit.service import Actor, record
from wealthcrm.customers.models import AccessGrant, Customer
from wealthcrm.errors import Forbidden, Invalid
from wealthcrm.security.pii import FieldCipher, is_valid_mobile, normalize_mobile
from wealthcrm.vocab import Role

ACTION = "lookup"
LOOKUP_ROLES = frozenset({Role.service})
#: at most this many customers are opened by one mobile number (a shared family number, say)
MAX_MATCHES = 5


class Looker(Actor, Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Found:
    customer_id: str
    name: str
    mobile_masked: str | None
    status: str
    expires_at: datetime


def lookup(
    session: Session,
    *,
    user: Looker,
    reason: str,
    cipher: FieldCipher,
    now: datetime,
    hours: int,
    min_reason: int,
    customer_id: str | None = None,
    mobile: str | None = None,
    ip: str | None = None,
) -> list[Found]:
    """Find customers by exact id or mobile number, grant ``user`` a view of each for ``hours``, audit."""
    if Role(user.role) not in LOOKUP_ROLES:
        raise Forbidden("only service staff look customers up")
    reason = (reason or "").strip()
    if len(reason) < min_reason:
        raise Invalid(f"reason: at least {min_reason} characters")
    cid = (customer_id or "").strip()
    number = normalize_mobile(mobile or "")
    if bool(cid) == bool(number):
        raise Invalid("give either a customer id or a mobile number")
    if cid:
        by = "customer_id"
        stmt = select(Customer).where(Customer.customer_id == cid)
    else:
        if not is_valid_mobile(number):
            raise Invalid("mobile: 11 digits starting 13–19")
        by = "mobile"
        stmt = select(Customer).where(Customer.mobile_index == cipher.blind_index(number))
    customers = session.scalars(stmt.order_by(Customer.customer_id).limit(MAX_MATCHES)).all()
    expires = now + timedelta(hours=hours)
    found: list[Found] = []
    for c in customers:
        session.add(
            AccessGrant(
                user_id=user.id, customer_id=c.customer_id, reason=reason, granted_at=now, expires_at=expires
            )
        )
        record(
            session,
            actor=user,
            action=ACTION,
            entity="customer",
            entity_id=c.customer_id,
            customer_id=c.customer_id,
            reason=reason,
            details={"by": by, "found": len(customers), "expires_at": expires.isoformat()},
            ip=ip,
        )
        found.append(Found(c.customer_id, c.name, c.mobile_masked, str(c.status), expires))
    if not customers:
        # what was asked for stays out of the log when it is a phone number (no clear PII in the log)
        details: dict[str, object] = {"by": by, "found": 0}
        if by == "customer_id":
            details["customer_id"] = cid[:32]
        record(session, actor=user, action=ACTION, entity="customer", reason=reason, details=details, ip=ip)
    session.flush()
    return found


def active_grants(session: Session, *, user_id: int, now: datetime) -> Sequence[Found]:
    """The customers the user may open now (latest expiry per customer), soonest to expire first."""
    rows = session.execute(
        select(Customer, AccessGrant.expires_at)
        .join(AccessGrant, AccessGrant.customer_id == Customer.customer_id)
        .where(AccessGrant.user_id == user_id, AccessGrant.expires_at > now)
        .order_by(AccessGrant.expires_at.desc())
    )
    latest: dict[str, Found] = {}
    for c, expires in rows:
        if c.customer_id not in latest:
            latest[c.customer_id] = Found(c.customer_id, c.name, c.mobile_masked, str(c.status), expires)
    return sorted(latest.values(), key=lambda f: (f.expires_at, f.customer_id))
