"""Moving customers to another RM: a selection (:func:`reassign`) or a departing RM's book (:func:`depart`).

Each moved customer gets its new ``rm_id``, a :class:`~wealthcrm.customers.models.Reassignment` row, a
``handover`` task on the new RM's list carrying the handover note, and an audit entry — all in the
caller's transaction. Everything is checked before anything is written, so bad input (an unknown or
departed RM, a customer outside the caller's scope) changes nothing.

Who may move whom: a branch manager anyone to any active RM of the branch; a team lead only the
customers of the team (their scope) and only to active RMs of the team. Targets are active staff in
the ``rm`` or ``team_lead`` role.

Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.customers.scope import scope_filter
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.tasks import service as tasks
from wealthcrm.vocab import CustomerStatus, Role, StaffStatus, TaskKind

#: roles that reassign customers
MANAGING_ROLES = frozenset({Role.team_lead, Role.branch_manager})
#: roles a customer can be handed to
BOOK_ROLES = frozenset({Role.rm, Role.team_lead})
#: a handover task is due this many days after the handover
HANDOVER_DUE_DAYS = 7
MAX_NOTE = 2000
MAX_CUSTOMERS = 5000


class Manager(Protocol):
    """Who reassigns: the signed-in user (id for the task's author, name and role for audit, scope)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Moved:
    customer_id: str
    from_staff_id: str | None
    to_staff_id: str
    task_id: int | None  # None: a closed customer moves without a task

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "from_staff_id": self.from_staff_id,
            "to_staff_id": self.to_staff_id,
            "task_id": self.task_id,
        }


def _require_manager(user: Manager) -> None:
    if Role(user.role) not in MANAGING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not reassign customers")


def _lead_team(session: Session, user: Manager) -> str | None:
    """The team a team lead manages (None for a branch manager: every team)."""
    if Role(user.role) is not Role.team_lead:
        return None
    team = session.scalar(select(Staff.team_id).where(Staff.staff_id == user.staff_id))
    if team is None:
        raise Forbidden("a team lead without a team may not reassign customers")
    return team


def _clean_note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise Invalid("note: write a handover note for the new RM")
    if len(text) > MAX_NOTE:
        raise Invalid(f"note: at most {MAX_NOTE} characters")
    return text


def check_target(session: Session, *, user: Manager, staff_id: str) -> Staff:
    """The staff member customers may be handed to by ``user``; else a 4xx error saying why."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"to_staff_id: no staff member {staff_id!r}")
    team = _lead_team(session, user)
    if team is not None and staff.team_id != team:
        raise Forbidden(f"to_staff_id: {staff_id} is not in your team")
    if staff.role not in BOOK_ROLES:
        raise Invalid(f"to_staff_id: {staff_id} is not a relationship manager")
    if staff.status is not StaffStatus.active:
        raise Invalid(f"to_staff_id: {staff_id} is not active ({staff.status.value})")
    return staff


def _customers(session: Session, *, user: Manager, customer_ids: Sequence[str]) -> list[Customer]:
    """The customers, in the order given, all inside ``user``'s scope; else :class:`NotFound`."""
    wanted = list(dict.fromkeys(customer_ids))
    if not wanted:
        raise Invalid("customer_ids: choose at least one customer")
    if len(wanted) > MAX_CUSTOMERS:
        raise Invalid(f"customer_ids: at most {MAX_CUSTOMERS} at a time")
    allowed = [scope_filter(user)]
    team = _lead_team(session, user)
    if team is not None:  # the team's books only, not customers merely delegated to the lead
        allowed.append(Customer.rm_id.in_(select(Staff.staff_id).where(Staff.team_id == team)))
    found: dict[str, Customer] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        rows = session.scalars(select(Customer).where(Customer.customer_id.in_(chunk), *allowed))
        found.update({c.customer_id: c for c in rows})
    missing = [cid for cid in wanted if cid not in found]
    if missing:
        raise NotFound(f"customer_ids: no customer {', '.join(repr(m) for m in missing[:10])}")
    return [found[cid] for cid in wanted]


def _move(
    session: Session,
    *,
    user: Manager,
    customer: Customer,
    to: Staff,
    note: str,
    on: date,
    departure: bool,
    at: datetime,
) -> Moved:
    before = customer.rm_id
    session.add(
        Reassignment(
            customer_id=customer.customer_id,
            from_staff_id=before,
            to_staff_id=to.staff_id,
            note=note,
            departure=departure,
            at=at,
            by_user=user.id,
        )
    )
    customer.rm_id = to.staff_id
    task_id = None
    if customer.status is CustomerStatus.active:
        task = tasks.create(
            session,
            kind=TaskKind.handover,
            assignee_id=to.staff_id,
            due_on=on + timedelta(days=HANDOVER_DUE_DAYS),
            customer_id=customer.customer_id,
            note=note,
            evidence={"from_staff_id": before, "departure": departure},
            actor=user,
            actor_id=user.id,
        )
        task_id = task.id
    audit.record(
        session,
        actor=user,
        action="customer.reassign",
        entity="customer",
        entity_id=customer.customer_id,
        customer_id=customer.customer_id,
        details={"from_staff_id": before, "to_staff_id": to.staff_id, "departure": departure},
    )
    return Moved(customer.customer_id, before, to.staff_id, task_id)


