"""Tasks: the nightly generation, the scoped list, and working a task (done, snooze, reopen).

- :func:`generate` — the nightly batch's tasks (:mod:`.rules`), idempotent through ``source_key``;
  tasks whose reason vanished are closed (``cancelled``, outcome ``not_needed``);
- :func:`list_tasks` / :func:`task_counts` — what a user may see: tasks about customers in their scope
  (:mod:`wealthcrm.customers.scope`) and staff tasks of their own (a team lead: of the team's staff);
- :func:`complete`, :func:`snooze`, :func:`reopen` — with optimistic locking: a stale
  ``expected_version`` is a :class:`~wealthcrm.errors.Conflict`, never a silently lost update. Only RMs
  and team leads work tasks (:data:`ACTING_ROLES`); other roles get :class:`Forbidden` except on staff
  tasks of their own; a task outside the scope is :class:`NotFound`, like a missing one. Every
  change a person makes is audited.

Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true, union
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.audit.service import Actor
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.pseudonym import PSEUDONYMISED_ROLES
from wealthcrm.customers.scope import WHOLE_BRANCH, visible_customers
from wealthcrm.db import to_local, to_utc, utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.holdings.models import Position
from wealthcrm.interactions.models import Interaction
from wealthcrm.products.models import Product
from wealthcrm.service.models import ServiceRequest
from wealthcrm.staff.models import Staff
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.tasks import rules
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import (
    GENERATED_KINDS,
    NOT_REACHED,
    AlertFact,
    Candidate,
    ComplaintFact,
    CustomerFacts,
    PositionFact,
    SurveyFact,
    identity_of,
    is_save,
)
from wealthcrm.users import models as _users  # noqa: F401 (tasks.created_by names users: load it)
from wealthcrm.vocab import (
    AlertStatus,
    CustomerStatus,
    PositionStatus,
    RequestStatus,
    RequestType,
    Role,
    TaskKind,
    TaskOutcome,
    TaskStatus,
)

#: roles that work tasks and log contacts (customers in their scope); the others read them and work only
#: staff tasks of their own (a branch manager reviews the lists, an auditor only reads)
ACTING_ROLES = frozenset({Role.rm, Role.team_lead})
NOTE_MAX = 2000
#: equal amounts at stake: the kind that matters more first (a retention call before a routine contact)
KIND_ORDER = (
    TaskKind.retention,
    TaskKind.maturity,
    TaskKind.service_followup,
    TaskKind.survey_recovery,
    TaskKind.follow_up,
    TaskKind.handover,
    TaskKind.assessment_expiry,
    TaskKind.cadence,
    TaskKind.birthday,
    TaskKind.other,
)
SNOOZE_MAX_DAYS = 90
NPS_ITEM = "NPS"
_CHUNK = 500
_LIVE = (TaskStatus.open, TaskStatus.snoozed)


class Worker(Protocol):
    """Who works a task: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def create(
    session: Session,
    *,
    kind: TaskKind,
    assignee_id: str,
    due_on: date,
    customer_id: str | None = None,
    note: str | None = None,
    evidence: dict[str, Any] | None = None,
    priority_amount: float = 0.0,
    source_key: str | None = None,
    alert_id: int | None = None,
    actor: Actor | None = None,
    actor_id: int | None = None,
) -> Task:
    """Add an open task to ``assignee_id``'s list; audited when a person (``actor``) creates it."""
    now = utcnow()
    task = Task(
        kind=kind,
        status=TaskStatus.open,
        customer_id=customer_id,
        assignee_id=assignee_id,
        source_key=source_key,
        alert_id=alert_id,
        due_on=due_on,
        priority_amount=priority_amount,
        evidence=evidence or {},
        note=note,
        created_at=now,
        created_by=actor_id,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="task.create",
            entity="task",
            entity_id=task.id,
            customer_id=customer_id,
            details={"kind": kind.value, "assignee_id": assignee_id, "due_on": due_on.isoformat()},
        )
    return task


