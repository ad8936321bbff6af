"""Logging contacts in the app, and reading a customer's contacts; scoped to the caller, nothing commits.

:func:`log_interaction` closes the loop of the workbench: it stores the contact, adds a follow-up task
when a follow-up date is given, works the task it was logged from (the outcome mapping is
:func:`wealthcrm.tasks.rules.task_outcome_for`: a contact that did not reach the customer leaves the
task open) and, when the customer was reached, closes their open cadence task: the contact *is* the
cadence. Each change is audited (``interaction.create``, ``task.create``, ``task.done``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import Conflict, Forbidden, Invalid
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff.models import Staff
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import NOT_REACHED, task_outcome_for
from wealthcrm.tasks.service import ACTING_ROLES, NOTE_MAX, Worker
from wealthcrm.vocab import (
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    Role,
    TaskKind,
    TaskOutcome,
    TaskStatus,
)

ID_PREFIX = "APP-"
#: a contact may be logged up to this long after it happened
BACKDATE_MAX_DAYS = 365
FOLLOW_UP_MAX_DAYS = 365
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little between the browser and the server


@dataclass(frozen=True, slots=True)
class Logged:
    """What :func:`log_interaction` did."""

    interaction: Interaction
    follow_up: Task | None = None
    task: Task | None = None  # the task it was logged from (done, or still open when not reached)
    task_closed: bool = False
    cadence_closed: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        i = self.interaction
        return {
            "interaction_id": i.interaction_id,
            "customer_id": i.customer_id,
            "occurred_at": i.occurred_at.isoformat(),
            "follow_up_task_id": None if self.follow_up is None else self.follow_up.id,
            "task": None
            if self.task is None
            else {
                "id": self.task.id,
                "status": self.task.status.value,
                "outcome": None if self.task.outcome is None else self.task.outcome.value,
                "version": self.task.version,
            },
            "task_closed": self.task_closed,
            "cadence_closed": self.cadence_closed,
        }


def log_interaction(
    session: Session,
    *,
    user: Worker,
    customer_id: str,
    channel: InteractionChannel,
    purpose: InteractionPurpose,
    outcome: InteractionOutcome,
    notes: str | None,
    occurred_at: datetime,
    follow_up_on: date | None = None,
    task_id: int | None = None,
    task_outcome: TaskOutcome | None = None,
    task_version: int | None = None,
    on: date | None = None,
    now: datetime | None = None,
) -> Logged:
    """Store a contact ``user`` had with a customer in their scope (see the module docstring).

    ``occurred_at`` is naive local time as the user typed it; ``on`` is today (default: the server's
    date), ``now`` the current time in the same clock (default: the server's). ``task_outcome``
    overrides the mapping from ``outcome``; ``task_version`` guards the task against a stale page.
    Raises NotFound (customer or task outside the scope), Forbidden (a role that does not log
    contacts, or a login without a staff record), Invalid (dates, note length, a task about another
    customer) and Conflict (the task was worked or changed meanwhile).
    """
    today = on or date.today()
    current = now or datetime.now().replace(microsecond=0)
    if Role(user.role) not in ACTING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not log contacts")
    if user.staff_id is None:
        raise Forbidden("this login is not linked to a staff record, so it cannot log contacts")
    customer = get_customer(session, user=user, customer_id=customer_id)
    if occurred_at > current + FUTURE_SLACK:
        raise Invalid(f"occurred_at {occurred_at:%Y-%m-%d %H:%M} is in the future")
    if occurred_at < current - timedelta(days=BACKDATE_MAX_DAYS):
        raise Invalid(f"occurred_at: at most {BACKDATE_MAX_DAYS} days ago")
    if follow_up_on is not None and follow_up_on < today:
        raise Invalid(f"follow_up_on {follow_up_on.isoformat()} is in the past")
    if follow_up_on is not None and follow_up_on > today + timedelta(days=FOLLOW_UP_MAX_DAYS):
        raise Invalid(f"follow_up_on: at most {FOLLOW_UP_MAX_DAYS} days ahead")
    text = (notes or "").strip()
    if len(text) > NOTE_MAX:
        raise Invalid(f"the notes are longer than {NOTE_MAX} characters")
    task = None
    if task_id is not None:
        task = tasks.for_action(session, user=user, task_id=task_id, expected_version=task_version)
        if task.customer_id != customer.customer_id:
            raise Invalid(f"task {task_id} is about another customer")
        if task.status not in (TaskStatus.open, TaskStatus.snoozed):
            raise Conflict(f"task {task_id} is already {task.status.value}")

    interaction = Interaction(
        interaction_id=f"{ID_PREFIX}{uuid.uuid4().hex}",
        customer_id=customer.customer_id,
        staff_id=user.staff_id,
        occurred_at=occurred_at.replace(tzinfo=None, microsecond=0),
        channel=channel,
        purpose=purpose,
        outcome=outcome,
        notes=text or None,
        follow_up_on=follow_up_on,
        logged_by=user.id,
    )
    session.add(interaction)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="interaction.create",
        entity="interaction",
        entity_id=interaction.interaction_id,
        customer_id=customer.customer_id,
        details={
            "channel": channel.value,
            "purpose": purpose.value,
            "outcome": outcome.value,
            "occurred_at": interaction.occurred_at.isoformat(),
            "follow_up_on": None if follow_up_on is None else follow_up_on.isoformat(),
            "task_id": task_id,
        },  # the notes stay out: free text may hold personal data
    )

    follow_up = None
    if follow_up_on is not None:
        follow_up = tasks.create(
            session,
            kind=TaskKind.follow_up,
            assignee_id=user.staff_id,
            due_on=follow_up_on,
            customer_id=customer.customer_id,
            note=text or None,
            evidence={
                "interaction_id": interaction.interaction_id,
                "purpose": purpose.value,
                "channel": channel.value,
                "contacted_on": interaction.occurred_at.date().isoformat(),
            },
            actor=user,
            actor_id=user.id,
        )

    closed = False
    if task is not None:
        resolved = task_outcome or task_outcome_for(task.kind, outcome)
        if resolved is not None:
            tasks.close(
                session, user=user, task=task, outcome=resolved, note=text or None,
                interaction_id=interaction.interaction_id,
            )  # fmt: skip
            closed = True

    cadence_closed: list[int] = []
    if outcome not in NOT_REACHED:
        for cadence in session.scalars(
            select(Task).where(
                Task.customer_id == customer.customer_id,
                Task.kind == TaskKind.cadence,
                Task.status.in_([TaskStatus.open.value, TaskStatus.snoozed.value]),
            )
        ):
            tasks.close(
                session, user=user, task=cadence, outcome=TaskOutcome.contacted,
                interaction_id=interaction.interaction_id, reason="contact logged",
            )  # fmt: skip
            cadence_closed.append(cadence.id)
    return Logged(interaction, follow_up, task, closed, cadence_closed)


@dataclass(frozen=True, slots=True)
class ContactRow:
    interaction_id: str
    occurred_at: datetime
    staff_id: str
    staff_name: str | None
    channel: str
    purpose: str
    outcome: str
    notes: str | None
    follow_up_on: date | None
    logged_in_app: bool

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["occurred_at"] = self.occurred_at.isoformat()
        out["follow_up_on"] = None if self.follow_up_on is None else self.follow_up_on.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class ContactPage:
    total: int
    rows: list[ContactRow]


def list_interactions(
    session: Session, *, user: Any, customer_id: str, limit: int = 50, offset: int = 0
) -> ContactPage:
    """The customer's contacts, newest first (NotFound outside ``user``'s scope)."""
    customer = get_customer(session, user=user, customer_id=customer_id)
    where = Interaction.customer_id == customer.customer_id
    total = session.scalar(select(func.count()).select_from(Interaction).where(where)) or 0
    rows = [
        ContactRow(
            i.interaction_id,
            i.occurred_at,
            i.staff_id,
            name,
            str(i.channel),
            str(i.purpose),
            str(i.outcome),
            i.notes,
            i.follow_up_on,
            i.logged_by is not None,
        )
        for i, name in session.execute(
            select(Interaction, Staff.name)
            .outerjoin(Staff, Staff.staff_id == Interaction.staff_id)
            .where(where)
            .order_by(Interaction.occurred_at.desc(), Interaction.interaction_id)
            .limit(limit)
            .offset(offset)
        )
    ]
    return ContactPage(int(total), rows)
