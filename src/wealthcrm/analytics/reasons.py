"""Why a customer is at risk, in words an RM understands: the largest feature contributions as sentences.

The contributions are LightGBM's ``pred_contrib`` (each feature's share of the raw log-odds, SHAP
values for trees). The features that raise the risk most become sentences in English and Chinese,
filled with the customer's own values: ``aum_chg_3m = -0.34`` → "AUM down 34% in 3 months" /
"近3个月资产下降34%". Every feature in :data:`wealthcrm.analytics.features.FEATURES` has a template
(a test checks this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Template:
    """``kind`` says how the value is shown: pct (a share, ×100), change (signed share: up/down),
    count, months, years, cny, flag (0/1), ratio (a trend, 1 = steady)."""

    kind: str
    en: str
    zh: str
    en_missing: str = ""
    zh_missing: str = ""


_UP_DOWN = {"en": ("up", "down"), "zh": ("上升", "下降")}

TEMPLATES: dict[str, Template] = {
    "aum": Template("cny", "AUM {v} CNY", "资产{v}元"),
    "aum_end_ratio": Template(
        "change_from_one", "Month-end balance {dir} {v}% on the month average", "月末余额较月日均{dir}{v}%"
    ),
    "aum_chg_1m": Template("change", "AUM {dir} {v}% in 1 month", "近1个月资产{dir}{v}%"),
    "aum_chg_3m": Template("change", "AUM {dir} {v}% in 3 months", "近3个月资产{dir}{v}%"),
    "aum_chg_6m": Template("change", "AUM {dir} {v}% in 6 months", "近6个月资产{dir}{v}%"),
    "aum_volatility_6m": Template("pct", "AUM swings {v}% month to month", "近6个月资产波动{v}%"),
    "demand_share": Template("pct", "{v}% of assets in demand deposits", "活期存款占资产{v}%"),
    "term_share": Template(
        "pct", "{v}% of assets in time deposits, WMPs and bonds", "定期、理财和债券占资产{v}%"
    ),
    "market_share": Template(
        "pct", "{v}% of assets in funds, gold and custody", "基金、贵金属和三方存管占资产{v}%"
    ),
    "demand_chg_3m": Template(
        "change", "Demand deposits {dir} by {v}% of AUM in 3 months", "近3个月活期存款{dir}，相当于资产的{v}%"
    ),
    "term_chg_3m": Template(
        "change",
        "Time deposits, WMPs and bonds {dir} by {v}% of AUM in 3 months",
        "近3个月定期、理财和债券{dir}，相当于资产的{v}%",
    ),
    "market_chg_3m": Template(
        "change",
        "Funds, gold and custody {dir} by {v}% of AUM in 3 months",
        "近3个月基金、贵金属和三方存管{dir}，相当于资产的{v}%",
    ),
    "tier_rank": Template("tier", "Tier: {v}", "客户等级：{v}"),
    "tier_headroom": Template(
        "change", "AUM {v}% {dir_above} the tier threshold", "资产{dir_above}等级门槛{v}%"
    ),
    "watch": Template("flag", "On watch: AUM below the tier threshold", "关注期：资产低于等级门槛"),
    "months_below": Template(
        "count", "{v} month{s} in a row below the tier threshold", "连续{v}个月低于等级门槛"
    ),
    "net_flow_3m": Template(
        "change", "Net {flow} of {v}% of AUM in 3 months", "近3个月资金净{flow}，相当于资产的{v}%"
    ),
    "outflow_3m": Template("pct", "Money out in 3 months: {v}% of AUM", "近3个月资金流出占资产{v}%"),
    "other_bank_out_3m": Template(
        "pct", "Transfers to other banks: {v}% of AUM in 3 months", "近3个月转出他行资金占资产{v}%"
    ),
    "other_bank_out_count_3m": Template(
        "count", "{v} transfer{s} to other banks in 3 months", "近3个月转出他行{v}笔"
    ),
    "largest_out_3m": Template("pct", "Largest single outflow: {v}% of AUM", "单笔最大流出占资产{v}%"),
    "payroll_3m": Template("count", "{v} payroll credit{s} in 3 months", "近3个月代发工资{v}笔"),
    "payroll_stopped": Template("flag", "Payroll credits (代发) stopped", "代发工资已停止"),
    "txn_count_3m": Template("count", "{v} transaction{s} in 3 months", "近3个月交易{v}笔"),
    "txn_trend": Template(
        "ratio", "Transactions {dir} {v}% on the 3 months before", "交易笔数较前3个月{dir}{v}%"
    ),
    "logins_3m": Template("number", "{v} logins a month", "月均登录{v}次"),
    "login_trend": Template(
        "ratio", "Logins {dir} {v}% on the 3 months before", "登录次数较前3个月{dir}{v}%"
    ),
    "digital_txn_trend": Template(
        "ratio", "Digital transactions {dir} {v}% on the 3 months before", "线上交易较前3个月{dir}{v}%"
    ),
    "open_positions": Template("count", "{v} product{s} held", "持有{v}个产品"),
    "positions_chg_3m": Template(
        "signed_count", "Products held {dir} by {v} in 3 months", "近3个月持有产品{dir}{v}个"
    ),
    "maturing_next_3m": Template(
        "count", "{v} product{s} maturing in the next 3 months", "未来3个月有{v}笔产品到期"
    ),
    "maturing_next_3m_share": Template(
        "pct", "{v}% of AUM matures in the next 3 months", "未来3个月到期金额占资产{v}%"
    ),
    "matured_3m": Template("count", "{v} product{s} matured in 3 months", "近3个月{v}笔产品到期"),
    "matured_not_reinvested_3m": Template(
        "count", "{v} product{s} matured, not reinvested", "{v}笔产品到期未续作"
    ),
    "redeemed_3m": Template("count", "{v} product{s} redeemed early in 3 months", "近3个月提前赎回{v}笔产品"),
    "contacts_3m": Template("count", "{v} RM contact{s} in 3 months", "近3个月客户经理联系{v}次"),
    "reached_6m": Template("count", "Reached {v} time{s} in 6 months", "近6个月有效联系{v}次"),
    "months_since_reached": Template(
        "months",
        "Last reached {v} month{s} ago",
        "{v}个月未有效联系",
        "Never reached by the RM on file",
        "无有效联系记录",
    ),
    "complaint_followups_6m": Template(
        "count", "{v} complaint follow-up{s} in 6 months", "近6个月投诉跟进{v}次"
    ),
    "retention_contacts_3m": Template(
        "count", "{v} retention contact{s} in 3 months", "近3个月挽留联系{v}次"
    ),
    "rm_count_12m": Template("count", "Served by {v} RM{s} in 12 months", "近12个月由{v}位客户经理服务"),
    "rm_left_6m": Template("flag", "Their RM left the bank in the last 6 months", "原客户经理近6个月离职"),
    "rm_tenure_months": Template(
        "months",
        "RM with the branch for {v} month{s}",
        "客户经理入行{v}个月",
        "No RM contact on file",
        "无客户经理联系记录",
    ),
    "rm_relationship_months": Template(
        "months",
        "With the current RM for {v} month{s}",
        "与现任客户经理建立联系{v}个月",
        "No RM contact on file",
        "无客户经理联系记录",
    ),
    "age_years": Template("years", "Aged {v}", "年龄{v}岁"),
    "tenure_months": Template("months", "Customer for {v} month{s}", "开户{v}个月"),
    "risk_assessment_age_months": Template(
        "months",
        "Risk assessment {v} month{s} old",
        "风险测评已{v}个月",
        "No valid risk assessment on file",
        "无有效风险测评",
    ),
    "risk_assessment_expired": Template("flag", "Risk assessment expired", "风险测评已过期"),
    "complaints_3m": Template("count", "{v} complaint{s} in 3 months", "近3个月投诉{v}次"),
    "sla_breaches_3m": Template(
        "count", "{v} service request{s} past the SLA in 3 months", "近3个月{v}笔服务请求超时"
    ),
    "open_complaints": Template("count", "{v} complaint{s} still open", "{v}笔投诉尚未解决"),
    "last_nps": Template(
        "count",
        "Last NPS answer: {v} of 10",
        "最近一次推荐意愿评分：{v}分（满分10）",
        en_missing="Never surveyed",
        zh_missing="尚未参加满意度调查",
    ),
}

_TIERS = {
    "en": ["mass", "gold", "sunflower", "diamond", "private"],
    "zh": ["大众", "金卡", "金葵花", "钻石", "私人银行"],
}


def _fill(template: Template, lang: str, value: float) -> str:
    text = template.en if lang == "en" else template.zh
    if value is None or (isinstance(value, float) and math.isnan(value)):
        missing = template.en_missing if lang == "en" else template.zh_missing
        return missing or (f"{text.split('{')[0].strip()}: no data" if lang == "en" else "无数据")
    up, down = _UP_DOWN[lang]
    kind = template.kind
    fields: dict[str, Any] = {"s": "" if round(abs(value)) == 1 else "s"}
    if kind in ("change", "change_from_one", "ratio"):
        base = value if kind == "change" else value - 1.0
        fields["v"] = f"{abs(base) * 100:.0f}"
        fields["dir"] = up if base >= 0 else down
        fields["dir_above"] = (
            ("above" if base >= 0 else "below") if lang == "en" else ("高于" if base >= 0 else "低于")
        )
        fields["flow"] = (
            ("inflow" if base >= 0 else "outflow") if lang == "en" else ("流入" if base >= 0 else "流出")
        )
    elif kind == "signed_count":
        fields["v"] = f"{abs(value):.0f}"
        fields["dir"] = up if value >= 0 else down
    elif kind == "pct":
        fields["v"] = f"{value * 100:.0f}"
    elif kind == "cny":
        fields["v"] = f"{value:,.0f}"
    elif kind == "tier":
        fields["v"] = _TIERS[lang][int(value)]
    elif kind == "flag":
        return text if value >= 0.5 else ("not " + text if lang == "en" else "非" + text)
    elif kind in ("number",):
        fields["v"] = f"{value:.1f}"
    else:  # count, months, years
        fields["v"] = f"{value:.0f}"
    return text.format(**fields)


def informative(feature: str, value: float) -> bool:
    """Whether a value makes a useful reason: "AUM up 0% in 3 months" or "not: risk assessment expired"
    raise the score only against the model's baseline and tell an RM nothing, so they are skipped."""
    if value is None or math.isnan(value):
        return True
    kind = TEMPLATES[feature].kind
    if kind == "flag":
        return value >= 0.5
    if kind in ("change", "change_from_one", "ratio"):
        base = value if kind == "change" else value - 1.0
        return round(abs(base) * 100) >= 1
    return True