# --- the nightly generation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenerateResult:
    created: int
    updated: int
    closed: int
    woken: int
    open: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def gather_facts(session: Session, *, on: date, settings: Settings) -> list[CustomerFacts]:
    """The facts :func:`rules.candidates` reads, for every active customer with an RM, in bulk."""
    base = {
        c.customer_id: c
        for c in session.execute(
            select(
                Customer.customer_id,
                Customer.rm_id,
                Customer.birth_date,
                Customer.risk_level,
                Customer.risk_assessed_on,
            ).where(Customer.status == CustomerStatus.active, Customer.rm_id.is_not(None))
        )
    }
    month = session.scalar(select(func.max(CustomerMonth.month)))
    results: dict[str, CustomerMonth] = {}
    previous: dict[str, float] = {}
    if month is not None:
        results = {
            r.customer_id: r
            for r in session.scalars(select(CustomerMonth).where(CustomerMonth.month == month))
        }
        before = rules.add_months(month, -1)
        previous = dict(
            session.execute(
                select(CustomerMonth.customer_id, CustomerMonth.aum).where(CustomerMonth.month == before)
            ).all()
        )
    reached = [o.value for o in NOT_REACHED]
    last_contact = {
        cid: at.date()
        for cid, at in session.execute(
            select(Interaction.customer_id, func.max(Interaction.occurred_at))
            .where(Interaction.outcome.not_in(reached))
            .group_by(Interaction.customer_id)
        )
    }
    alerts: dict[str, list[AlertFact]] = {}
    for al in session.scalars(select(Alert).where(Alert.status == AlertStatus.open).order_by(Alert.id)):
        alerts.setdefault(al.customer_id, []).append(
            AlertFact(al.id, str(al.alert_type), str(al.severity), al.action, dict(al.evidence or {}))
        )
    since = on - timedelta(days=settings.alerts.reinvest_days)
    ahead = on + timedelta(days=settings.tasks.maturity_days)
    positions: dict[str, list[PositionFact]] = {}
    maturing = or_(
        and_(Position.status == PositionStatus.open, Position.maturity_on.between(since, ahead)),
        and_(Position.status == PositionStatus.matured, Position.closed_on.between(since, on)),
    )
    for p, name in session.execute(
        select(Position, Product.name)
        .join(Product, Product.product_code == Position.product_code)
        .where(maturing)
        .order_by(Position.position_id)
    ):
        matured = p.status == PositionStatus.matured
        day = (p.closed_on or p.maturity_on) if matured else p.maturity_on
        if day is None:
            continue
        positions.setdefault(p.customer_id, []).append(
            PositionFact(p.position_id, p.product_code, name, float(p.principal), day, matured)
        )
    last_opened: dict[str, date] = {}
    for chunk in _chunks(sorted(positions)):
        last_opened.update(
            session.execute(
                select(Position.customer_id, func.max(Position.opened_on))
                .where(Position.customer_id.in_(chunk))
                .group_by(Position.customer_id)
            ).all()
        )
    complaints: dict[str, list[ComplaintFact]] = {}
    zone = settings.sla.time_zone
    for req in session.scalars(
        select(ServiceRequest)
        .where(
            or_(
                ServiceRequest.request_type == RequestType.complaint,
                # due by the end of `on` (local): the rules keep those whose breach the desk already saw
                ServiceRequest.due_at < to_utc(datetime.combine(on + timedelta(days=1), time.min), zone),
            ),
            ServiceRequest.status.not_in([RequestStatus.resolved.value, RequestStatus.closed.value]),
        )
        .order_by(ServiceRequest.request_id)
    ):
        complaints.setdefault(req.customer_id, []).append(  # stored UTC, the rules read local days
            ComplaintFact(
                req.request_id,
                to_local(req.opened_at, zone),
                None if req.due_at is None else to_local(req.due_at, zone),
                str(req.status),
                str(req.request_type),
            )
        )
    nps: dict[str, SurveyFact] = {}
    for a in session.scalars(
        select(SurveyAnswer)
        .where(
            SurveyAnswer.item_id == NPS_ITEM,
            SurveyAnswer.score.is_not(None),
            SurveyAnswer.answered_on <= on,
            SurveyAnswer.answered_on >= on - timedelta(days=settings.tasks.survey_days),
        )
        .order_by(SurveyAnswer.answered_on, SurveyAnswer.response_id)
    ):
        nps[a.customer_id] = SurveyFact(a.response_id, a.answered_on, float(a.score or 0))  # latest wins

    facts = []
    for cid, c in base.items():
        r = results.get(cid)
        facts.append(
            CustomerFacts(
                customer_id=cid,
                rm_id=c.rm_id,
                birth_date=c.birth_date,
                risk_level=None if c.risk_level is None else str(c.risk_level),
                risk_assessed_on=c.risk_assessed_on,
                month=None if r is None else r.month,
                tier=None if r is None else str(r.tier),
                stage=None if r is None else str(r.stage),
                aum=None if r is None else float(r.aum),
                previous_aum=previous.get(cid),
                p_loss=None if r is None else r.p_loss,
                aum_at_risk=None if r is None else r.aum_at_risk,
                reasons=[] if r is None else list(r.reasons or []),
                last_contact=last_contact.get(cid),
                alerts=alerts.get(cid, []),
                positions=positions.get(cid, []),
                last_opened_on=last_opened.get(cid),
                complaints=complaints.get(cid, []),
                latest_nps=nps.get(cid),
            )
        )
    return facts


