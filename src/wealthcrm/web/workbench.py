"""The RM workbench's views: the words of Today and Customer 360 in the user's language, chart data.

The data come from :mod:`wealthcrm.customers.service` (scope enforced there); this module only
labels codes and shapes what the templates and the charts draw.
"""

from __future__ import annotations

from typing import Any

from wealthcrm.alerts.actions import action_text
from wealthcrm.customers.service import AlertRow, Customer360
from wealthcrm.vocab import TIER_ORDER
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
