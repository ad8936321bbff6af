"""Delegations: a customer lent to another RM (holiday cover) from ``starts_on`` to ``ends_on``.

Who may delegate: the customer's own RM, a team lead for customers of their team, the branch manager
for any customer; always to another active RM or team lead. A delegate sees the customer (scope rule
:func:`wealthcrm.customers.scope._delegated_ids`) only on the days ``starts_on`` to ``ends_on``, inclusive,
until it is revoked; the delegation then lapses by itself. A delegate cannot delegate further.
Creating and revoking are audited (``delegation.create``, ``delegation.revoke``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from wealthcrm.audit.service import Actor, record
from wealthcrm.customers.models import Customer, Delegation
from wealthcrm.customers.scope import Viewer, visible_customers
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.users.models import User
from wealthcrm.vocab import Role, StaffStatus

DELEGATING_ROLES = frozenset({Role.rm, Role.team_lead, Role.branch_manager})
DELEGATE_ROLES = frozenset({Role.rm, Role.team_lead})


class Delegator(Viewer, Actor, Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DelegationRow:
    id: int
    customer_id: str
    customer_name: str
    to_staff_id: str
    to_staff_name: str
    starts_on: date
    ends_on: date
    reason: str | None
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    status: str  # scheduled, active, ended, revoked (on the day asked)

    def to_dict(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in asdict(self).items()}


def status_on(d: Delegation, today: date) -> str:
    if d.revoked_at is not None:
        return "revoked"
    if today < d.starts_on:
        return "scheduled"
    return "active" if today <= d.ends_on else "ended"


def _may_manage(session: Session, actor: Delegator, customer: Customer) -> None:
    role = Role(actor.role)
    if role not in DELEGATING_ROLES:
        raise Forbidden(f"the {role.value} role may not delegate customers")
    if role is Role.rm and customer.rm_id != actor.staff_id:
        raise Forbidden("only the customer's own RM, their team lead or the branch manager may do this")


def create(
    session: Session,
    *,
    actor: Delegator,
    customer_id: str,
    to_staff_id: str,
    starts_on: date,
    ends_on: date,
    reason: str | None,
    today: date,
    max_days: int = 92,
    now: datetime,
) -> Delegation:
    """Lend ``customer_id`` to ``to_staff_id`` for ``starts_on``–``ends_on`` (inclusive); audited."""
    if Role(actor.role) not in DELEGATING_ROLES:
        raise Forbidden(f"the {Role(actor.role).value} role may not delegate customers")
    customer = get_customer(session, user=actor, customer_id=customer_id)  # 404 outside the scope
    _may_manage(session, actor, customer)
    staff = session.get(Staff, to_staff_id)
    if staff is None or staff.role not in DELEGATE_ROLES or staff.status is not StaffStatus.active:
        raise Invalid(f"{to_staff_id!r} is not an active RM or team lead")
    if staff.staff_id == customer.rm_id:
        raise Invalid("the customer is already in that RM's book")
    if ends_on < starts_on:
        raise Invalid("ends_on: on or after starts_on")
    if starts_on < today:
        raise Invalid("starts_on: today or later")
    if (ends_on - starts_on) + timedelta(days=1) > timedelta(days=max_days):
        raise Invalid(f"a delegation lasts at most {max_days} days")
    overlapping = session.scalar(
        select(Delegation.id).where(
            Delegation.customer_id == customer_id,
            Delegation.to_staff_id == to_staff_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_on <= ends_on,
            Delegation.ends_on >= starts_on,
        )
    )
    if overlapping is not None:
        raise Conflict(f"customer {customer_id} is already delegated to {to_staff_id} then (#{overlapping})")
    text = (reason or "").strip() or None
    row = Delegation(
        customer_id=customer_id,
        to_staff_id=to_staff_id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=text,
        created_by=actor.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="delegation.create",
        entity="delegation",
        entity_id=row.id,
        customer_id=customer_id,
        reason=text,
        details={"to_staff_id": to_staff_id, "starts_on": starts_on, "ends_on": ends_on},
    )
    return row


def revoke(session: Session, *, actor: Delegator, delegation_id: int, now: datetime) -> Delegation:
    """End a delegation now (whoever may create it for that customer may revoke it); audited."""
    row = session.get(Delegation, delegation_id)
    if row is None:
        raise NotFound(f"no delegation {delegation_id}")
    try:
        customer = get_customer(session, user=actor, customer_id=row.customer_id)
    except NotFound:
        raise NotFound(f"no delegation {delegation_id}") from None
    _may_manage(session, actor, customer)
    if row.revoked_at is not None:
        raise Conflict(f"delegation {delegation_id} is already revoked")
    row.revoked_at = now
    record(
        session,
        actor=actor,
        action="delegation.revoke",
        entity="delegation",
        entity_id=row.id,
        customer_id=row.customer_id,
        details={"to_staff_id": row.to_staff_id},
    )
    return row


def list_delegations(
    session: Session, *, user: Viewer, today: date, include_past: bool = False
) -> Sequence[DelegationRow]:
    """Delegations of customers in ``user``'s scope and those made to ``user``; current ones only
    unless ``include_past``; newest first."""
    to_staff = aliased(Staff)
    stmt = (
        select(Delegation, Customer.name, to_staff.name, User.username)
        .join(Customer, Customer.customer_id == Delegation.customer_id)
        .join(to_staff, to_staff.staff_id == Delegation.to_staff_id)
        .outerjoin(User, User.id == Delegation.created_by)
        .where(
            or_(
                Delegation.customer_id.in_(visible_customers(user)),
                Delegation.to_staff_id == (user.staff_id or ""),
            )
        )
        .order_by(Delegation.starts_on.desc(), Delegation.id.desc())
    )
    if not include_past:
        stmt = stmt.where(Delegation.revoked_at.is_(None), Delegation.ends_on >= today)
    return [
        DelegationRow(
            d.id,
            d.customer_id,
            customer_name,
            d.to_staff_id,
            staff_name,
            d.starts_on,
            d.ends_on,
            d.reason,
            creator,
            d.created_at,
            d.revoked_at,
            status_on(d, today),
        )
        for d, customer_name, staff_name, creator in session.execute(stmt)
    ]


def delegate_choices(session: Session) -> Sequence[Staff]:
    """The active RMs and team leads a customer can be delegated to, by name."""
    return session.scalars(
        select(Staff)
        .where(Staff.role.in_(DELEGATE_ROLES), Staff.status == StaffStatus.active)
        .order_by(Staff.staff_id)
    ).all()
