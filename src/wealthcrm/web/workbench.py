"""The RM workbench's views: the words of Today, its tasks and Customer 360 in the user's language, charts.

The data come from :mod:`wealthcrm.customers.service` (scope enforced there); this module only
labels codes and shapes what the templates and the charts draw. Customer 360's service, entitlement
and survey panels read :mod:`wealthcrm.service.service`, :mod:`wealthcrm.entitlements.service` and
:mod:`wealthcrm.surveys.customer` for a customer the page has already opened in the caller's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.alerts.actions import action_text
from wealthcrm.config import Settings
from wealthcrm.customers.service import AlertRow, Customer360
from wealthcrm.entitlements import service as entitlements
from wealthcrm.entitlements.service import Balance
from wealthcrm.service import service as requests
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.rules import OPEN_STATES
from wealthcrm.surveys.customer import DimensionScore, ResponseScores, customer_scores
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.tasks.service import TaskRow
from wealthcrm.vocab import TIER_ORDER, Tier
from wealthcrm.web.format import format_cny, format_share
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.overview import LABELS as TIER_LABELS

STAGE_LABELS = {
    "onboarding": N_("Onboarding"),
    "growing": N_("Growing"),
    "mature": N_("Mature"),
    "declining": N_("Declining"),
    "churned": N_("Churned"),
    "won_back": N_("Won back"),
}
ALERT_LABELS = {
    "large_outflow": N_("Large outflow"),
    "outflow_other_bank": N_("Transfer out to another bank"),
    "not_reinvested": N_("Matured, not reinvested"),
    "near_threshold": N_("Near the tier threshold"),
    "watch": N_("On watch"),
    "payroll_stopped": N_("Payroll credit stopped"),
    "activity_collapse": N_("Activity collapsing"),
    "complaint": N_("Complaint"),
    "sla_breach": N_("SLA breach"),
    "detractor": N_("Survey detractor"),
    "rm_changed": N_("RM changed"),
    "risk_assessment_expired": N_("Risk assessment expired"),
}
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
ASSET_LABELS = {
    "demand_deposit": N_("Demand deposit"),
    "time_deposit": N_("Time deposit"),
    "wmp": N_("Wealth-management product"),
    "fund": N_("Mutual fund"),
    "insurance": N_("Insurance"),
    "bond": N_("Treasury bond"),
    "precious_metal": N_("Precious metals"),
    "custody": N_("Third-party custody"),
}
CHANNEL_LABELS = {
    "phone": N_("Phone"),
    "visit": N_("Visit"),
    "branch": N_("At the branch"),
    "video": N_("Video call"),
    "wechat": N_("WeChat"),
    "sms": N_("SMS"),
    "email": N_("Email"),
}
PURPOSE_LABELS = {
    "service": N_("Service"),
    "review": N_("Portfolio review"),
    "retention": N_("Retention"),
    "sales": N_("Sales"),
    "maturity": N_("Maturity"),
    "complaint_followup": N_("Complaint follow-up"),
    "care": N_("Care"),
    "other": N_("Other"),
}
OUTCOME_LABELS = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "declined": N_("Declined"),
    "interested": N_("Interested"),
    "sold": N_("Sold"),
    "retained": N_("Retained"),
    "lost": N_("Lost"),
    "other": N_("Other"),
}
POSITION_LABELS = {"open": N_("Held"), "matured": N_("Matured"), "redeemed": N_("Redeemed")}
GENDER_LABELS = {"M": N_("Male"), "F": N_("Female")}
STATUS_LABELS = {"active": N_("Active"), "closed": N_("Closed")}
ALL_LABELS: dict[str, dict[str, str]] = {
    "tier": {k: v for k, v in TIER_LABELS.items() if k in {t.value for t in TIER_ORDER}},
    "stage": STAGE_LABELS,
    "alert": ALERT_LABELS,
    "severity": SEVERITY_LABELS,
    "asset": ASSET_LABELS,
    "channel": CHANNEL_LABELS,
    "purpose": PURPOSE_LABELS,
    "outcome": OUTCOME_LABELS,
    "position": POSITION_LABELS,
    "gender": GENDER_LABELS,
    "status": STATUS_LABELS,
}


def labeller(_: Translator) -> Any:
    """``label(kind, code)`` for templates: the code's word in the user's language (code if unknown)."""

    def label(kind: str, code: str | None) -> str:
        if code is None:
            return "—"
        known = ALL_LABELS[kind].get(code)
        return _(known) if known else code

    return label


def reason_text(reason: dict[str, Any], _: Translator) -> str:
    """A churn reason in the user's language (the nightly stores both)."""
    key = "zh" if _.locale == "zh_CN" else "en"
    return str(reason.get(key) or reason.get("en") or reason.get("feature") or "")


