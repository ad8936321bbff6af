"""The RM workbench's views: the words of Today, its tasks and Customer 360 in the user's language, charts.

The data come from :mod:`wealthcrm.customers.service` (scope enforced there); this module only
labels codes and shapes what the templates and the charts draw.
"""

from __future__ import annotations

from typing import Any

from wealthcrm.alerts.actions import action_text
from wealthcrm.customers.service import AlertRow, Customer360
from wealthcrm.tasks.service import TaskRow
from wealthcrm.vocab import TIER_ORDER
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