def sentence(feature: str, value: float) -> dict[str, str]:
    """The English and Chinese sentence for one feature's value."""
    template = TEMPLATES[feature]
    return {"en": _fill(template, "en", value), "zh": _fill(template, "zh", value)}


def explain(
    contributions: pd.DataFrame, features: pd.DataFrame, *, top: int = 3
) -> list[list[dict[str, Any]]]:
    """For each row, the ``top`` features that raise the risk most (positive contribution), largest first:
    ``{"feature", "contribution", "value", "en", "zh"}``. ``contributions`` as from
    :meth:`ChurnModel.contributions` (a ``bias`` column is ignored), ``features`` the same rows."""
    names = [c for c in contributions.columns if c != "bias"]
    values = contributions[names].to_numpy(dtype=np.float64)
    raw = features[names].to_numpy(dtype=np.float64)
    out: list[list[dict[str, Any]]] = []
    for i in range(len(values)):
        reasons: list[dict[str, Any]] = []
        for j in np.argsort(-values[i], kind="stable"):
            if values[i, j] <= 0 or len(reasons) == top:
                break
            value = float(raw[i, j])
            if not informative(names[j], value):
                continue
            reasons.append(
                {
                    "feature": names[j],
                    "contribution": round(float(values[i, j]), 4),
                    "value": None if math.isnan(value) else value,
                    **sentence(names[j], value),
                }
            )
        out.append(reasons)
    return out