def _refresh(task: Task, cand: Candidate) -> bool:
    values: dict[str, Any] = {
        "assignee_id": cand.assignee_id,
        "priority_amount": cand.priority_amount,
        "evidence": cand.evidence,
        "alert_id": cand.alert_id,
        "source_key": cand.source_key,
    }
    if cand.kind is TaskKind.birthday:
        values["due_on"] = cand.due_on
    if cand.kind is TaskKind.service_followup and (task.evidence or {}).get("breached"):
        # the service desk saw a breach (of any SLA, on its working calendar): it stays marked
        values["evidence"] = {**cand.evidence, "breached": True}
    changed = False
    for name, value in values.items():
        current = getattr(task, name)
        if name == "priority_amount":
            same = abs(float(current or 0) - float(value)) < 0.005
        else:
            same = current == value
        if not same:
            setattr(task, name, value)
            changed = True
    return changed


def generate(session: Session, *, on: date, settings: Settings) -> GenerateResult:
    """Bring the generated tasks in line with tonight's facts (see :mod:`.rules`); run twice, no change.

    A candidate whose ``source_key`` is stored refreshes that task when it is open or snoozed and is
    left alone when it was worked (done, cancelled); one whose identity has an open task of an earlier
    period carries that task forward; otherwise a task is created. Open or snoozed generated tasks
    whose identity is no candidate any more are cancelled (outcome ``not_needed``); snoozes that ended
    by ``on`` wake up. One audit entry by the system records the counts.
    """
    now = utcnow()
    wanted: dict[str, Candidate] = {}
    facts_of = {f.customer_id: f for f in gather_facts(session, on=on, settings=settings)}
    for facts in facts_of.values():
        for cand in rules.candidates(facts, on=on, settings=settings):
            wanted[cand.source_key] = cand
    stored: dict[str, Task] = {}
    for chunk in _chunks(sorted(wanted)):
        stored.update(
            (t.source_key or "", t) for t in session.scalars(select(Task).where(Task.source_key.in_(chunk)))
        )
    live = session.scalars(
        select(Task)
        .where(
            Task.source_key.is_not(None),
            Task.kind.in_([k.value for k in GENERATED_KINDS]),
            Task.status.in_([s.value for s in _LIVE]),
        )
        .order_by(Task.id)
    ).all()
    live_by_identity = {identity_of(t.source_key or ""): t for t in live}
    capped = rules.cap_cadence(
        wanted.values(),
        facts=facts_of,
        on=on,
        live=live_by_identity,
        worked={k for k, t in stored.items() if t.status not in _LIVE},
        limit=settings.tasks.cadence_max_per_rm,
    )
    wanted = {c.source_key: c for c in capped}

    created = updated = closed = woken = 0
    for key in sorted(wanted):
        cand = wanted[key]
        task = stored.get(key)
        if task is None:
            task = live_by_identity.get(cand.identity)
            if task is None:
                create(
                    session,
                    kind=cand.kind,
                    assignee_id=cand.assignee_id,
                    due_on=cand.due_on,
                    customer_id=cand.customer_id,
                    evidence=cand.evidence,
                    priority_amount=cand.priority_amount,
                    source_key=key,
                    alert_id=cand.alert_id,
                )
                created += 1
                continue
        if task.status in _LIVE and _refresh(task, cand):
            task.updated_at = now
            updated += 1
    identities = {c.identity for c in wanted.values()}
    for task in live:
        if identity_of(task.source_key or "") not in identities:
            task.status = TaskStatus.cancelled
            task.outcome = TaskOutcome.not_needed
            task.completed_at = now
            task.updated_at = now
            closed += 1
    for task in session.scalars(
        select(Task).where(Task.status == TaskStatus.snoozed, Task.snoozed_until <= on)
    ):
        task.status = TaskStatus.open
        task.snoozed_until = None
        task.updated_at = now
        woken += 1
    session.flush()
    open_count = (
        session.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.open)) or 0
    )
    result = GenerateResult(created, updated, closed, woken, int(open_count))
    audit.record(
        session,
        actor=None,
        action="task.generate",
        entity="task",
        details={"on": on.isoformat(), **result.to_dict()},
    )
    return result