def alert_action(alert: AlertRow, _: Translator) -> str:
    return action_text(alert.action, _.locale)


def chart_data(view: Customer360) -> dict[str, Any]:
    """What the page's charts draw: AUM per asset class per month, tier and P(loss) per month."""
    classes = [c for c in ASSET_LABELS if c in view.aum_by_class]
    return {
        "aum": {
            "months": [m.strftime("%Y-%m") for m in view.aum_months],
            "classes": classes,
            "series": {c: view.aum_by_class[c] for c in classes},
        },
        "history": {
            "months": [m.month.strftime("%Y-%m") for m in view.history],
            "tiers": [m.tier for m in view.history],
            "p_loss": [m.p_loss for m in view.history],
            "aum_at_risk": [m.aum_at_risk for m in view.history],
        },
    }


def chart_labels(_: Translator) -> dict[str, Any]:
    return {
        "locale": _.locale,
        "tiers": [t.value for t in TIER_ORDER],
        "tier_names": {t.value: _(TIER_LABELS[t.value]) for t in TIER_ORDER},
        "asset_names": {code: _(label) for code, label in ASSET_LABELS.items()},
        "tier": _("Tier"),
        "p_loss": _("Probability of loss"),
        "aum_at_risk": _("AUM at risk"),
    }


# --- tasks (Today's list, the tasks panel) ------------------------------------------------------------

TASK_KIND_LABELS = {
    "retention": N_("Retention"),
    "maturity": N_("Maturity"),
    "cadence": N_("Contact due"),
    "birthday": N_("Birthday"),
    "assessment_expiry": N_("Risk assessment"),
    "service_followup": N_("Complaint follow-up"),
    "follow_up": N_("Follow-up"),
    "handover": N_("Handover"),
    "survey_recovery": N_("Survey detractor"),
    "qualification_expiry": N_("Qualification expiring"),
    "other": N_("Other"),
}
TASK_OUTCOME_LABELS = {
    "retained": N_("Retained"),
    "reinvested": N_("Reinvested"),
    "contacted": N_("Contacted"),
    "no_answer": N_("No answer"),
    "declined": N_("Declined"),
    "lost": N_("Lost"),
    "not_needed": N_("Not needed"),
}
#: the purpose a contact logged from a task of each kind starts with
PURPOSE_FOR_KIND = {
    "retention": "retention",
    "maturity": "maturity",
    "cadence": "review",
    "birthday": "care",
    "assessment_expiry": "service",
    "service_followup": "complaint_followup",
    "survey_recovery": "complaint_followup",
}
SNOOZE_DAYS = (1, 3, 7)
ALL_LABELS["task"] = TASK_KIND_LABELS
ALL_LABELS["task_outcome"] = TASK_OUTCOME_LABELS


def _day(text: Any) -> str:
    return str(text or "—")[:10]


