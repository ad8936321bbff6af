"""Service requests and complaints: opening, working (state transitions), updating, escalation.

- :func:`create` — open a request for a customer in the user's scope; its SLA due times come from the
  customer's tier × the request type (:func:`~wealthcrm.service.rules.sla_due`), and so does its
  priority unless staff chose one (:func:`~wealthcrm.service.rules.default_priority`). A complaint
  raises the ``complaint`` early-warning alert and a ``service_followup`` task for the customer's RM;
- :func:`list_requests` — the queue: urgent first, then high, then normal; within a priority the
  soonest SLA due time first;
- :func:`transition` — acknowledge, start, wait, resume, resolve, close (with the customer's rating
  1–5), reopen; an action the state does not allow is :class:`Invalid`. Waiting for the customer
  stops the SLA clock; resuming moves the due time later by the business time it stood still;
- :func:`update` — priority, root cause, assignee, summary;
- :func:`escalate_due` — the batch (run every few minutes): fires each due escalation step once.
  The first step of a missed due time also raises the ``sla_breach`` alert and the RM's follow-up task.

Every change is written as a :class:`ServiceRequestEvent` (who, when, from, to) and to the audit log.
Changes by people carry ``expected_version`` (optimistic locking: a stale one is :class:`Conflict`).
Roles: RMs, team leads, branch managers and service staff work requests of customers in their scope
(service staff also those assigned to them); auditors, analysts and admins only read. Nothing here
commits; every function takes ``now`` (naive UTC) instead of reading the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import uuid4

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from wealthcrm.alerts.actions import ACTION_FOR
from wealthcrm.alerts.models import Alert
from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.pseudonym import PSEUDONYMISED_ROLES
from wealthcrm.customers.scope import WHOLE_BRANCH, visible_customers
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.service import notifications
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.models import ServiceRequest, ServiceRequestEvent
from wealthcrm.service.rules import (
    OPEN_STATES,
    PRIORITY_ORDER,
    Action,
    EscalationStep,
    EscalationTarget,
    EventKind,
    RequestClock,
    Sla,
    check_rating,
    clock_runs,
    default_priority,
    due_escalations,
    next_status,
    sla_due,
)
from wealthcrm.service.tiers import customer_tier, is_gold_prospect
from wealthcrm.staff.models import Staff
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.users.models import User
from wealthcrm.vocab import (
    AlertStatus,
    AlertType,
    Priority,
    RequestStatus,
    RequestType,
    Role,
    ServiceChannel,
    Severity,
    StaffStatus,
    TaskKind,
    TaskStatus,
    Tier,
)

#: roles that open and work requests; the others only read
ACTING_ROLES = frozenset({Role.rm, Role.team_lead, Role.branch_manager, Role.service})
#: the tier whose SLA applies to a customer the nightly batch has not tiered yet
DEFAULT_TIER = Tier.mass
SYSTEM = "system"
SUMMARY_MAX = 2000
NOTE_MAX = 2000
_CHUNK = 500


class Staffer(Protocol):
    """Who acts: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


class _Unset:
    """The default of :func:`update`'s fields: leave unchanged (None means clear)."""


UNSET: Any = _Unset()


