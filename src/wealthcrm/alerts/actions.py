"""Suggested action codes of the early-warning alerts, with their text in each language.

The alert row stores the code only; pages render :func:`action_text` in the user's language.
"""

from __future__ import annotations

from typing import Literal

from wealthcrm.vocab import AlertType

#: the action suggested for each alert type
ACTION_FOR: dict[AlertType, str] = {
    AlertType.large_outflow: "call_about_outflow",
    AlertType.outflow_other_bank: "call_about_outflow",
    AlertType.not_reinvested: "offer_reinvestment",
    AlertType.near_threshold: "review_portfolio",
    AlertType.watch: "retention_call",
    AlertType.payroll_stopped: "check_payroll",
    AlertType.activity_collapse: "care_contact",
    AlertType.complaint: "follow_up_complaint",
    AlertType.sla_breach: "escalate_request",
    AlertType.detractor: "follow_up_detractor",
    AlertType.rm_changed: "introduce_new_rm",
    AlertType.risk_assessment_expired: "renew_risk_assessment",
}

ACTION_TEXT: dict[str, dict[str, str]] = {
    "call_about_outflow": {
        "zh_CN": "致电客户了解资金去向，介绍在行内的替代安排",
        "en": "Call the customer about where the money went; offer an alternative here",
    },
    "offer_reinvestment": {
        "zh_CN": "联系客户办理到期续作，推荐适合的产品",
        "en": "Contact the customer to reinvest the matured product; suggest a suitable one",
    },
    "review_portfolio": {
        "zh_CN": "约客户做资产检视，防止跌出当前等级",
        "en": "Book a portfolio review before the customer falls out of the tier",
    },
    "retention_call": {
        "zh_CN": "在降级前进行挽留沟通",
        "en": "Make a retention call before the downgrade",
    },
    "check_payroll": {
        "zh_CN": "了解代发工资是否转到他行或工作变动",
        "en": "Ask whether the salary moved to another bank or the job changed",
    },
    "care_contact": {
        "zh_CN": "主动关怀，了解客户近况与需求",
        "en": "Make a care contact and ask about the customer's needs",
    },
    "follow_up_complaint": {
        "zh_CN": "跟进投诉处理，回访客户",
        "en": "Follow up the complaint and call the customer back",
    },
    "escalate_request": {
        "zh_CN": "服务请求已超时，升级处理并致歉",
        "en": "The request breached its SLA: escalate it and apologise",
    },
    "follow_up_detractor": {
        "zh_CN": "回访贬损者，了解不满原因",
        "en": "Call the detractor back and ask what went wrong",
    },
    "introduce_new_rm": {
        "zh_CN": "完成客户交接，新客户经理主动联系客户",
        "en": "Complete the handover; the new RM introduces themselves",
    },
    "renew_risk_assessment": {
        "zh_CN": "邀请客户重新完成风险评估",
        "en": "Invite the customer to renew the risk assessment",
    },
}


def action_text(code: str, locale: Literal["zh_CN", "en"] = "zh_CN") -> str:
    """The text of an action code in ``locale``; an unknown code is returned as it is."""
    return ACTION_TEXT.get(code, {}).get(locale, code)