# --- who sees what -----------------------------------------------------------------------------------


#: the tasks table once more, for the scope's sub-select (an alias, so it is not correlated with the
#: query it filters; made once, as :data:`wealthcrm.customers.scope._BOOK`)
_SCOPED = aliased(Task, name="scoped")


def visible_tasks(user: Any) -> ColumnElement[bool]:
    """A condition on :class:`Task`: about a customer in ``user``'s scope, or a staff task of their own
    (a team lead's: of any staff member of the team). The whole branch's roles see every task, but
    analysts none (pseudonymised views only: :mod:`wealthcrm.customers.pseudonym`)."""
    role = Role(user.role)
    if role in PSEUDONYMISED_ROLES:
        return false()
    if role in WHOLE_BRANCH:
        return true()
    t = _SCOPED
    about_customer = select(t.id).where(
        t.customer_id.is_not(None), t.customer_id.in_(visible_customers(user))
    )
    staff_id = user.staff_id
    if staff_id is None:
        return Task.id.in_(about_customer)
    if role is Role.team_lead:
        team = select(Staff.team_id).where(Staff.staff_id == staff_id).scalar_subquery()
        members = select(Staff.staff_id).where(or_(Staff.team_id == team, Staff.staff_id == staff_id))
        own = select(t.id).where(t.customer_id.is_(None), t.assignee_id.in_(members))
    else:
        own = select(t.id).where(t.customer_id.is_(None), t.assignee_id == staff_id)
    # The ids of both kinds as one UNION, not ``about a customer OR own``: an OR across two columns kept
    # PostgreSQL from the customer_id index (Today scanned every task of the branch and hash-joined
    # every customer for the names: 22 ms at 50,000 customers) — the scope's own reasoning, again.
    return Task.id.in_(union(about_customer, own))


