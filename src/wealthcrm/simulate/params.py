"""Every tunable number of the synthetic branch, in one frozen dataclass, and the run summary.

The defaults are calibrated so that the branch looks like a real one whose extract covers gold
customers and up (see ``docs/simulator.md`` for the figures they produce): most customers gold, about a
quarter sunflower or above, a few diamond and private; 8–15% of sunflower+ customers lost a year; an
oracle ROC AUC of the true loss probability between 0.80 and 0.95.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SimParams:
    """Parameters of the generative model; monthly rates unless the name says otherwise."""

    # --- population -------------------------------------------------------------------------------
    #: Median and log-sd of total AUM at the start (CNY, lognormal truncated at ``wealth_floor``).
    wealth_median: float = 125_000.0
    wealth_sigma: float = 1.25
    #: The extract covers customers who were gold or above: nobody starts below this AUM.
    wealth_floor: float = 55_000.0
    #: Share of customers drawn from a Pareto tail instead (business owners, heirs), its minimum and α.
    tail_share: float = 0.015
    tail_min: float = 2_000_000.0
    tail_alpha: float = 1.25
    #: Share of customers onboarded during the simulated window (the rest existed before it).
    new_customer_share: float = 0.08
    #: Monthly household income: median (CNY), log-sd, and elasticity to wealth.
    income_median: float = 22_000.0
    income_sigma: float = 0.5
    income_wealth_elasticity: float = 0.35
    #: Share of income saved at the bank each month (mean of a Beta(2, 6)-shaped draw, scaled).
    save_rate_mean: float = 0.08
    #: Share of customers whose risk assessment is older than 12 months at the end.
    assessment_expired_share: float = 0.2

    # --- satisfaction / loyalty (hidden) ----------------------------------------------------------
    #: Long-run satisfaction level per customer ~ N(mean, sd); the state reverts to it each month.
    sat_mean: float = 0.3
    sat_sd: float = 0.6
    sat_reversion: float = 0.12
    sat_noise: float = 0.22
    #: A reached contact moves satisfaction by ``contact_effect * (skill - 0.35)`` (a poor RM annoys).
    contact_effect: float = 0.35
    #: Each month a sunflower+ customer goes uncontacted beyond their cadence.
    neglect_effect: float = -0.06
    #: Complaints (hidden cause, written as service requests): monthly chance
    #: ``complaint_rate * (1.5 - skill) * exp(complaint_sat * (sat_mean - z))``, times
    #: ``1 + complaint_maturity`` per product maturing without a reached contact that month and
    #: ``1 + complaint_rm_change`` in the 3 months after an RM change; at most one open at a time.
    complaint_rate: float = 0.0045
    complaint_sat: float = 0.8
    complaint_maturity: float = 1.5
    complaint_rm_change: float = 1.5
    #: Hours to resolve a complaint ~ lognormal, median ``complaint_resolve_hours * (1.5 - skill)``
    #: (times ``complaint_priority_factor`` for sunflower+ customers), log-sd ``complaint_resolve_sigma``.
    complaint_resolve_hours: float = 30.0
    complaint_resolve_sigma: float = 1.3
    complaint_priority_factor: float = 0.6
    #: Satisfaction: when a complaint is raised, in the month its SLA passes unresolved, and each
    #: month end it is still open.
    complaint_effect: float = -0.9
    complaint_breach_effect: float = -0.5
    complaint_open_effect: float = -0.12
    #: One-off effect of the assigned RM leaving (handover).
    rm_change_effect: float = -0.5
    #: A product maturing without a reached contact in that month.
    maturity_neglect_effect: float = -0.15

    # --- defection (the customer starts moving money to another bank) ----------------------------
    defect_base_logit: float = -5.3
    defect_sat: float = -1.1  # per unit of satisfaction
    defect_competitor: float = 0.6  # per percentage point of competitor rate advantage
    defect_matured_no_contact: float = 0.9  # times the decaying count of unattended maturities
    defect_rm_change: float = 1.0  # in the 6 months after the RM left
    defect_complaint: float = 1.0  # in the 3 months after a complaint, or while it is open
    defect_life_event: float = 1.6  # relocation / life event in the last 3 months
    #: Share of liquid money (demand deposits) a defecting customer moves out each month: U(lo, hi).
    defect_outflow_lo: float = 0.25
    defect_outflow_hi: float = 0.75
    #: Share of funds, gold and custody a defecting customer redeems each month.
    defect_redeem: float = 0.35
    #: Chance a defecting customer reinvests a maturing product (others take the money out).
    defect_reinvest: float = 0.15
    #: Closure hazard: engaged customers, defecting customers, plus extra once most money has gone.
    close_engaged: float = 0.0015
    close_defecting: float = 0.07
    close_drained_extra: float = 0.15
    #: Monthly chance that a defecting customer paid through the bank (代发) redirects the salary to
    #: the other bank: from then on it no longer arrives here (half of the won-back bring it back).
    payroll_switch: float = 0.2
    #: Monthly chance that a defecting customer comes back: base + per reached contact × RM skill.
    winback_base: float = 0.04
    winback_contact: float = 0.35
    #: Share of the money moved away that comes back with a won-back customer: U(lo, hi).
    winback_return_lo: float = 0.3
    winback_return_hi: float = 1.0

    # --- life events (hidden; the flows they cause are visible) -----------------------------------
    expense_rate: float = 0.004  # house purchase, school fees abroad: outflow of 25–70% of AUM
    windfall_rate: float = 0.003  # sale of a property, bonus, inheritance: inflow of 20–150% of AUM
    relocation_rate: float = 0.0015  # moves city or abroad: raises the defection hazard
    #: A working customer paid through the bank (代发) changes jobs (observation only: the income
    #: still arrives, as a transfer from another bank); ``payroll_rehire`` of them are paid through
    #: this bank again by the new employer after 1–3 months.
    payroll_job_change: float = 0.004
    payroll_rehire: float = 0.35
    #: Engaged customers chasing a competitor's rate: base chance × exp(sensitivity × spread).
    rate_shop_base: float = 0.006
    rate_shop_share_hi: float = 0.35  # share of demand deposits moved: U(0.1, hi)

    # --- markets and rates (one branch-wide path per seed) ----------------------------------------
    equity_mu: float = 0.004
    equity_sigma: float = 0.045
    gold_mu: float = 0.005
    gold_sigma: float = 0.035
    #: Competitor WMP yield minus ours, percentage points: AR(1) around the mean.
    competitor_mean: float = 0.25
    competitor_ar: float = 0.8
    competitor_sigma: float = 0.18
    demand_rate_annual: float = 0.002
    insurance_growth_annual: float = 0.03

    # --- relationship managers --------------------------------------------------------------------
    customers_per_rm: int = 320
    rms_per_team: int = 8
    rm_skill_a: float = 2.5  # skill ~ Beta(a, b)
    rm_skill_b: float = 2.5
    rm_load_sigma: float = 0.3  # relative book size ~ lognormal
    rm_leave_rate: float = 0.012  # monthly chance an RM leaves (about 13% a year)
    #: Mean reached contacts a month by tier for an RM of skill 1 and average load; an RM of skill s
    #: makes ``0.25 + 0.75 s`` of them, divided by the square root of the relative book size.
    contact_gold: float = 0.12
    contact_sunflower: float = 0.9
    contact_diamond: float = 1.8
    contact_private: float = 3.5
    #: Extra contact chance in a maturity month and while defecting (a skilled RM notices).
    contact_maturity_boost: float = 0.5
    contact_defect_boost: float = 0.6

    # --- digital activity -------------------------------------------------------------------------
    login_median: float = 6.0
    login_sigma: float = 0.8
    login_defect_factor: float = 0.35

    # --- the oracle -------------------------------------------------------------------------------
    #: Forward paths per sunflower+ customer-month for the true loss probability.
    oracle_paths: int = 48
    #: Months simulated after ``end_month`` (never written) so the last months have labels.
    hidden_months: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SimulationSummary:
    """What a run wrote and the headline figures of the branch it simulated."""

    customers: int
    months: int
    seed: int
    end_month: str
    fmt: str
    out: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Annualised customer-loss rate of sunflower+ customers: ``1 - (1 - monthly hazard) ** 12``.
    annual_loss_rate: float = 0.0
    #: ROC AUC of ``p_loss_3m`` against ``lost_within_3m`` over all ground-truth rows (NaN when a
    #: tiny run has no loss, or nothing but losses).
    oracle_auc: float = 0.0
    #: Mean ``p_loss_3m`` and observed share lost within 3 months (calibration check).
    mean_p_loss: float = 0.0
    observed_loss_3m: float = 0.0
    #: Share of active customers per effective tier in the last month.
    tier_mix: dict[str, float] = field(default_factory=dict)
    #: Share of the last month's AUM held by the top 1% and 10% of customers.
    top1_share: float = 0.0
    top10_share: float = 0.0
    total_aum: float = 0.0
    rms: int = 0
    rms_left: int = 0
    closed_customers: int = 0
    won_back: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_rows"] = self.total_rows
        return out