def calendar_of(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar.from_settings(settings.sla)


def _text(value: str | None, limit: int, name: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise Invalid(f"the {name} is longer than {limit} characters")
    return text or None


def _role(user: Staffer) -> str:
    return str(getattr(user.role, "value", user.role))


def _check_acting(user: Staffer) -> None:
    if Role(user.role) not in ACTING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not work service requests")


def visible_requests(user: Staffer) -> ColumnElement[bool]:
    """Requests ``user`` may see: of customers in their scope, and (any role) those assigned to them.
    None for a pseudonymised role (analysts): a request names its customer; they get the dashboards."""
    if Role(user.role) in PSEUDONYMISED_ROLES:
        return false()
    if Role(user.role) in WHOLE_BRANCH:
        return true()
    mine = ServiceRequest.staff_id == user.staff_id if user.staff_id is not None else false()
    return or_(ServiceRequest.customer_id.in_(visible_customers(user)), mine)


def get(session: Session, *, user: Staffer, request_id: str) -> ServiceRequest:
    """One request, if ``user`` may see it; else :class:`NotFound`, as for a missing one."""
    req = session.scalar(
        select(ServiceRequest).where(ServiceRequest.request_id == request_id, visible_requests(user))
    )
    if req is None:
        raise NotFound(f"no service request {request_id!r}")
    return req


@dataclass(frozen=True, slots=True)
class RequestPage:
    total: int
    items: list[ServiceRequest]


def list_requests(
    session: Session,
    *,
    user: Staffer,
    statuses: Sequence[RequestStatus] | None = None,
    customer_id: str | None = None,
    assignee_id: str | None = None,
    request_type: RequestType | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RequestPage:
    """The requests ``user`` may see in the order the desk serves them: urgent first, then high, then
    normal; within a priority the soonest SLA due time first (those without a due time last), then
    the newest."""
    conditions: list[ColumnElement[bool]] = [visible_requests(user)]
    if statuses:
        conditions.append(ServiceRequest.status.in_([s.value for s in statuses]))
    if customer_id is not None:
        conditions.append(ServiceRequest.customer_id == customer_id)
    if assignee_id is not None:
        conditions.append(ServiceRequest.staff_id == assignee_id)
    if request_type is not None:
        conditions.append(ServiceRequest.request_type == request_type)
    total = session.scalar(select(func.count()).select_from(ServiceRequest).where(*conditions)) or 0
    stmt = (
        select(ServiceRequest)
        .where(*conditions)
        .order_by(
            _priority_rank(),
            ServiceRequest.due_at.is_(None),
            ServiceRequest.due_at,
            ServiceRequest.opened_at.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return RequestPage(int(total), list(session.scalars(stmt)))


def _priority_rank() -> ColumnElement[int]:
    """0 for urgent, 1 for high, 2 for normal: the desk's order (:data:`PRIORITY_ORDER`)."""
    return case(
        {p.value: i for i, p in enumerate(PRIORITY_ORDER)},
        value=ServiceRequest.priority,
        else_=len(PRIORITY_ORDER),
    )


def events(session: Session, *, user: Staffer, request_id: str) -> list[ServiceRequestEvent]:
    """The request's history, oldest first."""
    get(session, user=user, request_id=request_id)
    return list(
        session.scalars(
            select(ServiceRequestEvent)
            .where(ServiceRequestEvent.request_id == request_id)
            .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
        )
    )


def _event(
    session: Session,
    req: ServiceRequest,
    *,
    kind: EventKind,
    at: datetime,
    actor: Staffer | None,
    action: Action | None = None,
    from_status: RequestStatus | None = None,
    to_status: RequestStatus | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    sla: Sla | None = None,
    step: int | None = None,
    dedupe_key: str | None = None,
) -> ServiceRequestEvent:
    event = ServiceRequestEvent(
        request_id=req.request_id,
        at=at,
        kind=kind.value,
        action=None if action is None else action.value,
        from_status=None if from_status is None else from_status.value,
        to_status=None if to_status is None else to_status.value,
        actor=SYSTEM if actor is None else actor.username,
        actor_role=None if actor is None else _role(actor),
        sla=None if sla is None else sla.value,
        step=step,
        dedupe_key=dedupe_key,
        note=note,
        details=details or {},
    )
    session.add(event)
    return event


def _active_staff(session: Session, staff_id: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None or staff.status is StaffStatus.left:
        raise Invalid(f"no active staff member {staff_id!r} to assign")
    return staff


# --- opening ----------------------------------------------------------------------------------------


def create(
    session: Session,
    *,
    user: Staffer,
    customer_id: str,
    request_type: RequestType,
    channel: ServiceChannel,
    now: datetime,
    settings: Settings,
    priority: Priority | None = None,
    summary: str | None = None,
    staff_id: str | None = None,
    request_id: str | None = None,
) -> ServiceRequest:
    """Open a request (state ``new``) for a customer in ``user``'s scope, assigned to ``staff_id``
    (default: the user's own staff record). ``priority`` None: the standard's for the customer's tier or
    value segment and the request type (``sla.default_priority``, ``sla.complaint_priority_raise``); a
    chosen one wins. Audited as ``service_request.create``."""
    customer = get_customer(session, user=user, customer_id=customer_id)
    _check_acting(user)
    assignee = staff_id if staff_id is not None else user.staff_id
    if assignee is not None:
        _active_staff(session, assignee)
    calendar = calendar_of(settings)
    tier = customer_tier(session, customer_id=customer_id, on=calendar.local_date(now)) or DEFAULT_TIER
    due = sla_due(settings.sla, calendar, tier=tier, request_type=request_type, opened_at=now)
    chosen = priority is not None
    if priority is None:
        prospect = (
            tier is Tier.gold
            and settings.sla.default_priority.gold_prospect is not None
            and is_gold_prospect(
                session,
                customer_id=customer_id,
                on=calendar.local_date(now),
                min_aum=settings.cadence.gold_prospect_min_aum,
            )
        )
        priority = default_priority(
            settings.sla, tier=tier, request_type=request_type, gold_prospect=prospect
        )
    rid = request_id or f"SR{calendar.to_local(now):%Y%m%d}{uuid4().hex[:10].upper()}"
    if session.get(ServiceRequest, rid) is not None:
        raise Conflict(f"service request {rid!r} exists already")
    req = ServiceRequest(
        request_id=rid,
        customer_id=customer.customer_id,
        request_type=request_type,
        channel=channel,
        priority=priority,
        root_cause=None,
        staff_id=assignee,
        opened_at=now,
        acknowledged_at=None,
        due_at=due.due_at,
        resolved_at=None,
        status=RequestStatus.new,
        rating=None,
        summary=_text(summary, SUMMARY_MAX, "summary"),
        sla_tier=tier,
        acknowledge_due_at=due.acknowledge_due_at,
        clock_stopped_at=None,
        paused_hours=0.0,
        closed_at=None,
    )
    session.add(req)
    session.flush()
    details = {
        "request_type": request_type.value,
        "channel": channel.value,
        "priority": priority.value,
        "priority_chosen": chosen,
        "sla_tier": tier.value,
        "acknowledge_hours": due.acknowledge_hours,
        "resolve_hours": due.resolve_hours,
        "acknowledge_due_at": due.acknowledge_due_at.isoformat(),
        "due_at": due.due_at.isoformat(),
        "staff_id": assignee,
    }
    _event(
        session, req, kind=EventKind.created, at=now, actor=user, to_status=RequestStatus.new, details=details
    )
    if assignee is not None and assignee != user.staff_id:
        _notify_assigned(session, req, by=user, now=now)
    if request_type is RequestType.complaint:
        alert, _ = _raise_alert(session, req, AlertType.complaint, Severity.high, now=now, calendar=calendar)
        _followup_task(session, req, now=now, calendar=calendar, alert_id=alert.id, breached=False)
    audit.record(
        session,
        actor=user,
        action="service_request.create",
        entity="service_request",
        entity_id=req.request_id,
        customer_id=req.customer_id,
        details=details,
        at=now,
    )
    return req


# --- working a request ------------------------------------------------------------------------------


def _for_change(session: Session, *, user: Staffer, request_id: str, expected_version: int) -> ServiceRequest:
    req = get(session, user=user, request_id=request_id)
    _check_acting(user)
    if req.version != expected_version:
        raise Conflict(
            f"service request {request_id} was changed by someone else "
            f"(version {req.version}, not {expected_version}): reload and try again"
        )
    return req


def _flush(session: Session, req: ServiceRequest) -> None:
    try:
        session.flush()
    except StaleDataError as exc:  # a concurrent update between our read and our write
        raise Conflict(
            f"service request {req.request_id} was changed by someone else: reload and try again"
        ) from exc


def _restart_clock(req: ServiceRequest, *, now: datetime, calendar: WorkingCalendar) -> float:
    """Start a stopped clock again: the due time moves later by the business time it stood still."""
    if req.clock_stopped_at is None:
        return 0.0
    paused = calendar.business_time_between(req.clock_stopped_at, now)
    if req.due_at is not None:
        req.due_at = calendar.add_business_time(req.due_at, paused)
    hours = paused / timedelta(hours=1)
    req.paused_hours = float(req.paused_hours or 0.0) + hours
    req.clock_stopped_at = None
    return hours


def transition(
    session: Session,
    *,
    user: Staffer,
    request_id: str,
    action: Action,
    expected_version: int,
    now: datetime,
    settings: Settings,
    note: str | None = None,
    rating: int | None = None,
    root_cause: str | None = None,
) -> ServiceRequest:
    """Apply ``action`` (see :data:`~wealthcrm.service.rules.TRANSITIONS`); audited as
    ``service_request.<action>``. ``rating`` (1–5) only at ``close``; ``root_cause`` at ``resolve``."""
    req = _for_change(session, user=user, request_id=request_id, expected_version=expected_version)
    before = req.status
    after = next_status(before, action)
    if rating is not None and action is not Action.close:
        raise Invalid("the customer rates the service when the request is closed")
    check_rating(rating)
    calendar = calendar_of(settings)
    details: dict[str, Any] = {}
    if before is RequestStatus.new and req.acknowledged_at is None:
        req.acknowledged_at = now
    if not clock_runs(after) and clock_runs(before):
        req.clock_stopped_at = now
    if clock_runs(after) and not clock_runs(before):
        details["paused_hours"] = round(_restart_clock(req, now=now, calendar=calendar), 4)
        details["due_at"] = None if req.due_at is None else req.due_at.isoformat()
    if action is Action.resolve:
        req.resolved_at = now
        if root_cause is not None:
            req.root_cause = _text(root_cause, 50, "root cause")
    elif root_cause is not None:
        raise Invalid("the root cause is recorded when the request is resolved (or by an update)")
    if action is Action.close:
        req.closed_at = now
        req.rating = rating
    if action is Action.reopen:
        req.resolved_at = None
        req.closed_at = None
    req.status = after
    _flush(session, req)
    text = _text(note, NOTE_MAX, "note")
    if rating is not None:
        details["rating"] = rating
    if req.root_cause is not None and action is Action.resolve:
        details["root_cause"] = req.root_cause
    _event(
        session,
        req,
        kind=EventKind.transition,
        at=now,
        actor=user,
        action=action,
        from_status=before,
        to_status=after,
        note=text,
        details=details,
    )
    audit.record(
        session,
        actor=user,
        action=f"service_request.{action.value}",
        entity="service_request",
        entity_id=req.request_id,
        customer_id=req.customer_id,
        details={"from": before.value, "to": after.value, "version": req.version, **details},
        at=now,
    )
    return req


def update(
    session: Session,
    *,
    user: Staffer,
    request_id: str,
    expected_version: int,
    now: datetime,
    priority: Priority | None = None,
    root_cause: str | None = UNSET,
    staff_id: str | None = UNSET,
    summary: str | None = UNSET,
) -> ServiceRequest:
    """Change the priority, root cause, assignee or summary (fields left out stay as they are; None
    clears). The SLA does not move. Audited as ``service_request.update`` with the changed fields."""
    req = _for_change(session, user=user, request_id=request_id, expected_version=expected_version)
    changes: dict[str, Any] = {}

    def change(name: str, value: Any) -> None:
        old = getattr(req, name)
        if old != value:
            changes[name] = {"from": getattr(old, "value", old), "to": getattr(value, "value", value)}
            setattr(req, name, value)

    if priority is not None:
        change("priority", priority)
    if root_cause is not UNSET:
        change("root_cause", _text(root_cause, 50, "root cause"))
    if summary is not UNSET:
        change("summary", _text(summary, SUMMARY_MAX, "summary"))
    if staff_id is not UNSET:
        if staff_id is not None:
            _active_staff(session, staff_id)
        change("staff_id", staff_id)
    if not changes:
        return req
    _flush(session, req)
    _event(session, req, kind=EventKind.update, at=now, actor=user, details=changes)
    if "staff_id" in changes and req.staff_id is not None and req.staff_id != user.staff_id:
        _notify_assigned(session, req, by=user, now=now)
    audit.record(
        session,
        actor=user,
        action="service_request.update",
        entity="service_request",
        entity_id=req.request_id,
        customer_id=req.customer_id,
        details={"changes": {k: v for k, v in changes.items() if k != "summary"}, "version": req.version},
        at=now,
    )
    return req


def _notify_assigned(session: Session, req: ServiceRequest, *, by: Staffer, now: datetime) -> None:
    assert req.staff_id is not None
    notifications.notify(
        session,
        code="service.assigned",
        params={
            "request_id": req.request_id,
            "customer_id": req.customer_id,
            "request_type": req.request_type.value,
            "by": by.username,
        },
        now=now,
        staff_id=req.staff_id,
    )


# --- alerts and the RM's follow-up ------------------------------------------------------------------


def _raise_alert(
    session: Session,
    req: ServiceRequest,
    alert_type: AlertType,
    severity: Severity,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    evidence: dict[str, Any] | None = None,
) -> tuple[Alert, bool]:
    """The request's early-warning alert of ``alert_type``, created once. Its key is the one the nightly
    rules use for the same request (``<type>:<customer>:<request>``), so the nightly never adds a second;
    not :func:`~wealthcrm.alerts.service.upsert_alerts`, which would close the month's other condition
    alerts."""
    key = f"{alert_type.value}:{req.customer_id}:{req.request_id}"
    alert = session.scalar(select(Alert).where(Alert.dedupe_key == key))
    if alert is not None:
        return alert, False
    month = calendar.local_date(now).replace(day=1)
    alert = Alert(
        customer_id=req.customer_id,
        alert_type=alert_type,
        severity=severity,
        dedupe_key=key,
        status=AlertStatus.open,
        first_month=month,
        last_month=month,
        evidence={
            "request_id": req.request_id,
            "request_type": req.request_type.value,
            # evidence is read by people: local times, as the nightly's alerts hold them
            "opened_at": calendar.to_local(req.opened_at).isoformat(),
            "due_at": None if req.due_at is None else calendar.to_local(req.due_at).isoformat(),
            **(evidence or {}),
        },
        action=ACTION_FOR[alert_type],
        created_at=now,
        updated_at=now,
        closed_at=None,
    )
    session.add(alert)
    session.flush()
    return alert, True


def _followup_task(
    session: Session,
    req: ServiceRequest,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    alert_id: int | None,
    breached: bool,
) -> Task | None:
    """The customer's RM's ``service_followup`` task for this request, created once (the nightly's
    ``source_key``); a breach marks a live one ``breached``. None when the customer has no RM."""
    key = f"service_followup:{req.request_id}"
    evidence = {
        "request_id": req.request_id,
        "opened_on": calendar.local_date(req.opened_at).isoformat(),
        "due_at": None if req.due_at is None else calendar.to_local(req.due_at).isoformat(timespec="minutes"),
        "status": req.status.value,
        "breached": breached,
    }
    task = session.scalar(select(Task).where(Task.source_key == key))
    if task is not None:
        if (
            breached
            and task.status in (TaskStatus.open, TaskStatus.snoozed)
            and not task.evidence.get("breached")
        ):
            task.evidence = {**task.evidence, "breached": True}
            task.updated_at = now
        return task
    rm_id = session.scalar(select(Customer.rm_id).where(Customer.customer_id == req.customer_id))
    if rm_id is None:
        return None
    return tasks.create(
        session,
        kind=TaskKind.service_followup,
        assignee_id=rm_id,
        due_on=calendar.local_date(now),
        customer_id=req.customer_id,
        evidence=evidence,
        source_key=key,
        alert_id=alert_id,
    )


# --- escalation -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscalationResult:
    requests: int  # requests with at least one step fired
    steps: int
    notifications: int
    alerts: int
    tasks: int


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _team_lead(session: Session, staff_id: str | None) -> list[str]:
    if staff_id is None:
        return []
    team = session.scalar(select(Staff.team_id).where(Staff.staff_id == staff_id))
    if team is None:
        return []
    return list(
        session.scalars(
            select(Staff.staff_id)
            .where(Staff.team_id == team, Staff.role == Role.team_lead, Staff.status != StaffStatus.left)
            .order_by(Staff.staff_id)
        )
    )


def recipients(
    session: Session, req: ServiceRequest, target: EscalationTarget
) -> tuple[list[str], list[int]]:
    """Who an escalation step tells: (staff ids, ids of users without a staff record).

    - assignee: the request's assignee, else the customer's RM;
    - team lead: the team lead(s) of the assignee's team, else of the RM's team;
    - branch manager: the branch managers of the customer's branch, and branch-manager users without a
      staff record.
    """
    customer = session.get(Customer, req.customer_id)
    rm_id = None if customer is None else customer.rm_id
    if target is EscalationTarget.assignee:
        who = req.staff_id or rm_id
        return ([who] if who else []), []
    if target is EscalationTarget.team_lead:
        return (_team_lead(session, req.staff_id) or _team_lead(session, rm_id)), []
    branch = None if customer is None else customer.branch_id
    staff = list(
        session.scalars(
            select(Staff.staff_id)
            .where(
                Staff.branch_id == branch, Staff.role == Role.branch_manager, Staff.status != StaffStatus.left
            )
            .order_by(Staff.staff_id)
        )
    )
    users = list(
        session.scalars(
            select(User.id)
            .where(User.role == Role.branch_manager, User.staff_id.is_(None), User.is_active)
            .order_by(User.id)
        )
    )
    return staff, users


def escalate_due(session: Session, *, now: datetime, settings: Settings) -> EscalationResult:
    """Fire every escalation step due at ``now`` that has not fired: an ``escalation`` event per step
    (its ``dedupe_key`` makes it once-only), a notification to each recipient, and at a request's
    first breach the ``sla_breach`` alert and the RM's follow-up task. Running it again at the same
    ``now`` changes nothing. Audited once, by the system, with the counts."""
    calendar = calendar_of(settings)
    after = list(settings.sla.escalation_after_hours)
    running = [RequestStatus.new.value, RequestStatus.acknowledged.value, RequestStatus.in_progress.value]
    candidates = list(
        session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.status.in_(running),
                or_(
                    and_(ServiceRequest.acknowledged_at.is_(None), ServiceRequest.acknowledge_due_at < now),
                    ServiceRequest.due_at < now,
                ),
            )
            .order_by(ServiceRequest.request_id)
        )
    )
    fired: dict[str, set[tuple[str, int]]] = {}
    breached_before: set[str] = set()
    for chunk in _chunks([r.request_id for r in candidates]):
        for rid, sla, n in session.execute(
            select(ServiceRequestEvent.request_id, ServiceRequestEvent.sla, ServiceRequestEvent.step).where(
                ServiceRequestEvent.request_id.in_(chunk),
                ServiceRequestEvent.kind == EventKind.escalation.value,
            )
        ):
            fired.setdefault(rid, set()).add((str(sla), int(n or 0)))
            breached_before.add(rid)
    n_requests = n_steps = n_notes = n_alerts = n_tasks = 0
    for req in candidates:
        clock = RequestClock(req.status, req.acknowledged_at is not None, req.acknowledge_due_at, req.due_at)
        steps = due_escalations(
            clock, now=now, fired=fired.get(req.request_id, set()), after_hours=after, calendar=calendar
        )
        if not steps:
            continue
        n_requests += 1
        if req.request_id not in breached_before:
            first = steps[0]
            alert, created = _raise_alert(
                session,
                req,
                AlertType.sla_breach,
                Severity.high if req.request_type is RequestType.complaint else Severity.medium,
                now=now,
                calendar=calendar,
                evidence={
                    "sla": first.sla.value,
                    "missed_at": calendar.to_local(_deadline(req, first.sla)).isoformat(),
                },
            )
            n_alerts += int(created)
            if _followup_task(session, req, now=now, calendar=calendar, alert_id=alert.id, breached=True):
                n_tasks += 1
        for step in steps:
            n_notes += _fire(session, req, step, now=now)
            n_steps += 1
    session.flush()
    result = EscalationResult(n_requests, n_steps, n_notes, n_alerts, n_tasks)
    if n_steps:
        audit.record(
            session,
            actor=None,
            action="service_request.escalate",
            entity="service_request",
            details={"now": now.isoformat(), **asdict(result)},
            at=now,
        )
    return result


def _deadline(req: ServiceRequest, sla: Sla) -> datetime:
    due = req.acknowledge_due_at if sla is Sla.acknowledge else req.due_at
    assert due is not None
    return due


def _fire(session: Session, req: ServiceRequest, step: EscalationStep, *, now: datetime) -> int:
    staff, users = recipients(session, req, step.target)
    key = f"escalation:{req.request_id}:{step.sla.value}:{step.step}"
    _event(
        session,
        req,
        kind=EventKind.escalation,
        at=now,
        actor=None,
        sla=step.sla,
        step=step.step,
        dedupe_key=key,
        details={
            "target": step.target.value,
            "step_due_at": step.due_at.isoformat(),
            "missed_at": _deadline(req, step.sla).isoformat(),
            "staff_ids": staff,
            "user_ids": users,
        },
    )
    params = {
        "request_id": req.request_id,
        "customer_id": req.customer_id,
        "request_type": req.request_type.value,
        "sla": step.sla.value,
        "step": step.step,
        "target": step.target.value,
        "due_at": _deadline(req, step.sla).isoformat(),
    }
    sent = 0
    for staff_id in staff:
        if notifications.notify(
            session,
            code="service.escalation",
            params=params,
            now=now,
            staff_id=staff_id,
            dedupe_key=f"{key}:s:{staff_id}",
        ):
            sent += 1
    for user_id in users:
        if notifications.notify(
            session,
            code="service.escalation",
            params=params,
            now=now,
            user_id=user_id,
            dedupe_key=f"{key}:u:{user_id}",
        ):
            sent += 1
    return sent


# --- what a page shows about the SLA -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaView:
    acknowledge_due_at: datetime | None
    due_at: datetime | None
    acknowledged_late: bool  # acknowledged after its due time, or not yet and overdue
    breached: bool  # resolved after the due time, or not yet and overdue
    remaining_hours: (
        float | None
    )  # business hours left to the due time (negative: overdue); None: no due time
    paused: bool  # the clock stands still (waiting for the customer, resolved, closed)


def sla_view(req: ServiceRequest, *, now: datetime, calendar: WorkingCalendar) -> SlaView:
    """The request's SLA standing at ``now`` (business hours on ``calendar``)."""
    at = req.clock_stopped_at or now
    ack_done = req.acknowledged_at
    late_ack = req.acknowledge_due_at is not None and ((ack_done or now) > req.acknowledge_due_at)
    breached = False
    remaining = None
    if req.due_at is not None:
        done = req.resolved_at
        breached = (done or at) > req.due_at
        if req.status in OPEN_STATES:
            if at <= req.due_at:
                remaining = calendar.business_hours_between(at, req.due_at)
            else:
                remaining = -calendar.business_hours_between(req.due_at, at)
    return SlaView(
        req.acknowledge_due_at, req.due_at, late_ack, breached, remaining, not clock_runs(req.status)
    )