class TaskFilter(StrEnum):
    """Statuses :func:`list_tasks` filters by; ``open`` includes snoozes that have ended by ``on``."""

    open = "open"
    snoozed = "snoozed"
    done = "done"
    cancelled = "cancelled"
    all = "all"


def _status_filter(status: TaskFilter, on: date) -> ColumnElement[bool]:
    if status is TaskFilter.open:
        return or_(
            Task.status == TaskStatus.open, and_(Task.status == TaskStatus.snoozed, Task.snoozed_until <= on)
        )
    if status is TaskFilter.snoozed:
        return and_(Task.status == TaskStatus.snoozed, Task.snoozed_until > on)
    if status is TaskFilter.all:
        return true()
    return Task.status == TaskStatus(status.value)


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    kind: str
    status: str
    customer_id: str | None
    customer_name: str | None
    assignee_id: str
    assignee_name: str | None
    due_on: date
    snoozed_until: date | None
    priority_amount: float
    evidence: dict[str, Any]
    note: str | None
    outcome: str | None
    outcome_note: str | None
    interaction_id: str | None
    alert_id: int | None
    created_at: datetime
    completed_at: datetime | None
    version: int
    overdue: bool
    due_today: bool

    @property
    def is_live(self) -> bool:
        return self.status in (TaskStatus.open.value, TaskStatus.snoozed.value)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("due_on", "snoozed_until", "created_at", "completed_at"):
            value = out[name]
            out[name] = None if value is None else value.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class TaskPage:
    total: int
    rows: list[TaskRow]


def _rows(session: Session, stmt: Any, on: date) -> list[TaskRow]:
    out = []
    for t in session.execute(stmt):
        customer_name, assignee_name = t.customer_name, t.assignee_name
        out.append(
            TaskRow(
                id=t.id,
                kind=str(t.kind),
                status=str(t.status),
                customer_id=t.customer_id,
                customer_name=customer_name,
                assignee_id=t.assignee_id,
                assignee_name=assignee_name,
                due_on=t.due_on,
                snoozed_until=t.snoozed_until,
                priority_amount=float(t.priority_amount or 0),
                evidence=dict(t.evidence or {}),
                note=t.note,
                outcome=None if t.outcome is None else str(t.outcome),
                outcome_note=t.outcome_note,
                interaction_id=t.interaction_id,
                alert_id=t.alert_id,
                created_at=t.created_at,
                completed_at=t.completed_at,
                version=t.version,
                overdue=t.status in _LIVE and t.due_on < on,
                due_today=t.due_on == on,
            )
        )
    return out


def _select() -> Any:
    """The task rows' columns (not ORM objects: rows for a list, nothing to track)."""
    return (
        select(
            *(c for c in Task.__table__.c),
            Customer.name.label("customer_name"),
            Staff.name.label("assignee_name"),
        )
        .select_from(Task)
        .outerjoin(Customer, Customer.customer_id == Task.customer_id)
        .outerjoin(Staff, Staff.staff_id == Task.assignee_id)
    )


def list_tasks(
    session: Session,
    *,
    user: Any,
    on: date,
    status: TaskFilter = TaskFilter.open,
    kinds: Sequence[TaskKind] | None = None,
    assignee_id: str | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    total: int | None = None,
) -> TaskPage:
    """The tasks ``user`` may see, in Today's order: overdue first, then due today, then later; within
    each, the largest ``priority_amount`` first (ties: :data:`KIND_ORDER`, the earliest due, the oldest).
    ``total``: how many there are, when the caller has counted them already (Today: :func:`task_counts`
    of the same open tasks), so they are not counted twice."""
    conditions: list[ColumnElement[bool]] = [visible_tasks(user), _status_filter(status, on)]
    if kinds:
        conditions.append(Task.kind.in_([k.value for k in kinds]))
    if assignee_id is not None:
        conditions.append(Task.assignee_id == assignee_id)
    if customer_id is not None:
        conditions.append(Task.customer_id == customer_id)
    if total is None:
        total = session.scalar(select(func.count()).select_from(Task).where(*conditions)) or 0
    bucket = case((Task.due_on < on, 0), (Task.due_on == on, 1), else_=2)
    kind_rank = case({k.value: i for i, k in enumerate(KIND_ORDER)}, value=Task.kind, else_=len(KIND_ORDER))
    stmt = (
        _select()
        .where(*conditions)
        .order_by(bucket, Task.priority_amount.desc(), kind_rank, Task.due_on, Task.id)
        .limit(limit)
        .offset(offset)
    )
    return TaskPage(int(total), _rows(session, stmt, on))