def reassign(
    session: Session,
    *,
    user: Manager,
    customer_ids: Sequence[str],
    to_staff_id: str,
    note: str | None,
    on: date,
) -> list[Moved]:
    """Hand the customers to ``to_staff_id`` with the handover ``note``; ``on`` is today (task due dates).

    Errors, before anything changes: :class:`Forbidden` for a role that may not reassign or a target
    outside a team lead's team; :class:`NotFound` for an unknown target or a customer outside the
    caller's scope; :class:`Invalid` for a target that is not an active RM, an empty note, or a
    customer already with the target.
    """
    _require_manager(user)
    text = _clean_note(note)
    to = check_target(session, user=user, staff_id=to_staff_id)
    customers = _customers(session, user=user, customer_ids=customer_ids)
    already = [c.customer_id for c in customers if c.rm_id == to.staff_id]
    if already:
        raise Invalid(f"customer_ids: {', '.join(already[:10])} already with {to.staff_id}")
    at = utcnow()
    return [
        _move(session, user=user, customer=c, to=to, note=text, on=on, departure=False, at=at)
        for c in customers
    ]


def _latest_aum(session: Session, customer_ids: Sequence[str]) -> dict[str, float]:
    """Each customer's AUM in the latest month the nightly batch scored (0 when none)."""
    month = session.scalar(select(func.max(CustomerMonth.month)))
    out = dict.fromkeys(customer_ids, 0.0)
    if month is None:
        return out
    for i in range(0, len(customer_ids), 500):
        chunk = list(customer_ids[i : i + 500])
        rows = session.execute(
            select(CustomerMonth.customer_id, CustomerMonth.aum).where(
                CustomerMonth.month == month, CustomerMonth.customer_id.in_(chunk)
            )
        )
        out.update({cid: float(aum or 0.0) for cid, aum in rows})
    return out


def balance(aum: dict[str, float], targets: Sequence[str]) -> dict[str, str]:
    """Customer → target, largest AUM first, each to the target holding the least AUM so far (ties:
    the earlier target in ``targets``): the books end up as even in AUM as a greedy split makes them."""
    load = dict.fromkeys(targets, 0.0)
    order = sorted(aum, key=lambda cid: (-aum[cid], cid))
    out: dict[str, str] = {}
    for cid in order:
        target = min(targets, key=lambda t: (load[t], targets.index(t)))
        out[cid] = target
        load[target] += aum[cid]
    return out


@dataclass(frozen=True, slots=True)
class Departure:
    staff_id: str
    left_on: date
    moved: list[Moved]

    def to_dict(self) -> dict[str, Any]:
        per_target: dict[str, int] = {}
        for m in self.moved:
            per_target[m.to_staff_id] = per_target.get(m.to_staff_id, 0) + 1
        return {
            "staff_id": self.staff_id,
            "left_on": self.left_on.isoformat(),
            "moved": len(self.moved),
            "per_target": per_target,
            "items": [m.to_dict() for m in self.moved],
        }


def depart(
    session: Session,
    *,
    user: Manager,
    staff_id: str,
    left_on: date,
    to_staff_ids: Sequence[str],
    note: str | None,
    on: date,
) -> Departure:
    """Mark ``staff_id`` as left on ``left_on`` and hand over their whole book.

    With one target, every customer goes to it; with several, the book is split by :func:`balance`.
    Every customer gets a Reassignment row (``departure`` true) and an audit entry; active ones a
    handover task. A team lead may do this for RMs of the team only, with targets in the team.
    """
    _require_manager(user)
    text = _clean_note(note)
    team = _lead_team(session, user)
    leaving = session.get(Staff, staff_id)
    if leaving is None or (team is not None and leaving.team_id != team):
        raise NotFound(f"no staff member {staff_id!r}")
    if leaving.role not in BOOK_ROLES:
        raise Invalid(f"{staff_id} is not a relationship manager")
    if leaving.status is StaffStatus.left:
        raise Conflict(f"{staff_id} has left already")
    if left_on < leaving.joined_on:
        raise Invalid(f"left_on: {left_on.isoformat()} is before {staff_id} joined")
    if staff_id == user.staff_id:
        raise Invalid("you cannot hand over your own book: ask your branch manager")
    targets = list(dict.fromkeys(to_staff_ids))
    if not targets:
        raise Invalid("to_staff_ids: choose at least one RM to take over the book")
    if staff_id in targets:
        raise Invalid(f"to_staff_ids: {staff_id} is the RM who leaves")
    staff = {t: check_target(session, user=user, staff_id=t) for t in targets}
    book = list(
        session.scalars(select(Customer).where(Customer.rm_id == staff_id).order_by(Customer.customer_id))
    )
    plan = balance(_latest_aum(session, [c.customer_id for c in book]), targets)
    at = utcnow()
    moved = [
        _move(
            session,
            user=user,
            customer=c,
            to=staff[plan[c.customer_id]],
            note=text,
            on=on,
            departure=True,
            at=at,
        )
        for c in book
    ]
    leaving.status = StaffStatus.left
    leaving.left_on = left_on
    audit.record(
        session,
        actor=user,
        action="staff.departure",
        entity="staff",
        entity_id=staff_id,
        details={"left_on": left_on.isoformat(), "to_staff_ids": targets, "customers": len(moved)},
    )
    session.flush()
    return Departure(staff_id, left_on, moved)