def task_reason(task: TaskRow, _: Translator) -> str:
    """Why the task is on the list, in the reader's language, from the facts stored with it."""
    e = task.evidence
    locale = _.locale
    label = labeller(_)
    kind = task.kind
    if kind == "retention":
        if e.get("at_risk"):
            return _("AUM at risk {amount} (probability of loss {share})").format(
                amount=format_cny(float(e.get("aum_at_risk") or 0), locale),
                share=format_share(float(e.get("p_loss") or 0), locale),
            )
        alerts = [a for a in e.get("alerts", []) if a.get("severity") == "high"]
        names = ", ".join(label("alert", a.get("alert_type")) for a in alerts) or "—"
        return _("High-severity alert: {alerts}").format(alerts=names)
    if kind == "maturity":
        values = {
            "product": e.get("product_name") or e.get("product_code") or "",
            "amount": format_cny(float(e.get("principal") or 0), locale),
            "date": _day(e.get("maturity_on")),
        }
        if e.get("matured"):
            return _("{product} ({amount}) matured on {date} and nothing was reinvested yet").format(**values)
        return _("{product} ({amount}) matures on {date}: propose a reinvestment").format(**values)
    if kind == "cadence":
        tier = _("Gold prospect") if e.get("prospect") else label("tier", e.get("tier"))
        if e.get("last_contact") is None:
            return _("Never contacted: {tier} customers are contacted every {interval} days").format(
                tier=tier, interval=e.get("interval_days")
            )
        return _("No contact for {days} days: {tier} customers are contacted every {interval} days").format(
            days=e.get("days_since"), tier=tier, interval=e.get("interval_days")
        )
    if kind == "birthday":
        return _("Birthday on {date} (turns {age})").format(date=_day(e.get("birthday")), age=e.get("age"))
    if kind == "assessment_expiry":
        if e.get("assessed_on") is None:
            return _("No risk assessment on record: invite the customer to complete one")
        if e.get("expired"):
            return _("Risk assessment expired on {date}: invite the customer to renew it").format(
                date=_day(e.get("expires_on"))
            )
        return _("Risk assessment expires on {date}: invite the customer to renew it").format(
            date=_day(e.get("expires_on"))
        )
    if kind == "service_followup":
        if e.get("request_type", "complaint") == "complaint":
            text = _("Open complaint {request} since {date}: follow up and call the customer back")
        else:
            text = _("Service request {request} of {date} is past its due time: escalate it and apologise")
        text = text.format(request=e.get("request_id"), date=_day(e.get("opened_on")))
        return f"{text} · {_('SLA breached')}" if e.get("breached") else text
    if kind == "survey_recovery":
        return _("Survey detractor (NPS {score} on {date}): call back and ask what went wrong").format(
            score=int(float(e.get("nps") or 0)), date=_day(e.get("answered_on"))
        )
    if kind == "follow_up":
        text = _("Follow-up of the contact on {date}").format(date=_day(e.get("contacted_on")))
        return f"{text}: {task.note}" if task.note else text
    return task.note or label("task", kind)


def task_reasons(task: TaskRow, translators: dict[str, Translator]) -> dict[str, str]:
    """The reason in every language (the JSON API's ``reason``)."""
    return {locale: task_reason(task, t) for locale, t in translators.items()}


def task_due(task: TaskRow, _: Translator) -> str:
    """When the task is due, as the list states it."""
    if task.status == "snoozed" and task.snoozed_until is not None:
        return _("Snoozed until {date}").format(date=task.snoozed_until.isoformat())
    if task.overdue:
        return _("Overdue since {date}").format(date=task.due_on.isoformat())
    if task.due_today:
        return _("Due today")
    return task.due_on.isoformat()


