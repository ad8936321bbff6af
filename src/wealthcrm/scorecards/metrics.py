"""Every figure of the RM scorecard, with its definition in English and Chinese, in one place.

Pages, the API, the monthly report and ``docs/scorecards.md`` all show these texts; a test checks the
document lists every metric. In the definitions, *the month* is the scorecard's month, *W* the risk
window (``scorecards.window_months``, 12) and *h* the churn model's horizon (``churn.horizon_months``, 3).

*The book* of an RM in a month is the customers with a nightly result (``customer_months``) that month
whose RM at the end of the month is that RM (see :mod:`wealthcrm.scorecards.rules` for how the RM of a
past month is found). A team's figures add up its members' counts and amounts, and its rates are taken
from those sums; the branch's figures are computed over every customer, request and task of the branch,
including customers no RM can be named for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Unit(StrEnum):
    number = "number"  # a number of customers, events, tasks…
    cny = "cny"  # an amount in CNY
    share = "share"  # a rate between 0 and 1
    points = "points"  # a score on its own scale (per 100, NPS points)
    mean = "mean"  # an average on the scale the definition names


class Group(StrEnum):
    book = "book"
    retention = "retention"
    activity = "activity"
    compliance = "compliance"
    service = "service"
    surveys = "surveys"


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    group: Group
    unit: Unit
    #: True: more is better; False: less is better; None: neither (a size)
    higher_is_better: bool | None
    en: str
    zh: str
    definition_en: str
    definition_zh: str

    def label(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en

    def definition(self, locale: str) -> str:
        return self.definition_zh if locale.startswith("zh") else self.definition_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "group": self.group.value,
            "unit": self.unit.value,
            "higher_is_better": self.higher_is_better,
            "label": {"en": self.en, "zh": self.zh},
            "definition": {"en": self.definition_en, "zh": self.definition_zh},
        }


_M = Metric
_B, _R, _A = Group.book, Group.retention, Group.activity
_C, _S, _V = Group.compliance, Group.service, Group.surveys
_N, _Y, _P, _T, _X = Unit.number, Unit.cny, Unit.share, Unit.points, Unit.mean

_ALL = (
    # --- the book -----------------------------------------------------------------------------------
    _M("customers", _B, _N, None, "Customers", "管户客户数",
       "Customers in the book in the month.",
       "当月管户客户数（当月有夜间批处理结果、月末归属该客户经理的客户）。"),
    _M("sunflower_plus", _B, _N, True, "Sunflower and above", "金葵花及以上客户数",
       "Customers of the book whose effective tier in the month is sunflower, diamond or private.",
       "当月有效等级为金葵花、钻石或私人银行的管户客户数。"),
    _M("aum", _B, _Y, True, "AUM", "管户资产",
       "Month-average AUM (月日均) of the book's customers in the month, CNY.",
       "管户客户当月月日均资产合计（元）。"),
    _M("net_flow", _B, _Y, True, "Net flow", "资金净流入",
       "Money in minus money out over the month's transactions of the book's customers, CNY; moves "
       "between a customer's own accounts and product purchases or redemptions stay at the bank and are "
       "left out (counterparty own_account, product).",
       "管户客户当月交易的流入减流出（元）；本人账户间划转及产品申购赎回仍在本行，不计入"
       "（交易对手为 own_account、product）。"),
    _M("aum_retention", _B, _P, True, "AUM retention", "资产留存率",
       "AUM in the month of the customers who were in the book W months earlier, over their AUM then; "
       "a customer who has closed counts 0 and new money from them counts, so it can exceed 100%.",
       "W个月前的管户客户在当月的月日均资产之和 ÷ 他们当时的资产之和；已销户客户计0，"
       "追加资金计入，因此可超过100%。"),
    # --- retention against the model's expectation (the risk window) ---------------------------------
    _M("at_risk_customers", _R, _N, None, "Customers followed", "跟踪客户数",
       "Customers of the book the churn model scored (sunflower and above, relationship open) in any "
       "month from W months before the month to the month before. Each counts once, from the first such "
       "month (its entry), and is followed while the RM keeps them, up to the month.",
       "在当月之前W个月至上月之间任一月被流失模型评分（金葵花及以上、未销户）的管户客户；每位客户"
       "只计一次，自首次评分之月（入组月）起跟踪至当月，转给他人即停止跟踪。"),
    _M("customer_losses", _R, _N, False, "Customer losses", "客户流失数",
       "Customers followed who had a customer loss (downgraded below sunflower, or closed) after their "
       "entry while followed.",
       "跟踪期内发生客户流失（降至金葵花以下或销户）的跟踪客户数。"),
    _M("expected_losses", _R, _N, None, "Expected losses", "预期流失数",
       "Losses the churn model expected for the customers followed: the sum of 1 − (1 − P)^(k/h), P the "
       "probability of loss within h months at entry and k the months followed.",
       "流失模型对跟踪客户的预期流失数：Σ 1 − (1 − P)^(k/h)，P 为入组月模型给出的 h 个月内流失概率，"
       "k 为跟踪月数。"),
    _M("risk_adjusted_retention", _R, _T, True, "Risk-adjusted retention", "风险调整留存分",
       "Customers kept beyond the model's expectation per 100 customers followed: 100 × (expected − "
       "actual losses) ÷ customers followed. 0: as the book's risk predicted; above 0: better.",
       "每100位跟踪客户中比模型预期多留住的客户数：100 × (预期流失数 − 实际流失数) ÷ 跟踪客户数。"
       "0 表示与本客群风险预期一致，大于0 表示优于预期。"),
    _M("lost_aum", _R, _Y, False, "AUM of lost customers", "流失客户资产",
       "AUM at entry of the customers followed who were lost, CNY.",
       "流失的跟踪客户在入组月的资产之和（元）。"),
    _M("expected_lost_aum", _R, _Y, None, "Expected AUM of lost customers", "预期流失客户资产",
       "Sum over the customers followed of AUM at entry × (1 − (1 − P)^(k/h)), CNY (AUM at risk over "
       "the months followed).",
       "Σ 入组月资产 × (1 − (1 − P)^(k/h))（元），即跟踪期内的风险资产。"),
    _M("aum_outflow", _R, _Y, False, "AUM outflow", "资产流出",
       "Sum over the customers followed of their fall in month-average AUM from entry to the last month "
       "followed (0 after closing), counting rises as 0, CNY.",
       "跟踪客户自入组月至跟踪末月月日均资产的下降额之和（销户后资产计0，上升计0，元）。"),
    _M("expected_outflow", _R, _Y, None, "Expected AUM outflow", "预期资产流出",
       "Sum over the customers followed of AUM at entry × (1 − (1 − s)^(k/h)), s the model's expected "
       "outflow over h months at entry as a share of AUM, CNY.",
       "Σ 入组月资产 × (1 − (1 − s)^(k/h))（元），s 为入组月模型预期 h 个月资产流出占资产的比例。"),
    _M("risk_adjusted_outflow", _R, _T, True, "Risk-adjusted AUM retention", "风险调整资产留存分",
       "AUM kept beyond the model's expectation per 100 CNY of AUM at entry: 100 × (expected − actual "
       "outflow) ÷ AUM at entry of the customers followed.",
       "每100元入组资产中比模型预期多留住的资产：100 × (预期资产流出 − 实际资产流出) ÷ 跟踪客户入组资产。"),
    _M("asset_loss_events", _R, _N, False, "Asset-loss events", "资产流失事件数",
       "Asset-loss events (AUM down at least churn.asset_loss_drop against churn.asset_loss_lookback_months "
       "earlier) of the book's customers in the month.",
       "管户客户当月发生的资产流失事件数（资产较 churn.asset_loss_lookback_months 个月前下降不少于 "
       "churn.asset_loss_drop）。"),
    _M("asset_loss_amount", _R, _Y, False, "Assets lost", "资产流失金额",
       "CNY lost in those events (the earlier AUM minus the month's).",
       "上述事件流失的金额（前期资产减当月资产，元）。"),
    _M("retention_tasks_done", _R, _N, None, "Retention tasks worked", "挽留任务完成数",
       "Retention tasks on the RM's list marked done in the month, any outcome.",
       "当月标记完成的挽留任务数（任何结果）。"),
    _M("saves", _R, _N, True, "Saves", "挽留成功数",
       "Customers whose retention task the RM closed in the month with the outcome retained.",
       "当月挽留任务以“已挽留”结束的客户数。"),
    _M("tier_upgrades", _R, _N, True, "Tier upgrades", "升级客户数",
       "Customers of the book upgraded to a higher tier in the month.",
       "当月升级的管户客户数。"),
    _M("tier_downgrades", _R, _N, False, "Tier downgrades", "降级客户数",
       "Customers of the book downgraded in the month.",
       "当月降级的管户客户数。"),
    # --- activity -------------------------------------------------------------------------------------
    _M("contacts", _A, _N, True, "Contacts", "有效接触次数",
       "Contacts the RM logged in the month that reached the customer (any outcome but no answer).",
       "客户经理当月记录的有效接触次数（除未接通外的任何结果）。"),
    _M("digital_contact_share", _A, _P, True, "Remote contacts", "线上接触占比",
       "Share of those contacts made by video, WeChat, SMS or e-mail.",
       "上述接触中通过视频、微信、短信或邮件进行的比例。"),
    _M("cadence_customers", _A, _N, None, "Customers under the cadence", "应维护客户数",
       "Customers of the book the contact cadence covers at the month end: sunflower, diamond and private "
       "customers, and gold prospects (at least cadence.gold_prospect_min_aum and more AUM than the month "
       "before).",
       "月末适用维护频率的管户客户数：金葵花、钻石、私人银行客户，以及金卡潜力客户（资产不低于 "
       "cadence.gold_prospect_min_aum 且高于上月）。"),
    _M("contact_coverage", _A, _P, True, "Contact coverage", "维护达标率",
       "Share of the customers under the cadence whose latest contact that reached them (by anyone), up "
       "to the month end, is within their tier's interval (settings cadence.*).",
       "应维护客户中，截至月末最近一次有效接触（任何员工）在其等级维护间隔（cadence.*）之内的比例。"),
    _M("tasks_due", _A, _N, None, "Tasks due", "到期任务数",
       "Tasks on the RM's list due in the month, less those cancelled by the month end because their "
       "reason vanished.",
       "客户经理当月到期的任务数，不含月末前因原因消失而取消的任务。"),
    _M("task_completion", _A, _P, True, "Task completion", "任务完成率",
       "Share of the tasks due that were done by the month end.",
       "到期任务中月末前完成的比例。"),
    _M("task_timeliness", _A, _P, True, "Tasks on time", "任务及时率",
       "Share of the tasks due that were done on or before their due date.",
       "到期任务中在到期日当天或之前完成的比例。"),
    _M("products_per_customer", _A, _X, True, "Products per customer", "户均持有产品类数",
       "Asset classes held per customer of the book in the month (a class counts from a month-average "
       "balance of recommendations.deepen_min_class_amount).",
       "管户客户当月平均持有的资产类别数（月日均不低于 recommendations.deepen_min_class_amount 计为持有）。"),
    _M("investment_penetration", _A, _P, True, "Investment penetration", "投资产品渗透率",
       "Share of the book's customers holding a wealth-management product, fund, insurance, bond, "
       "precious metal or custody balance in the month.",
       "当月持有理财、基金、保险、国债、贵金属或第三方存管的管户客户比例。"),
    # --- compliance -----------------------------------------------------------------------------------
    _M("suitability_exceptions", _C, _N, False, "Suitability exceptions", "适当性例外申请数",
       "Override requests (例外审批) for the book's customers made in the month (audit log "
       "suitability.override_requested).",
       "当月为管户客户提出的适当性例外审批申请数（审计日志 suitability.override_requested）。"),
    # --- service ----------------------------------------------------------------------------------------
    _M("requests_due", _S, _N, None, "Requests due", "到期服务请求数",
       "Service requests assigned to the RM whose resolution due time falls in the month.",
       "分派给该客户经理、解决时限落在当月的服务请求数。"),
    _M("sla_compliance", _S, _P, True, "SLA compliance", "服务时效达标率",
       "Share of the requests due that were resolved by their due time.",
       "到期服务请求中在时限内解决的比例。"),
    _M("complaints", _S, _N, False, "Complaints", "投诉数",
       "Complaints opened in the month by the book's customers.",
       "管户客户当月发起的投诉数。"),
    _M("service_rating", _S, _X, True, "Service rating", "服务评分",
       "Mean customer rating (1–5) of the requests assigned to the RM resolved in the month.",
       "分派给该客户经理、当月解决的服务请求的客户平均评分（1–5）。"),
    _M("ratings", _S, _N, None, "Ratings", "评分数",
       "Requests behind the service rating.",
       "服务评分所依据的请求数。"),
    # --- surveys (the risk window) ------------------------------------------------------------------------
    _M("survey_responses", _V, _N, None, "Survey responses", "问卷答卷数",
       "Answers to the Net Promoter question given in the W months up to the month by customers of the "
       "book (their RM at the month they answered).",
       "当月及之前共W个月内管户客户（以答卷当月的客户经理归属）对净推荐问题的答卷数。"),
    _M("nps", _V, _T, True, "NPS", "净推荐值",
       "Net Promoter Score of those answers: % promoters (9–10) − % detractors (0–6), in points.",
       "上述答卷的净推荐值：推荐者（9–10分）占比 − 贬损者（0–6分）占比，单位为点。"),
    _M("satisfaction", _V, _X, True, "Satisfaction", "满意度",
       "Mean overall satisfaction (item SAT1, 1–7) of the book's answers in the same W months.",
       "同期管户客户答卷的总体满意度均值（题项 SAT1，1–7）。"),
    _M("rm_rating", _V, _X, True, "Rating of the RM", "客户经理评价",
       "Mean of the relationship-manager items (RM1–RM3, 1–7) of the book's answers in the same W months.",
       "同期管户客户答卷中客户经理维度题项（RM1–RM3，1–7）的均值。"),
)  # fmt: skip

#: every scorecard figure by key, in the order pages and documents show them
METRICS: dict[str, Metric] = {m.key: m for m in _ALL}
assert len(METRICS) == len(_ALL), "duplicate metric key"


def metric(key: str) -> Metric:
    return METRICS[key]


def render_markdown() -> str:
    """The metric table of docs/scorecards.md (between its ``metrics`` markers)."""
    better = {True: "higher", False: "lower", None: "–"}
    lines = [
        "| key | figure | 指标 | unit | better | definition | 定义 |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in METRICS.values():
        cells = [f"`{m.key}`", m.en, m.zh, m.unit.value, better[m.higher_is_better], m.definition_en]
        lines.append("| " + " | ".join([*cells, m.definition_zh]) + " |")
    return "\n".join(lines) + "\n"