@dataclass(frozen=True, slots=True)
class TaskCounts:
    open: int
    overdue: int
    due_today: int


def task_counts(session: Session, *, user: Any, on: date, assignee_id: str | None = None) -> TaskCounts:
    """How many open tasks ``user`` sees (of ``assignee_id`` only, when given), overdue, due today."""
    conditions: list[ColumnElement[bool]] = [visible_tasks(user), _status_filter(TaskFilter.open, on)]
    if assignee_id is not None:
        conditions.append(Task.assignee_id == assignee_id)
    total, overdue, today = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Task.due_on < on, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Task.due_on == on, 1), else_=0)), 0),
        )
        .select_from(Task)
        .where(*conditions)
    ).one()
    return TaskCounts(int(total or 0), int(overdue or 0), int(today or 0))


def get_row(session: Session, *, user: Any, task_id: int, on: date) -> TaskRow:
    """One task as a row, if ``user`` may see it; else :class:`NotFound`."""
    rows = _rows(session, _select().where(Task.id == task_id, visible_tasks(user)), on)
    if not rows:
        raise NotFound(f"no task {task_id}")
    return rows[0]


def assignees(session: Session, *, user: Any) -> list[tuple[str, str]]:
    """The staff whose lists ``user`` may pick on Today: a team lead's team (RMs and the lead)."""
    if Role(user.role) is not Role.team_lead or user.staff_id is None:
        return []
    team = select(Staff.team_id).where(Staff.staff_id == user.staff_id).scalar_subquery()
    return [
        (s.staff_id, s.name)
        for s in session.scalars(
            select(Staff)
            .where(or_(Staff.team_id == team, Staff.staff_id == user.staff_id))
            .order_by(Staff.staff_id)
        )
    ]


# --- working a task ----------------------------------------------------------------------------------


def for_action(session: Session, *, user: Any, task_id: int, expected_version: int | None) -> Task:
    """The task ``user`` wants to change, checked: visible (else NotFound), the user may act on it
    (else Forbidden), still open or snoozed (else Conflict) and at ``expected_version`` (else Conflict)."""
    task = session.scalar(select(Task).where(Task.id == task_id, visible_tasks(user)))
    if task is None:
        raise NotFound(f"no task {task_id}")
    own = user.staff_id is not None and task.assignee_id == user.staff_id
    if Role(user.role) not in ACTING_ROLES and not own:
        raise Forbidden(f"the {Role(user.role).value} role may not work tasks")
    if expected_version is not None and task.version != expected_version:
        raise Conflict(
            f"task {task_id} was changed by someone else (version {task.version}, not {expected_version}): "
            "reload and try again"
        )
    return task


def _live(task: Task) -> None:
    if task.status not in _LIVE:
        raise Conflict(f"task {task.id} is already {task.status.value}")


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise Invalid(f"the note is longer than {NOTE_MAX} characters")
    return text or None


def _flush(session: Session, task: Task) -> None:
    try:
        session.flush()
    except StaleDataError as exc:  # a concurrent update between our read and our write
        raise Conflict(f"task {task.id} was changed by someone else: reload and try again") from exc