# --- Customer 360: service, entitlements, survey ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service request as the 360's Service panel shows it (times: stored, naive UTC)."""

    request_id: str
    request_type: str
    status: str
    is_open: bool
    channel: str
    priority: str
    opened_at: datetime
    acknowledge_due_at: datetime | None
    due_at: datetime | None
    resolved_at: datetime | None
    breached: bool
    acknowledged_late: bool
    remaining_hours: float | None
    paused: bool
    rating: int | None
    summary: str | None

    def to_dict(self) -> dict[str, Any]:
        def z(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat() + "Z"

        return {
            "request_id": self.request_id,
            "request_type": self.request_type,
            "status": self.status,
            "open": self.is_open,
            "channel": self.channel,
            "priority": self.priority,
            "opened_at": z(self.opened_at),
            "acknowledge_due_at": z(self.acknowledge_due_at),
            "due_at": z(self.due_at),
            "resolved_at": z(self.resolved_at),
            "breached": self.breached,
            "acknowledged_late": self.acknowledged_late,
            "remaining_hours": None if self.remaining_hours is None else round(self.remaining_hours, 2),
            "paused": self.paused,
            "rating": self.rating,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class EntitlementView:
    """This calendar year's benefits: the tier they follow (kept through the downgrade grace period)."""

    year: int
    tier: str | None  # the benefits' tier (None: never tiered, no benefits)
    current_tier: str | None  # the tier of the latest month
    grace_until: date | None  # a downgraded customer keeps ``tier``'s benefits through this month
    benefits: list[Balance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "tier": self.tier,
            "current_tier": self.current_tier,
            "grace_until": None if self.grace_until is None else self.grace_until.strftime("%Y-%m"),
            "benefits": [
                {
                    "benefit": b.benefit,
                    "eligible": b.eligible,
                    "quota": b.quota,
                    "used": b.used,
                    "remaining": b.remaining,
                }
                for b in self.benefits
            ],
        }


@dataclass(frozen=True, slots=True)
class Customer360Extras:
    """What the 360 adds from the service desk, the benefit catalogue and surveys."""

    service_requests: list[ServiceRow]
    service_total: int
    entitlements: EntitlementView
    surveys: list[ResponseScores]  # newest first: the latest, then the history

    def to_dict(self) -> dict[str, Any]:
        return {
            "service_requests": [r.to_dict() for r in self.service_requests],
            "service_requests_total": self.service_total,
            "entitlements": self.entitlements.to_dict(),
            "surveys": [s.to_dict() for s in self.surveys],
        }


#: service requests listed on the 360 (open ones first, then the newest)
SERVICE_ROWS = 20


def service_rows(
    session: Session, *, user: Any, customer_id: str, now: datetime, calendar: WorkingCalendar
) -> tuple[int, list[ServiceRow]]:
    """The customer's requests, open ones first (soonest due first), then the others newest first."""
    page = requests.list_requests(session, user=user, customer_id=customer_id, limit=500)
    rows = []
    for r in page.items:
        sla = requests.sla_view(r, now=now, calendar=calendar)
        rows.append(
            ServiceRow(
                request_id=r.request_id,
                request_type=str(r.request_type),
                status=str(r.status),
                is_open=r.status in OPEN_STATES,
                channel=str(r.channel),
                priority=str(r.priority),
                opened_at=r.opened_at,
                acknowledge_due_at=sla.acknowledge_due_at,
                due_at=sla.due_at,
                resolved_at=r.resolved_at,
                breached=sla.breached,
                acknowledged_late=sla.acknowledged_late,
                remaining_hours=sla.remaining_hours,
                paused=sla.paused,
                rating=r.rating,
                summary=r.summary,
            )
        )
    far = datetime.max
    opened = sorted((r for r in rows if r.is_open), key=lambda r: (r.due_at or far, r.request_id))
    done = sorted((r for r in rows if not r.is_open), key=lambda r: (r.opened_at, r.request_id), reverse=True)
    return page.total, (opened + done)[:SERVICE_ROWS]


def _months_after(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def entitlement_view(
    session: Session, *, user: Any, view: Customer360, now: datetime, settings: Settings
) -> EntitlementView:
    """This year's benefits (:func:`wealthcrm.entitlements.service.remaining`) and the grace period:
    when the benefits' tier is above the latest month's, they last ``entitlements.grace_months`` months
    after the last month in that tier."""
    balances = entitlements.remaining(
        session, user=user, customer_id=view.customer_id, now=now, settings=settings
    )
    tier = balances[0].tier if balances else None
    current = view.current.tier if view.current is not None else None
    grace_until = None
    if tier is not None and current is not None and Tier(tier).rank > Tier(current).rank:
        held = [m.month for m in view.history if m.tier == tier]
        if held:
            grace_until = _months_after(max(held), settings.entitlements.grace_months)
    year = WorkingCalendar.from_settings(settings.sla).to_local(now).year
    return EntitlementView(year, tier, current, grace_until, balances)


def customer_extras(
    session: Session,
    *,
    user: Any,
    view: Customer360,
    now: datetime,
    settings: Settings,
    questionnaires: Mapping[str, Questionnaire],
) -> Customer360Extras:
    """The service, entitlement and survey panels of a customer ``view`` already opened in scope."""
    calendar = WorkingCalendar.from_settings(settings.sla)
    total, rows = service_rows(session, user=user, customer_id=view.customer_id, now=now, calendar=calendar)
    return Customer360Extras(
        service_requests=rows,
        service_total=total,
        entitlements=entitlement_view(session, user=user, view=view, now=now, settings=settings),
        surveys=customer_scores(session, customer_id=view.customer_id, questionnaires=questionnaires),
    )


NPS_CLASS_LABELS = {"promoter": N_("Promoter"), "passive": N_("Passive"), "detractor": N_("Detractor")}
ALL_LABELS["nps_class"] = NPS_CLASS_LABELS


def local_time(at: datetime | None, settings: Settings) -> str:
    """A stored instant (naive UTC) as the branch's local time, to the minute."""
    if at is None:
        return "—"
    return f"{WorkingCalendar.from_settings(settings.sla).to_local(at):%Y-%m-%d %H:%M}"


def local_text(text: dict[str, str], _: Translator, default: str = "") -> str:
    """A ``{"zh": …, "en": …}`` text in the reader's language."""
    return text.get("zh" if _.locale == "zh_CN" else "en") or text.get("en") or default


def weakest(scores: ResponseScores) -> DimensionScore | None:
    """The response's lowest-scored dimension (the first of equals), or None."""
    scored = [d for d in scores.dimensions if d.score is not None]
    return min(scored, key=lambda d: d.score or 0.0) if scored else None
