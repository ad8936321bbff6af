"""The service workflow's rules (pure: no database, no wall clock; see docs/service.md).

- :data:`TRANSITIONS` — which action moves a request from which state to which;
  :func:`next_status` raises :class:`~wealthcrm.errors.Invalid` for any other;
- :func:`clock_runs` — the SLA clock stops while waiting for the customer and once resolved;
- :func:`sla_due` — the acknowledge and resolve due times of a new request (tier × type, business hours);
- :func:`default_priority` — a new request's priority when staff leave it to the standard (tier or value
  segment, a complaint one step higher);
- :data:`PRIORITY_ORDER` — the desk serves urgent first, then high, then normal;
- :func:`escalation_steps` / :func:`due_escalations` — when each escalation step of a missed due time
  fires: step 1 tells the assignee, step 2 the team lead, step 3 the branch manager, each once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wealthcrm.config import SlaSettings
from wealthcrm.errors import Invalid
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.vocab import Priority, RequestStatus, RequestType, Tier

S = RequestStatus


class Action(StrEnum):
    """What a staff member does to a request."""

    acknowledge = "acknowledge"  # tell the customer it is being handled
    start = "start"  # work on it
    wait = "wait"  # wait for the customer (the SLA clock stops)
    resume = "resume"  # the customer answered (the clock runs again)
    resolve = "resolve"  # solved (the clock stops)
    close = "close"  # the customer confirmed and rated it
    reopen = "reopen"  # not solved after all (the clock runs again)


class EventKind(StrEnum):
    created = "created"
    transition = "transition"
    update = "update"
    escalation = "escalation"


class Sla(StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"


class EscalationTarget(StrEnum):
    assignee = "assignee"
    team_lead = "team_lead"
    branch_manager = "branch_manager"


#: step n (1-based) of a ladder tells ESCALATION_TARGETS[n - 1]
ESCALATION_TARGETS: tuple[EscalationTarget, ...] = (
    EscalationTarget.assignee,
    EscalationTarget.team_lead,
    EscalationTarget.branch_manager,
)

TRANSITIONS: dict[tuple[RequestStatus, Action], RequestStatus] = {
    (S.new, Action.acknowledge): S.acknowledged,
    (S.new, Action.resolve): S.resolved,  # answered at first contact
    (S.acknowledged, Action.start): S.in_progress,
    (S.acknowledged, Action.wait): S.waiting_customer,
    (S.acknowledged, Action.resolve): S.resolved,
    (S.in_progress, Action.wait): S.waiting_customer,
    (S.in_progress, Action.resolve): S.resolved,
    (S.waiting_customer, Action.resume): S.in_progress,
    (S.waiting_customer, Action.resolve): S.resolved,
    (S.resolved, Action.close): S.closed,
    (S.resolved, Action.reopen): S.in_progress,
    (S.closed, Action.reopen): S.in_progress,
}

#: states in which the SLA clock does not run
CLOCK_STOPPED = frozenset({S.waiting_customer, S.resolved, S.closed})
#: states of a request still to be solved
OPEN_STATES = frozenset({S.new, S.acknowledged, S.in_progress, S.waiting_customer})


def next_status(current: RequestStatus, action: Action) -> RequestStatus:
    """The state ``action`` leads to from ``current``; :class:`Invalid` when it is not allowed."""
    target = TRANSITIONS.get((current, action))
    if target is None:
        allowed = ", ".join(sorted(a.value for (s, a) in TRANSITIONS if s is current)) or "none"
        raise Invalid(f"cannot {action.value} a request that is {current.value}; allowed: {allowed}")
    return target


def allowed_actions(current: RequestStatus) -> list[Action]:
    """The actions a page may offer for a request in ``current`` (in :class:`Action` order)."""
    return [a for a in Action if (current, a) in TRANSITIONS]


def clock_runs(status: RequestStatus) -> bool:
    return status not in CLOCK_STOPPED


def check_rating(rating: int | None) -> None:
    if rating is not None and not 1 <= rating <= 5:
        raise Invalid(f"a rating is 1 to 5, not {rating}")


@dataclass(frozen=True, slots=True)
class SlaDue:
    acknowledge_hours: float
    resolve_hours: float
    acknowledge_due_at: datetime
    due_at: datetime


def sla_due(
    sla: SlaSettings, calendar: WorkingCalendar, *, tier: Tier, request_type: RequestType, opened_at: datetime
) -> SlaDue:
    """Due times of a request opened at ``opened_at``: the tier × type targets in business hours."""
    ack = sla.acknowledge_hours.hours(request_type.value, tier)
    resolve = sla.resolve_hours.hours(request_type.value, tier)
    return SlaDue(
        ack,
        resolve,
        calendar.add_business_time(opened_at, ack),
        calendar.add_business_time(opened_at, resolve),
    )


#: the order the desk serves requests in: urgent first (then the soonest SLA due time)
PRIORITY_ORDER: tuple[Priority, ...] = (Priority.urgent, Priority.high, Priority.normal)


def default_priority(
    sla: SlaSettings, *, tier: Tier, request_type: RequestType, gold_prospect: bool = False
) -> Priority:
    """The priority of a new request whose priority staff did not choose: the tier's (or the gold
    prospects') ``sla.default_priority``, one step higher for a complaint when
    ``sla.complaint_priority_raise`` (urgent stays urgent)."""
    priority = sla.default_priority.of(tier, gold_prospect=gold_prospect)
    if request_type is RequestType.complaint and sla.complaint_priority_raise:
        order = list(Priority)  # normal, high, urgent
        priority = order[min(order.index(priority) + 1, len(order) - 1)]
    return priority


@dataclass(frozen=True, slots=True)
class EscalationStep:
    sla: Sla
    step: int  # 1-based
    target: EscalationTarget
    due_at: datetime  # the step fires once ``now`` is after this


def escalation_steps(
    sla: Sla, deadline: datetime, after_hours: list[float], calendar: WorkingCalendar
) -> list[EscalationStep]:
    """The ladder of a missed ``deadline``: step n fires ``after_hours[n-1]`` business hours after it."""
    return [
        EscalationStep(sla, n, ESCALATION_TARGETS[n - 1], calendar.add_business_time(deadline, hours))
        for n, hours in enumerate(after_hours, start=1)
    ]


@dataclass(frozen=True, slots=True)
class RequestClock:
    """What :func:`due_escalations` needs to know of a request."""

    status: RequestStatus
    acknowledged: bool
    acknowledge_due_at: datetime | None
    due_at: datetime | None


def due_escalations(
    clock: RequestClock,
    *,
    now: datetime,
    fired: set[tuple[str, int]],
    after_hours: list[float],
    calendar: WorkingCalendar,
) -> list[EscalationStep]:
    """The steps to fire at ``now``: of each missed due time whose condition still holds (not yet
    acknowledged; not yet resolved, and the clock running), every step whose time has passed and that
    has not fired (``fired``: (sla, step) pairs), in order."""
    if not clock_runs(clock.status):
        return []
    ladders: list[tuple[Sla, datetime]] = []
    if not clock.acknowledged and clock.acknowledge_due_at is not None:
        ladders.append((Sla.acknowledge, clock.acknowledge_due_at))
    if clock.due_at is not None:
        ladders.append((Sla.resolve, clock.due_at))
    out = []
    for sla, deadline in ladders:
        if now <= deadline:
            continue
        for step in escalation_steps(sla, deadline, after_hours, calendar):
            if now > step.due_at and (sla.value, step.step) not in fired:
                out.append(step)
    return out