def close(
    session: Session,
    *,
    user: Worker,
    task: Task,
    outcome: TaskOutcome,
    note: str | None = None,
    interaction_id: str | None = None,
    reason: str | None = None,
) -> Task:
    """Mark a checked task (:func:`for_action`) done with ``outcome``; audited as ``task.done``."""
    _live(task)
    now = utcnow()
    task.status = TaskStatus.done
    task.outcome = outcome
    task.outcome_note = _note(note)
    task.snoozed_until = None
    task.completed_at = now
    task.completed_by = user.id
    task.updated_at = now
    if interaction_id is not None:
        task.interaction_id = interaction_id
    _flush(session, task)
    audit.record(
        session,
        actor=user,
        action="task.done",
        entity="task",
        entity_id=task.id,
        customer_id=task.customer_id,
        reason=reason,
        details={
            "kind": task.kind.value,
            "outcome": outcome.value,
            "save": is_save(task.kind, outcome),
            "interaction_id": interaction_id,
            "version": task.version,
        },
    )
    return task


def complete(
    session: Session,
    *,
    user: Worker,
    task_id: int,
    outcome: TaskOutcome,
    note: str | None = None,
    expected_version: int,
    interaction_id: str | None = None,
) -> Task:
    """Mark a task done with ``outcome`` (``retained`` on a retention task is a save)."""
    task = for_action(session, user=user, task_id=task_id, expected_version=expected_version)
    return close(session, user=user, task=task, outcome=outcome, note=note, interaction_id=interaction_id)


def snooze(
    session: Session,
    *,
    user: Worker,
    task_id: int,
    until: date,
    expected_version: int,
    on: date | None = None,
) -> Task:
    """Hide a task until ``until`` (after ``on``, today, and at most :data:`SNOOZE_MAX_DAYS` ahead)."""
    today = on or date.today()
    if until <= today:
        raise Invalid(f"snooze until {until.isoformat()}: the date must be after today ({today.isoformat()})")
    if until > today + timedelta(days=SNOOZE_MAX_DAYS):
        raise Invalid(f"snooze until {until.isoformat()}: at most {SNOOZE_MAX_DAYS} days ahead")
    task = for_action(session, user=user, task_id=task_id, expected_version=expected_version)
    _live(task)
    task.status = TaskStatus.snoozed
    task.snoozed_until = until
    task.updated_at = utcnow()
    _flush(session, task)
    audit.record(
        session,
        actor=user,
        action="task.snooze",
        entity="task",
        entity_id=task.id,
        customer_id=task.customer_id,
        details={"kind": task.kind.value, "until": until.isoformat(), "version": task.version},
    )
    return task


def reopen(session: Session, *, user: Worker, task_id: int, expected_version: int) -> Task:
    """Put a done, cancelled or snoozed task back on the list (undo); audited as ``task.reopen``."""
    task = for_action(session, user=user, task_id=task_id, expected_version=expected_version)
    if task.status is TaskStatus.open:
        raise Conflict(f"task {task_id} is already open")
    previous = task.status
    task.status = TaskStatus.open
    task.outcome = None
    task.outcome_note = None
    task.snoozed_until = None
    task.completed_at = None
    task.completed_by = None
    task.updated_at = utcnow()
    _flush(session, task)
    audit.record(
        session,
        actor=user,
        action="task.reopen",
        entity="task",
        entity_id=task.id,
        customer_id=task.customer_id,
        details={"kind": task.kind.value, "from": previous.value, "version": task.version},
    )
    return task


def has_open_task(customer_id: Any, *, on: date, kind: TaskKind) -> ColumnElement[bool]:
    """A condition on a customer-id column: the customer has an open task of ``kind`` (whoever it is
    assigned to; for a customer in the caller's scope every such task is in the caller's scope too,
    :func:`visible_tasks`). An EXISTS on the tasks' customer index, one look-up per row filtered."""
    return (
        select(Task.id)
        .where(Task.customer_id == customer_id, Task.kind == kind, _status_filter(TaskFilter.open, on))
        .exists()
    )
