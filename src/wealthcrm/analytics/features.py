"""Churn features for every customer and month, computed column-wise in DuckDB over the extracted tables.

**Point in time.** A feature of month *t* reads only rows dated in month *t* or before: every date is
turned into a month number (``year * 12 + month - 1``) and compared with *t*'s, positions count as open
in *t* only when opened by and not closed in *t*, a staff member has left only when ``left_on`` is in
or before *t*, and a risk assessment dated after *t* is unknown. So the features of month *t* are the
same whether the tables were extracted up to *t* or up to any later month (a test checks this).

**Portable SQL.** The statements use plain ANSI SQL with window functions (``LAG``, framed ``SUM``/
``AVG``/``MAX``, ``ROW_NUMBER``), ``CASE``, ``EXTRACT`` and ``INTERVAL 'n' DAY`` date arithmetic, which
DuckDB and Spark SQL both read. Exceptions: none in the SQL itself; the tier history is computed by
:func:`wealthcrm.analytics.tiering.tier_history` (numpy) and registered as a table, as on Spark it
would be a table written by that stage.

**Service and surveys** come from the ``service_requests`` file (complaints, SLA breaches, open
complaints) and the Net Promoter answers of ``survey_answers``; a customer with no survey answer has
no ``last_nps`` (null, which LightGBM handles as missing). Request times are the branch's local time
(the extract converts them from the stored UTC), so a request counts in the local month it was opened,
fell due or was resolved, as on the service dashboards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wealthcrm.analytics.tiering import TIER_NAMES, tier_history
from wealthcrm.config import Settings

#: feature name → what it measures (months are calendar months; "3m" = this month and the 2 before).
FEATURES: dict[str, str] = {
    "aum": "Month-average AUM (月日均), CNY.",
    "aum_end_ratio": "Month-end balance over month-average AUM: below 1 when money left late in the month.",
    "aum_chg_1m": "Relative change of month-average AUM against 1 month earlier.",
    "aum_chg_3m": "Relative change of month-average AUM against 3 months earlier.",
    "aum_chg_6m": "Relative change of month-average AUM against 6 months earlier.",
    "aum_volatility_6m": "Standard deviation over mean of month-average AUM over the last 6 months.",
    "demand_share": "Share of AUM in demand deposits.",
    "term_share": "Share of AUM in time deposits, WMPs and bonds.",
    "market_share": "Share of AUM in funds, precious metals and custody.",
    "demand_chg_3m": "Change of demand deposits over 3 months, as a share of AUM 3 months earlier.",
    "term_chg_3m": "Change of time deposits, WMPs and bonds over 3 months, share of AUM 3 months earlier.",
    "market_chg_3m": "Change of funds, metals and custody over 3 months, share of AUM 3 months earlier.",
    "tier_rank": "Effective tier (0 mass … 4 private).",
    "tier_headroom": "Month-average AUM over the effective tier's threshold, minus 1 (negative: below).",
    "watch": "1 when the customer is on watch (below the tier threshold, not yet downgraded).",
    "months_below": "Consecutive months below the effective tier's threshold.",
    "net_flow_3m": "Money in minus money out over 3 months (transactions), as a share of AUM.",
    "outflow_3m": "Money out over 3 months, as a share of AUM.",
    "other_bank_out_3m": "Transfers to other banks over 3 months, as a share of AUM.",
    "other_bank_out_count_3m": "Number of transfers to other banks over 3 months.",
    "largest_out_3m": "Largest single outflow over 3 months, as a share of AUM.",
    "payroll_3m": "Payroll credits (代发) over 3 months.",
    "payroll_stopped": "1 when payroll was credited in months t-5..t-3 but not in t-2..t.",
    "txn_count_3m": "Transactions over 3 months.",
    "txn_trend": "Transactions in the last 3 months over those in the 3 months before (1 = steady).",
    "logins_3m": "Mobile and online logins a month, average of 3 months.",
    "login_trend": "Logins in the last 3 months over those in the 3 months before (1 = steady).",
    "digital_txn_trend": "Digital transactions in the last 3 months over the 3 months before.",
    "open_positions": "Product holdings open at month end.",
    "positions_chg_3m": "Change in open holdings against 3 months earlier.",
    "maturing_next_3m": "Open holdings maturing in the next 3 months.",
    "maturing_next_3m_share": "Principal maturing in the next 3 months, as a share of AUM.",
    "matured_3m": "Holdings that matured in the last 3 months.",
    "matured_not_reinvested_3m": "Holdings that matured in the last 3 months with no new holding bought "
    "within the reinvestment window (settings alerts.reinvest_days) by month end.",
    "redeemed_3m": "Holdings redeemed early in the last 3 months.",
    "contacts_3m": "RM contacts (any outcome) over 3 months.",
    "reached_6m": "Contacts that reached the customer over 6 months.",
    "months_since_reached": "Months since the last contact that reached the customer (null: none on file).",
    "complaint_followups_6m": "Complaint follow-up contacts over 6 months.",
    "retention_contacts_3m": "Retention contacts over 3 months.",
    "rm_count_12m": "Distinct RMs who contacted the customer over 12 months.",
    "rm_left_6m": "1 when an RM who served the customer left the bank in the last 6 months.",
    "rm_tenure_months": "Months the RM of the latest contact has been with the branch.",
    "rm_relationship_months": "Months since that RM's first contact with the customer on file.",
    "age_years": "Customer age in years.",
    "tenure_months": "Months since the relationship began.",
    "risk_assessment_age_months": "Months since the risk questionnaire (null: none known at the month).",
    "risk_assessment_expired": "1 when the risk questionnaire is 12 months old or more.",
    "complaints_3m": "Complaints raised over 3 months.",
    "sla_breaches_3m": "Service requests due in the last 3 months and not resolved by their SLA due time.",
    "open_complaints": "Complaints raised by month end and not resolved by then.",
    "last_nps": "The customer's latest Net Promoter answer (0–10) by month end (null: never surveyed).",
}

_MONTH_NO = "(CAST(EXTRACT(YEAR FROM {d}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {d}) AS INTEGER) - 1)"
_W = "PARTITION BY customer_id ORDER BY month_no"


def month_no(column: str) -> str:
    """SQL for the month number of a date column (months since year 0, so differences are months)."""
    return _MONTH_NO.format(d=column)


def _over(frame: str) -> str:
    return f"OVER ({_W} ROWS BETWEEN {frame})"


def _lags(column: str, first: int, last: int, combine: str = " + ") -> str:
    """``column`` ``first`` to ``last`` rows back, combined (missing rows count 0: every column so
    combined is a non-negative count or amount, or a sum where 0 adds nothing)."""
    return combine.join(f"COALESCE(LAG({column}, {k}) OVER ({_W}), 0)" for k in range(first, last + 1))


def _last3(column: str) -> str:
    """The sum of this month and the 2 before (what ``SUM(…) OVER (ROWS 2 PRECEDING …)`` gives): as
    lags, which DuckDB computes from the one sort, instead of a framed aggregate per column (segment
    trees: the window step took a third of the statement's time)."""
    return f"({column} + {_lags(column, 1, 2)})"


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN {den} > 0 THEN ({num}) / {den} END"


#: How many months before a month its features read (the longest window: ``aum_chg_6m``).
LOOKBACK_MONTHS = 6


def feature_sql(*, reinvest_days: int, months: Iterable[int] | None = None) -> str:
    """The one statement computing every feature, over tables ``tier_history`` (customer_id, month,
    aum, tier_rank, tier_min, watch, months_below) and the extracted contract tables.

    ``months`` (month numbers, see :func:`month_no`) computes the rows of those months only — the nightly
    needs one. The windows then read the 6 months before the earliest of them (the longest frame:
    ``aum_6``; :data:`LOOKBACK_MONTHS`), and the months since the last contact come from the contacts
    themselves, counted from the customer's first month in the history (table ``history_start``:
    customer_id, first_no), instead of a running window over every month. That equals the full computation
    when each customer's months in ``tier_history`` are consecutive, as
    :func:`~wealthcrm.analytics.tiering.tier_history` makes them (checked by :func:`build_features`, which
    otherwise computes every month and keeps the wanted ones).
    """
    wanted = sorted({int(m) for m in months}) if months is not None else None
    only = "" if wanted is None else f" WHERE month_no IN ({', '.join(map(str, wanted)) or 'NULL'})"
    since = "" if not wanted else f" WHERE month_no >= {wanted[0] - LOOKBACK_MONTHS}"
    last6 = _over("5 PRECEDING AND CURRENT ROW")
    upto = _over("UNBOUNDED PRECEDING AND CURRENT ROW")
    reached = "('reached', 'interested', 'sold', 'retained', 'lost')"
    if wanted is None:
        recency_window = (
            f"MAX(CASE WHEN reached > 0 THEN month_no END) {upto} AS last_reached_no,\n"
            f"    MAX(CASE WHEN contacts > 0 THEN month_no END) {upto} AS last_contact_no,\n    "
        )
        recency = "SELECT * FROM win0"
    else:
        recency_window = ""
        recency = f"""SELECT w.*, r.last_reached_no, r.last_contact_no FROM win0 w LEFT JOIN (
    SELECT g.customer_id, g.month_no,
      MAX(CASE WHEN c.outcome IN {reached} THEN c.month_no END) AS last_reached_no,
      MAX(c.month_no) AS last_contact_no
    FROM target g
    JOIN history_start f ON f.customer_id = g.customer_id
    JOIN rm_contacts c ON c.customer_id = g.customer_id AND c.month_no BETWEEN f.first_no AND g.month_no
    GROUP BY g.customer_id, g.month_no
  ) r ON r.customer_id = w.customer_id AND r.month_no = w.month_no"""
    return f"""
WITH grid AS (
  SELECT customer_id, {month_no("month")} AS month_no, aum, tier_rank, tier_min, watch, months_below
  FROM tier_history
), target AS (
  SELECT customer_id, month_no FROM grid{only}
), aum_m AS (
  SELECT customer_id, {month_no("month")} AS month_no, asset_class, avg_daily_balance, month_end_balance
  FROM aum_monthly
), aum_cls AS (
  SELECT customer_id, month_no, SUM(month_end_balance) AS aum_end,
    SUM(CASE WHEN asset_class = 'demand_deposit' THEN avg_daily_balance ELSE 0 END) AS demand,
    SUM(CASE WHEN asset_class IN ('time_deposit', 'wmp', 'bond') THEN avg_daily_balance ELSE 0 END) AS term,
    SUM(CASE WHEN asset_class IN ('fund', 'precious_metal', 'custody') THEN avg_daily_balance ELSE 0 END)
      AS market
  FROM aum_m{since} GROUP BY customer_id, month_no
), txn_m AS (
  SELECT customer_id, {month_no("txn_date")} AS month_no, amount, direction, counterparty_kind
  FROM transactions
), txn AS (
  SELECT customer_id, month_no, COUNT(*) AS txn_n,
    SUM(CASE WHEN direction = 'in' THEN amount ELSE -amount END) AS net_flow,
    SUM(CASE WHEN direction = 'out' THEN amount ELSE 0 END) AS outflow,
    SUM(CASE WHEN direction = 'out' AND counterparty_kind = 'other_bank' THEN amount ELSE 0 END) AS ob_out,
    SUM(CASE WHEN direction = 'out' AND counterparty_kind = 'other_bank' THEN 1 ELSE 0 END) AS ob_out_n,
    MAX(CASE WHEN direction = 'out' THEN amount ELSE 0 END) AS max_out,
    SUM(CASE WHEN direction = 'in' AND counterparty_kind = 'payroll' THEN 1 ELSE 0 END) AS payroll_n
  FROM txn_m{since} GROUP BY customer_id, month_no
), dig AS (
  SELECT * FROM (
    SELECT customer_id, {month_no("month")} AS month_no, logins, digital_txn_count FROM digital_activity
  ) d{since}
), rm_contacts AS (
  SELECT i.customer_id, {month_no("i.occurred_at")} AS month_no, i.staff_id, i.occurred_at, i.purpose,
    i.outcome
  FROM interactions i JOIN staff s ON s.staff_id = i.staff_id WHERE s.role IN ('rm', 'team_lead')
), inter AS (
  SELECT customer_id, month_no, COUNT(*) AS contacts,
    SUM(CASE WHEN outcome IN {reached} THEN 1 ELSE 0 END) AS reached,
    SUM(CASE WHEN purpose = 'complaint_followup' THEN 1 ELSE 0 END) AS complaint_fu,
    SUM(CASE WHEN purpose = 'retention' THEN 1 ELSE 0 END) AS retention
  FROM rm_contacts{since} GROUP BY customer_id, month_no
), latest_staff AS (
  SELECT customer_id, month_no, staff_id FROM (
    SELECT customer_id, month_no, staff_id, ROW_NUMBER() OVER (
      PARTITION BY customer_id, month_no ORDER BY occurred_at DESC, staff_id) AS rn
    FROM rm_contacts) ranked
  WHERE rn = 1
), base AS (
  SELECT g.customer_id, g.month_no, g.aum, g.tier_rank, g.tier_min, g.watch, g.months_below,
    COALESCE(a.aum_end, 0) AS aum_end, COALESCE(a.demand, 0) AS demand, COALESCE(a.term, 0) AS term,
    COALESCE(a.market, 0) AS market, COALESCE(t.txn_n, 0) AS txn_n, COALESCE(t.net_flow, 0) AS net_flow,
    COALESCE(t.outflow, 0) AS outflow, COALESCE(t.ob_out, 0) AS ob_out, COALESCE(t.ob_out_n, 0) AS ob_out_n,
    COALESCE(t.max_out, 0) AS max_out, COALESCE(t.payroll_n, 0) AS payroll_n,
    COALESCE(d.logins, 0) AS logins, COALESCE(d.digital_txn_count, 0) AS digital_txn,
    COALESCE(i.contacts, 0) AS contacts, COALESCE(i.reached, 0) AS reached,
    COALESCE(i.complaint_fu, 0) AS complaint_fu, COALESCE(i.retention, 0) AS retention
  FROM (SELECT * FROM grid{since}) g
  LEFT JOIN aum_cls a ON a.customer_id = g.customer_id AND a.month_no = g.month_no
  LEFT JOIN txn t ON t.customer_id = g.customer_id AND t.month_no = g.month_no
  LEFT JOIN dig d ON d.customer_id = g.customer_id AND d.month_no = g.month_no
  LEFT JOIN inter i ON i.customer_id = g.customer_id AND i.month_no = g.month_no
), win0 AS (
  SELECT *,
    LAG(aum, 1) OVER ({_W}) AS aum_1, LAG(aum, 3) OVER ({_W}) AS aum_3, LAG(aum, 6) OVER ({_W}) AS aum_6,
    LAG(demand, 3) OVER ({_W}) AS demand_3, LAG(term, 3) OVER ({_W}) AS term_3,
    LAG(market, 3) OVER ({_W}) AS market_3,
    STDDEV_SAMP(aum) {last6} AS aum_sd6, AVG(aum) {last6} AS aum_mean6,
    {_last3("net_flow")} AS net_flow3, {_last3("outflow")} AS outflow3, {_last3("ob_out")} AS ob_out3,
    {_last3("ob_out_n")} AS ob_out_n3, GREATEST(max_out, {_lags("max_out", 1, 2, ", ")}) AS max_out3,
    {_last3("payroll_n")} AS payroll3, {_lags("payroll_n", 3, 5)} AS payroll_prev3,
    {_last3("txn_n")} AS txn3, {_lags("txn_n", 3, 5)} AS txn_prev3,
    {_last3("logins")} AS logins3, {_lags("logins", 3, 5)} AS logins_prev3,
    {_last3("digital_txn")} AS dtxn3, {_lags("digital_txn", 3, 5)} AS dtxn_prev3,
    {_last3("contacts")} AS contacts3, reached + {_lags("reached", 1, 5)} AS reached6,
    complaint_fu + {_lags("complaint_fu", 1, 5)} AS complaint_fu6, {_last3("retention")} AS retention3,
    {recency_window}LEAST(3, GREATEST(0, ROW_NUMBER() OVER ({_W}) - 3)) AS prev3_rows
  FROM base
), win AS (
  {recency}
), pos AS (
  SELECT customer_id, {month_no("opened_on")} AS open_no, {month_no("closed_on")} AS close_no,
    {month_no("maturity_on")} AS mat_no, principal, status, opened_on, closed_on, position_id
  FROM positions
), reinvest AS (
  SELECT m.position_id, MIN(q.open_no) AS reinvest_no
  FROM pos m JOIN pos q ON q.customer_id = m.customer_id AND q.position_id <> m.position_id
    AND q.opened_on >= m.closed_on - INTERVAL '3' DAY
    AND q.opened_on <= m.closed_on + INTERVAL '{int(reinvest_days)}' DAY
  WHERE m.status = 'matured'
  GROUP BY m.position_id
), pos_feat AS (
  SELECT g.customer_id, g.month_no,
    SUM(CASE WHEN p.close_no IS NULL OR p.close_no > g.month_no THEN 1 ELSE 0 END) AS open_positions,
    SUM(CASE WHEN p.open_no <= g.month_no - 3 AND (p.close_no IS NULL OR p.close_no > g.month_no - 3)
      THEN 1 ELSE 0 END) AS open_positions_3,
    SUM(CASE WHEN (p.close_no IS NULL OR p.close_no > g.month_no)
      AND p.mat_no BETWEEN g.month_no + 1 AND g.month_no + 3 THEN 1 ELSE 0 END) AS maturing3,
    SUM(CASE WHEN (p.close_no IS NULL OR p.close_no > g.month_no)
      AND p.mat_no BETWEEN g.month_no + 1 AND g.month_no + 3 THEN p.principal ELSE 0 END) AS maturing3_amt,
    SUM(CASE WHEN p.status = 'matured' AND p.close_no BETWEEN g.month_no - 2 AND g.month_no
      THEN 1 ELSE 0 END) AS matured3,
    SUM(CASE WHEN p.status = 'matured' AND p.close_no BETWEEN g.month_no - 2 AND g.month_no
      AND (r.reinvest_no IS NULL OR r.reinvest_no > g.month_no) THEN 1 ELSE 0 END) AS matured_nr3,
    SUM(CASE WHEN p.status = 'redeemed' AND p.close_no BETWEEN g.month_no - 2 AND g.month_no
      THEN 1 ELSE 0 END) AS redeemed3
  FROM target g
  JOIN pos p ON p.customer_id = g.customer_id AND p.open_no <= g.month_no
  LEFT JOIN reinvest r ON r.position_id = p.position_id
  GROUP BY g.customer_id, g.month_no
), pair AS (
  SELECT c.customer_id, c.staff_id, MIN(c.month_no) AS first_no, MAX(s.joined_no) AS joined_no,
    MAX(s.left_no) AS left_no
  FROM rm_contacts c JOIN (
    SELECT staff_id, {month_no("joined_on")} AS joined_no, {month_no("left_on")} AS left_no FROM staff
  ) s ON s.staff_id = c.staff_id
  GROUP BY c.customer_id, c.staff_id
), rm_feat AS (
  SELECT g.customer_id, g.month_no,
    MAX(CASE WHEN p.left_no BETWEEN g.month_no - 5 AND g.month_no THEN 1 ELSE 0 END) AS rm_left6
  FROM target g JOIN pair p ON p.customer_id = g.customer_id AND p.first_no <= g.month_no
  GROUP BY g.customer_id, g.month_no
), rm_count AS (
  SELECT g.customer_id, g.month_no, COUNT(DISTINCT c.staff_id) AS rm_count12
  FROM target g JOIN rm_contacts c ON c.customer_id = g.customer_id
    AND c.month_no BETWEEN g.month_no - 11 AND g.month_no
  GROUP BY g.customer_id, g.month_no
), req AS (
  SELECT customer_id, request_type, {month_no("opened_at")} AS open_no, {month_no("due_at")} AS due_no,
    {month_no("resolved_at")} AS resolved_no,
    CASE WHEN due_at IS NOT NULL AND (resolved_at IS NULL OR resolved_at > due_at) THEN 1 ELSE 0 END AS late
  FROM service_requests
), svc AS (
  SELECT g.customer_id, g.month_no,
    SUM(CASE WHEN r.request_type = 'complaint' AND r.open_no BETWEEN g.month_no - 2 AND g.month_no
      THEN 1 ELSE 0 END) AS complaints3,
    SUM(CASE WHEN r.late = 1 AND r.due_no BETWEEN g.month_no - 2 AND g.month_no THEN 1 ELSE 0 END) AS late3,
    SUM(CASE WHEN r.request_type = 'complaint' AND (r.resolved_no IS NULL OR r.resolved_no > g.month_no)
      THEN 1 ELSE 0 END) AS open_complaints
  FROM target g JOIN req r ON r.customer_id = g.customer_id AND r.open_no <= g.month_no
  GROUP BY g.customer_id, g.month_no
), nps AS (
  SELECT customer_id, {month_no("answered_on")} AS answer_no, answered_on, response_id, nps_score
  FROM survey_responses
), last_nps AS (
  SELECT customer_id, month_no, nps_score FROM (
    SELECT g.customer_id, g.month_no, n.nps_score, ROW_NUMBER() OVER (
      PARTITION BY g.customer_id, g.month_no ORDER BY n.answered_on DESC, n.response_id DESC) AS rn
    FROM target g JOIN nps n ON n.customer_id = g.customer_id AND n.answer_no <= g.month_no
    WHERE n.nps_score IS NOT NULL) ranked
  WHERE rn = 1
), cust AS (
  SELECT customer_id, {month_no("birth_date")} AS birth_no, {month_no("onboarded_on")} AS onboard_no,
    {month_no("risk_assessed_on")} AS risk_no
  FROM customers
)
SELECT w.customer_id, w.month_no,
  w.aum,
  {_ratio("w.aum_end", "w.aum")} AS aum_end_ratio,
  {_ratio("w.aum - w.aum_1", "w.aum_1")} AS aum_chg_1m,
  {_ratio("w.aum - w.aum_3", "w.aum_3")} AS aum_chg_3m,
  {_ratio("w.aum - w.aum_6", "w.aum_6")} AS aum_chg_6m,
  {_ratio("w.aum_sd6", "w.aum_mean6")} AS aum_volatility_6m,
  {_ratio("w.demand", "w.aum")} AS demand_share,
  {_ratio("w.term", "w.aum")} AS term_share,
  {_ratio("w.market", "w.aum")} AS market_share,
  {_ratio("w.demand - w.demand_3", "w.aum_3")} AS demand_chg_3m,
  {_ratio("w.term - w.term_3", "w.aum_3")} AS term_chg_3m,
  {_ratio("w.market - w.market_3", "w.aum_3")} AS market_chg_3m,
  w.tier_rank,
  {_ratio("w.aum", "w.tier_min")} - 1 AS tier_headroom,
  w.watch, w.months_below,
  {_ratio("w.net_flow3", "w.aum")} AS net_flow_3m,
  {_ratio("w.outflow3", "w.aum")} AS outflow_3m,
  {_ratio("w.ob_out3", "w.aum")} AS other_bank_out_3m,
  w.ob_out_n3 AS other_bank_out_count_3m,
  {_ratio("w.max_out3", "w.aum")} AS largest_out_3m,
  w.payroll3 AS payroll_3m,
  CASE WHEN w.prev3_rows < 3 THEN NULL WHEN w.payroll_prev3 > 0 AND w.payroll3 = 0 THEN 1 ELSE 0 END
    AS payroll_stopped,
  w.txn3 AS txn_count_3m,
  CASE WHEN w.prev3_rows = 3 THEN (w.txn3 + 1.0) / (w.txn_prev3 + 1.0) END AS txn_trend,
  w.logins3 / 3.0 AS logins_3m,
  CASE WHEN w.prev3_rows = 3 THEN (w.logins3 + 1.0) / (w.logins_prev3 + 1.0) END AS login_trend,
  CASE WHEN w.prev3_rows = 3 THEN (w.dtxn3 + 1.0) / (w.dtxn_prev3 + 1.0) END AS digital_txn_trend,
  COALESCE(p.open_positions, 0) AS open_positions,
  COALESCE(p.open_positions, 0) - COALESCE(p.open_positions_3, 0) AS positions_chg_3m,
  COALESCE(p.maturing3, 0) AS maturing_next_3m,
  {_ratio("COALESCE(p.maturing3_amt, 0)", "w.aum")} AS maturing_next_3m_share,
  COALESCE(p.matured3, 0) AS matured_3m,
  COALESCE(p.matured_nr3, 0) AS matured_not_reinvested_3m,
  COALESCE(p.redeemed3, 0) AS redeemed_3m,
  w.contacts3 AS contacts_3m, w.reached6 AS reached_6m,
  w.month_no - w.last_reached_no AS months_since_reached,
  w.complaint_fu6 AS complaint_followups_6m, w.retention3 AS retention_contacts_3m,
  COALESCE(rc.rm_count12, 0) AS rm_count_12m,
  COALESCE(rf.rm_left6, 0) AS rm_left_6m,
  w.month_no - lp.joined_no AS rm_tenure_months,
  w.month_no - lp.first_no AS rm_relationship_months,
  (w.month_no - c.birth_no) / 12.0 AS age_years,
  w.month_no - c.onboard_no AS tenure_months,
  CASE WHEN c.risk_no <= w.month_no THEN w.month_no - c.risk_no END AS risk_assessment_age_months,
  CASE WHEN c.risk_no <= w.month_no THEN CASE WHEN w.month_no - c.risk_no >= 12 THEN 1 ELSE 0 END END
    AS risk_assessment_expired,
  COALESCE(sv.complaints3, 0) AS complaints_3m,
  COALESCE(sv.late3, 0) AS sla_breaches_3m,
  COALESCE(sv.open_complaints, 0) AS open_complaints,
  ln.nps_score AS last_nps
FROM win w
LEFT JOIN pos_feat p ON p.customer_id = w.customer_id AND p.month_no = w.month_no
LEFT JOIN rm_feat rf ON rf.customer_id = w.customer_id AND rf.month_no = w.month_no
LEFT JOIN rm_count rc ON rc.customer_id = w.customer_id AND rc.month_no = w.month_no
LEFT JOIN latest_staff ls ON ls.customer_id = w.customer_id AND ls.month_no = w.last_contact_no
LEFT JOIN pair lp ON lp.customer_id = w.customer_id AND lp.staff_id = ls.staff_id
LEFT JOIN cust c ON c.customer_id = w.customer_id
LEFT JOIN svc sv ON sv.customer_id = w.customer_id AND sv.month_no = w.month_no
LEFT JOIN last_nps ln ON ln.customer_id = w.customer_id AND ln.month_no = w.month_no
{only.replace("month_no", "w.month_no")}
"""


def _tier_rank(history: pd.DataFrame, settings: Settings) -> tuple[pd.Series, np.ndarray]:
    names = pa.array([str(name) for name in TIER_NAMES])
    codes = pc.index_in(pa.array(history["tier"].astype("str")), value_set=names)  # no per-row Python
    if codes.null_count:
        raise ValueError("tier history: unknown tier")
    tier_rank = pd.Series(codes.to_numpy(zero_copy_only=False).astype("int64"), index=history.index)
    thresholds = np.asarray(settings.tiers.thresholds())
    return tier_rank, thresholds[tier_rank.to_numpy()]


def history_table(history: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The columns of the tier history the feature SQL reads (tier as rank and threshold)."""
    tier_rank, tier_min = _tier_rank(history, settings)
    return pd.DataFrame(
        {
            "customer_id": history["customer_id"].astype("str"),
            "month": pd.to_datetime(history["month"]).dt.date,
            "aum": history["aum"].astype("float64"),
            "tier_rank": tier_rank,
            "tier_min": tier_min,
            "watch": history["watch"].astype("int64"),
            "months_below": history["months_below"].astype("int64"),
        }
    )


def _history_arrow(history: pd.DataFrame, settings: Settings) -> pa.Table:
    """:func:`history_table` as Arrow, months as dates without a detour through Python objects."""
    tier_rank, tier_min = _tier_rank(history, settings)
    month = pa.array(pd.to_datetime(history["month"]).to_numpy()).cast(pa.date32())
    return pa.table(
        {
            "customer_id": pa.array(history["customer_id"].astype("str"), type=pa.string()),
            "month": month,
            "aum": pa.array(history["aum"].to_numpy(dtype="float64")),
            "tier_rank": pa.array(tier_rank.to_numpy()),
            "tier_min": pa.array(tier_min),
            "watch": pa.array(history["watch"].to_numpy(dtype="int64")),
            "months_below": pa.array(history["months_below"].to_numpy(dtype="int64")),
        }
    )


def _customer_codes(history: pa.Table, customers: pa.Table) -> pa.Array:
    """Every customer id of the tier history and the customers table, sorted: position = code."""
    ids = pa.chunked_array(
        [pc.unique(history.column("customer_id")), customers.column("customer_id").cast(pa.string())]
    )
    unique = pc.unique(ids)
    return unique.take(pc.sort_indices(unique))


def _encode(table: pa.Table, codes: pa.Array) -> pa.Table:
    """``customer_id`` replaced by its integer code (joins and groups on integers are cheaper than on
    text; the SQL is unchanged, and codes follow the ids' order). Ids without a code become NULL: they
    have no tier history, so no feature row, whatever they join."""
    if "customer_id" not in table.column_names:
        return table
    index = table.schema.get_field_index("customer_id")
    column = table.column("customer_id").cast(pa.string())
    return table.set_column(index, "customer_id", pc.index_in(column, value_set=codes))


def _history_span(history: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """(each customer's first month number in the tier history — table ``history_start`` —, whether
    every customer's months follow each other without a gap)."""
    month = pd.to_datetime(history["month"])
    number = month.dt.year * 12 + month.dt.month - 1
    span = number.groupby(history["customer_id"].to_numpy(), sort=False).agg(["min", "max", "size"])
    start = pd.DataFrame({"customer_id": span.index.astype(str), "first_no": span["min"].to_numpy()})
    return start, bool((span["max"] - span["min"] + 1 == span["size"]).all())


def build_features(
    tables: dict[str, pa.Table],
    *,
    settings: Settings,
    months: Iterable[date | pd.Timestamp] | None = None,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer and month of the tier history (or of ``months`` only): customer_id, month
    (Timestamp, first day) and the numeric columns of :data:`FEATURES`, in that order.

    ``history`` is the :func:`tier_history` of ``tables`` when the caller already has it.
    """
    if history is None:
        history = tier_history(tables, settings)
    numbers = None
    start, consecutive = _history_span(history)
    if months is not None:
        numbers = sorted({m.year * 12 + m.month - 1 for m in (pd.Timestamp(x) for x in months)})
        if consecutive:  # the windows read LOOKBACK_MONTHS back: the rest of the history is not needed
            first = numbers[0] - LOOKBACK_MONTHS
            month = pd.to_datetime(history["month"])
            history = history.loc[(month.dt.year * 12 + month.dt.month - 1 >= first).to_numpy()]
    grid = _history_arrow(history, settings)
    codes = _customer_codes(grid, tables["customers"])
    con = duckdb.connect()
    try:
        con.execute(f"SET threads TO {min(2, os.cpu_count() or 1)}")
        con.execute("SET preserve_insertion_order = false")  # the rows are sorted below
        con.register("tier_history", _encode(grid, codes))
        con.register("history_start", _encode(pa.Table.from_pandas(start, preserve_index=False), codes))
        for name in (
            "aum_monthly", "transactions", "digital_activity", "interactions", "staff", "service_requests",
            "survey_responses", "positions", "customers",
        ):  # fmt: skip
            con.register(name, _encode(tables[name], codes))
        sql = feature_sql(
            reinvest_days=settings.alerts.reinvest_days, months=numbers if consecutive else None
        )
        if numbers is not None and not consecutive:
            sql = f"SELECT * FROM ({sql}) f WHERE month_no IN ({', '.join(map(str, numbers))})"
        # sorted and every feature as DOUBLE in DuckDB (its integer sums would arrive as decimal128),
        # with both threads; then to pandas by Arrow's threads, one block a column (no consolidation)
        doubles = ", ".join(f"CAST({name} AS DOUBLE) AS {name}" for name in FEATURES)
        table = con.sql(
            f"SELECT month_no, customer_id, {doubles} FROM ({sql}) f ORDER BY month_no, customer_id"
        ).to_arrow_table()
    finally:
        con.close()
    number = table.column("month_no").to_numpy().astype("int64")
    ids = codes.take(table.column("customer_id").combine_chunks())
    frame: pd.DataFrame = table.select(list(FEATURES)).to_pandas(split_blocks=True, self_destruct=True)
    del table
    frame.insert(0, "month", pd.to_datetime({"year": number // 12, "month": number % 12 + 1, "day": 1}))
    frame.insert(0, "customer_id", ids.to_pandas())
    return frame
