"""Which tasks a customer's facts call for tonight, and how a worked task ends (pure logic, no database).

:func:`candidates` turns one customer's :class:`CustomerFacts` into the tasks the nightly batch wants
on their RM's list (:class:`Candidate`); :func:`wealthcrm.tasks.service.generate` stores them. Each
candidate has an *identity* (what the task is about: ``retention:C001``, ``maturity:P3``) and, for
conditions that come back, a *period* (the scored month, the year of a birthday, the date a contact
fell due). The stored ``source_key`` is ``identity@period``: a task worked in one period is not raised
again in the same period, an open task of an earlier period is carried forward, and a task whose
identity is no longer a candidate has lost its reason and is closed.

The rules (SPEC "Contact cadence", "Early-warning signals"; thresholds in ``settings.tasks``):

- ``retention`` — P(loss) ≥ ``retention_min_p_loss`` and AUM at risk ≥ ``retention_min_aum_at_risk``
  in the latest scored month, or an open high-severity alert; priority: AUM at risk;
- ``maturity`` — a position maturing within ``maturity_days``, or matured within
  ``alerts.reinvest_days`` with nothing opened since; priority: the principal;
- ``cadence`` — a *managed* customer (sunflower and up, or a gold prospect: AUM ≥
  ``cadence.gold_prospect_min_aum`` and higher than the month before) whose last meaningful contact
  (any outcome but ``no_answer``) is the tier's interval ago or more, or who was never contacted; at
  most ``tasks.cadence_max_per_rm`` open ones per RM, the most valuable customers first
  (:func:`cap_cadence`);
- ``birthday`` — a managed customer's birthday within ``birthday_days`` (due on the day);
- ``assessment_expiry`` — a managed customer, or one with a maturity task (reinvesting needs a valid
  assessment), whose risk assessment expires within ``assessment_days`` or has expired. This replaces
  the ``risk_assessment_expired`` alert on Today (see :data:`ALERTS_AS_TASKS`);
- ``service_followup`` — an unresolved complaint, or another request past its due time, or one whose
  breach the service desk's escalation already saw (its ``sla_breach`` alert; the desk raises the same
  task then, and a breach it saw stays marked);
- ``survey_recovery`` — the customer's latest NPS answer is a detractor (≤ ``alerts.detractor_max_score``)
  given within ``survey_days``.

Every task is due the day it is generated (a birthday: on the day); left undone it is overdue the next
morning. Where a rule has no amount of its own, the priority is the customer's AUM at risk (0 when
unscored), so among equally urgent tasks the riskier customers come first.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from wealthcrm.config import Settings
from wealthcrm.vocab import AlertType, InteractionOutcome, Severity, TaskKind, TaskOutcome, Tier

#: alert types that Today shows as tasks instead of alerts (the alert stays on the customer's page)
ALERTS_AS_TASKS = frozenset({AlertType.risk_assessment_expired})
#: the kinds the nightly batch generates (and may close when their reason vanishes)
GENERATED_KINDS = frozenset(
    {
        TaskKind.retention,
        TaskKind.maturity,
        TaskKind.cadence,
        TaskKind.birthday,
        TaskKind.assessment_expiry,
        TaskKind.service_followup,
        TaskKind.survey_recovery,
    }
)
MANAGED_TIERS = frozenset({Tier.sunflower, Tier.diamond, Tier.private})
#: a contact with one of these outcomes did not reach the customer: it meets no cadence, closes no task
NOT_REACHED = frozenset({InteractionOutcome.no_answer})

#: the task outcome a logged contact gives the task it works; None: the task stays open (not reached)
TASK_OUTCOME_FOR: dict[InteractionOutcome, TaskOutcome | None] = {
    InteractionOutcome.reached: TaskOutcome.contacted,
    InteractionOutcome.interested: TaskOutcome.contacted,
    InteractionOutcome.sold: TaskOutcome.contacted,  # on a maturity task: reinvested (see task_outcome_for)
    InteractionOutcome.retained: TaskOutcome.retained,
    InteractionOutcome.declined: TaskOutcome.declined,
    InteractionOutcome.lost: TaskOutcome.lost,
    InteractionOutcome.other: TaskOutcome.contacted,
    InteractionOutcome.no_answer: None,
}


def task_outcome_for(kind: TaskKind, outcome: InteractionOutcome) -> TaskOutcome | None:
    """The outcome a contact with ``outcome`` gives a task of ``kind`` (None: it stays open)."""
    if kind is TaskKind.maturity and outcome is InteractionOutcome.sold:
        return TaskOutcome.reinvested
    return TASK_OUTCOME_FOR[outcome]


def is_save(kind: TaskKind, outcome: TaskOutcome | None) -> bool:
    """A retention task closed as ``retained`` is a save (the RM scorecard's retention count)."""
    return kind is TaskKind.retention and outcome is TaskOutcome.retained


def identity_of(source_key: str) -> str:
    """The identity part of a ``source_key`` (``retention:C001@2026-10`` → ``retention:C001``)."""
    return source_key.split("@", 1)[0]


# --- facts in, candidates out ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertFact:
    id: int
    alert_type: str
    severity: str
    action: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PositionFact:
    position_id: str
    product_code: str
    product_name: str
    principal: float
    maturity_on: date  # for a matured position: the day it closed
    matured: bool


@dataclass(frozen=True, slots=True)
class ComplaintFact:
    """An unresolved service request: a complaint, or any request past its due time (times local)."""

    request_id: str
    opened_at: datetime
    due_at: datetime | None
    status: str
    request_type: str = "complaint"


@dataclass(frozen=True, slots=True)
class SurveyFact:
    response_id: str
    answered_on: date
    nps_score: float


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the rules read about one active customer with an RM (the service gathers it in bulk)."""

    customer_id: str
    rm_id: str
    birth_date: date | None = None
    risk_level: str | None = None
    risk_assessed_on: date | None = None
    month: date | None = None  # the latest month with results (customer_months)
    tier: str | None = None
    stage: str | None = None
    aum: float | None = None
    previous_aum: float | None = None  # the month before ``month``
    p_loss: float | None = None
    aum_at_risk: float | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    last_contact: date | None = None  # the latest contact that reached the customer
    alerts: list[AlertFact] = field(default_factory=list)  # open ones
    positions: list[PositionFact] = field(default_factory=list)  # maturing or just matured
    last_opened_on: date | None = None  # the customer's latest position opened
    complaints: list[ComplaintFact] = field(default_factory=list)  # unresolved (see ComplaintFact)
    latest_nps: SurveyFact | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: TaskKind
    customer_id: str
    assignee_id: str
    identity: str
    period: str | None
    due_on: date
    priority_amount: float
    evidence: dict[str, Any]
    alert_id: int | None = None

    @property
    def source_key(self) -> str:
        return self.identity if self.period is None else f"{self.identity}@{self.period}"


_SEVERITY_RANK = {Severity.high.value: 0, Severity.medium.value: 1, Severity.low.value: 2}


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end (2024-02-29 + 12 → 2025-02-28)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def next_birthday(birth: date, on: date) -> date:
    """The first birthday on or after ``on`` (29 February falls on the 28th in other years)."""
    for year in (on.year, on.year + 1):
        day = date(year, birth.month, min(birth.day, monthrange(year, birth.month)[1]))
        if day >= on:
            return day
    raise AssertionError("unreachable")  # pragma: no cover


def cadence_days(c: CustomerFacts, settings: Settings) -> int | None:
    """The customer's minimum contact interval in days, or None when no cadence applies."""
    s = settings.cadence
    interval = {Tier.sunflower: s.sunflower_days, Tier.diamond: s.diamond_days, Tier.private: s.private_days}
    if c.tier in interval:
        return interval[Tier(c.tier)]
    if is_gold_prospect(c, settings):
        return s.gold_prospect_days
    return None


def is_gold_prospect(c: CustomerFacts, settings: Settings) -> bool:
    return (
        c.tier == Tier.gold
        and c.aum is not None
        and c.aum >= settings.cadence.gold_prospect_min_aum
        and c.previous_aum is not None
        and c.aum > c.previous_aum
    )


def _risk(c: CustomerFacts) -> float:
    return float(c.aum_at_risk or 0.0)


def _alert(a: AlertFact) -> dict[str, Any]:
    return {"id": a.id, "alert_type": a.alert_type, "severity": a.severity, "action": a.action}


def retention(c: CustomerFacts, on: date, settings: Settings) -> Candidate | None:
    s = settings.tasks
    scored = (
        c.p_loss is not None
        and c.aum_at_risk is not None
        and c.p_loss >= s.retention_min_p_loss
        and c.aum_at_risk >= s.retention_min_aum_at_risk
    )
    shown = sorted(
        (a for a in c.alerts if a.alert_type not in ALERTS_AS_TASKS),
        key=lambda a: (_SEVERITY_RANK.get(a.severity, 3), -a.id),
    )
    high = [a for a in shown if a.severity == Severity.high]
    if not scored and not high:
        return None
    amounts = [float(a.evidence.get(k) or 0) for a in high for k in ("amount", "principal")]
    priority = _risk(c) if scored else max([_risk(c), *amounts])
    # the scored month: a task worked this month is not raised again before next month's scores
    period = f"{c.month:%Y-%m}" if c.month is not None else f"alert-{high[0].id}"
    evidence = {
        "month": None if c.month is None else c.month.isoformat(),
        "at_risk": scored,
        "tier": c.tier,
        "stage": c.stage,
        "aum": c.aum,
        "p_loss": c.p_loss,
        "aum_at_risk": c.aum_at_risk,
        "reasons": [{k: r.get(k) for k in ("feature", "zh", "en")} for r in c.reasons[:3]],
        "alerts": [_alert(a) for a in shown],
    }
    return Candidate(
        TaskKind.retention,
        c.customer_id,
        c.rm_id,
        f"retention:{c.customer_id}",
        period,
        on,
        priority,
        evidence,
        alert_id=high[0].id if high else None,
    )


def maturities(c: CustomerFacts, on: date, settings: Settings) -> list[Candidate]:
    out = []
    ahead = on + timedelta(days=settings.tasks.maturity_days)
    since = on - timedelta(days=settings.alerts.reinvest_days)
    for p in c.positions:
        if not since <= p.maturity_on <= ahead:
            continue
        # past maturity: reinvested when anything was opened on or after the day it matured
        if p.maturity_on <= on and c.last_opened_on is not None and c.last_opened_on >= p.maturity_on:
            continue
        evidence = {
            "position_id": p.position_id,
            "product_code": p.product_code,
            "product_name": p.product_name,
            "principal": p.principal,
            "maturity_on": p.maturity_on.isoformat(),
            "matured": p.maturity_on <= on,
            "days": (p.maturity_on - on).days,
        }
        out.append(
            Candidate(
                TaskKind.maturity,
                c.customer_id,
                c.rm_id,
                f"maturity:{p.position_id}",
                None,
                on,
                p.principal,
                evidence,
            )
        )
    return out


def cadence(c: CustomerFacts, on: date, settings: Settings) -> Candidate | None:
    days = cadence_days(c, settings)
    if days is None:
        return None
    due = None if c.last_contact is None else c.last_contact + timedelta(days=days)
    if due is not None and due > on:
        return None
    evidence = {
        "tier": c.tier,
        "prospect": c.tier == Tier.gold,
        "interval_days": days,
        "last_contact": None if c.last_contact is None else c.last_contact.isoformat(),
        "days_since": None if c.last_contact is None else (on - c.last_contact).days,
    }
    period = "never" if due is None else due.isoformat()
    return Candidate(
        TaskKind.cadence, c.customer_id, c.rm_id, f"cadence:{c.customer_id}", period, on, _risk(c), evidence
    )


def cadence_rank(c: CustomerFacts, on: date) -> tuple[int, float, int, str]:
    """The order in which overdue contacts take an RM's places (:func:`cap_cadence`): higher tier first
    (a gold prospect after sunflower), then larger AUM, then longest without contact (never first)."""
    tier = -Tier(c.tier).rank if c.tier in {t.value for t in Tier} else 0
    waited = (on - c.last_contact).days if c.last_contact is not None else 10**6
    return tier, -float(c.aum or 0.0), -waited, c.customer_id


def cap_cadence(
    found: Iterable[Candidate],
    *,
    facts: Mapping[str, CustomerFacts],
    on: date,
    live: Collection[str],
    worked: Collection[str],
    limit: int,
) -> list[Candidate]:
    """``found`` with at most ``limit`` cadence tasks per RM (``tasks.cadence_max_per_rm``; 0: no cap).

    An RM whose whole book is overdue (after a holiday, or a first import) would otherwise get one
    contact task per customer at once. Candidates that already hold an open or snoozed task
    (identities in ``live``) keep it and take a place; the free places go to new candidates in
    :func:`cadence_rank` order; the others wait for a later night (nothing is created or closed for
    them). A candidate worked in its period (source key in ``worked``) is kept and takes no place.
    """
    found = list(found)
    if limit <= 0:
        return found
    places: dict[str, int] = {}
    for cand in found:
        if cand.kind is TaskKind.cadence and cand.identity in live:
            places[cand.assignee_id] = places.get(cand.assignee_id, 0) + 1
    fresh = [
        cand
        for cand in found
        if cand.kind is TaskKind.cadence and cand.identity not in live and cand.source_key not in worked
    ]
    fresh.sort(key=lambda cand: cadence_rank(facts[cand.customer_id], on))
    waiting: set[str] = set()
    for cand in fresh:
        taken = places.get(cand.assignee_id, 0)
        if taken < limit:
            places[cand.assignee_id] = taken + 1
        else:
            waiting.add(cand.source_key)
    return [cand for cand in found if cand.source_key not in waiting]


def birthday(c: CustomerFacts, on: date, settings: Settings) -> Candidate | None:
    if c.birth_date is None or cadence_days(c, settings) is None:
        return None
    day = next_birthday(c.birth_date, on)
    if (day - on).days > settings.tasks.birthday_days:
        return None
    evidence = {"birthday": day.isoformat(), "age": day.year - c.birth_date.year, "days": (day - on).days}
    return Candidate(
        TaskKind.birthday,
        c.customer_id,
        c.rm_id,
        f"birthday:{c.customer_id}",
        str(day.year),
        day,
        _risk(c),
        evidence,
    )


def assessment(c: CustomerFacts, on: date, settings: Settings, *, maturing: bool) -> Candidate | None:
    if cadence_days(c, settings) is None and not maturing:
        return None
    valid = settings.suitability.assessment_valid_months
    expires = None if c.risk_assessed_on is None else add_months(c.risk_assessed_on, valid)
    if expires is not None and (expires - on).days > settings.tasks.assessment_days:
        return None
    alert = next((a for a in c.alerts if a.alert_type == AlertType.risk_assessment_expired), None)
    evidence = {
        "risk_level": c.risk_level,
        "assessed_on": None if c.risk_assessed_on is None else c.risk_assessed_on.isoformat(),
        "expires_on": None if expires is None else expires.isoformat(),
        "expired": expires is None or expires <= on,
    }
    period = "none" if c.risk_assessed_on is None else c.risk_assessed_on.isoformat()
    return Candidate(
        TaskKind.assessment_expiry,
        c.customer_id,
        c.rm_id,
        f"assessment_expiry:{c.customer_id}",
        period,
        on,
        _risk(c),
        evidence,
        alert_id=None if alert is None else alert.id,
    )


def _breach_seen(c: CustomerFacts) -> set[str]:
    """Requests whose breach the service desk's escalation already saw: it raised their ``sla_breach``
    alert (an event alert, open until worked) at the first escalation step."""
    return {
        str(a.evidence["request_id"])
        for a in c.alerts
        if a.alert_type == AlertType.sla_breach and a.evidence.get("request_id")
    }


def complaints(c: CustomerFacts, on: date) -> list[Candidate]:
    """A task per unresolved complaint, and per other request past its due time: due before ``on``, or
    due on ``on`` and already breached in the desk's eyes (its escalation raised the ``sla_breach``
    alert and the same task, ``service_followup:<request>``, the moment the SLA was breached; a run of
    the same day must keep that task, not close it)."""
    seen = _breach_seen(c)

    def late(r: ComplaintFact) -> bool:
        return r.due_at is not None and r.due_at.date() < on

    return [
        Candidate(
            TaskKind.service_followup,
            c.customer_id,
            c.rm_id,
            f"service_followup:{r.request_id}",
            None,
            on,
            _risk(c),
            {
                "request_id": r.request_id,
                "opened_on": r.opened_at.date().isoformat(),
                "due_at": None if r.due_at is None else r.due_at.isoformat(timespec="minutes"),
                "status": r.status,
                "breached": late(r),
                "request_type": r.request_type,
            },
        )
        for r in c.complaints
        if r.request_type == "complaint" or late(r) or r.request_id in seen
    ]


def survey(c: CustomerFacts, on: date, settings: Settings) -> Candidate | None:
    a = c.latest_nps
    if a is None or a.nps_score > settings.alerts.detractor_max_score:
        return None
    if (on - a.answered_on).days > settings.tasks.survey_days or a.answered_on > on:
        return None
    evidence = {"response_id": a.response_id, "answered_on": a.answered_on.isoformat(), "nps": a.nps_score}
    return Candidate(
        TaskKind.survey_recovery,
        c.customer_id,
        c.rm_id,
        f"survey_recovery:{a.response_id}",
        None,
        on,
        _risk(c),
        evidence,
    )


def candidates(c: CustomerFacts, *, on: date, settings: Settings) -> list[Candidate]:
    """Every task the customer's facts call for on ``on`` (see the module docstring)."""
    matured = maturities(c, on, settings)
    found: list[Candidate | None] = [
        retention(c, on, settings),
        *matured,
        cadence(c, on, settings),
        birthday(c, on, settings),
        assessment(c, on, settings, maturing=bool(matured)),
        *complaints(c, on),
        survey(c, on, settings),
    ]
    return [x for x in found if x is not None]
