"""Early-warning rules (SPEC "Early-warning signals"): candidate alerts of one month, vectorised.

``evaluate_rules(tables, history, month, settings)`` returns one row per candidate alert with columns
``customer_id, alert_type, severity, dedupe_key, evidence, action`` (:data:`CANDIDATE_COLUMNS`). It
reads only data up to the end of ``month``. The ``dedupe_key`` names the episode: an *event* alert (a
transaction, a matured position, a month's transfers, a complaint) keeps its key for ever, so it is
raised once; a *condition* alert (:data:`CONDITION_TYPES`) is keyed by the month its episode began
and is closed by :func:`wealthcrm.alerts.service.upsert_alerts` when the condition no longer holds.

Severity is the rule's own (see each function), then one step lower (high → medium → low) for a
customer whose effective tier is below ``churn.customer_loss_min_tier``: losing them is not a
customer loss. The complaint, SLA-breach and detractor rules read ``tables["service_requests"]``
and ``tables["survey_responses"]`` (the extract's NPS answers; columns in :func:`complaint_alerts`,
:func:`sla_breach_alerts`, :func:`detractor_alerts`) and return nothing when a table is absent.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from wealthcrm.alerts.actions import ACTION_FOR
from wealthcrm.analytics.lifecycle import activity_collapse
from wealthcrm.config import Settings
from wealthcrm.vocab import TIER_ORDER, AlertType, Severity, Tier

CANDIDATE_COLUMNS = ["customer_id", "alert_type", "severity", "dedupe_key", "evidence", "action"]
CONDITION_TYPES = frozenset(
    {
        AlertType.watch,
        AlertType.near_threshold,
        AlertType.activity_collapse,
        AlertType.risk_assessment_expired,
        AlertType.payroll_stopped,
    }
)
PAYROLL_MONTHS = 3
NOT_PURCHASES = ("product", "own_account")  # buying a product or moving money between own accounts
_RANK = {t.value: i for i, t in enumerate(TIER_ORDER)}
_DEMOTE = {Severity.high.value: Severity.medium.value, Severity.medium.value: Severity.low.value}


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})


def _ym(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m")


def _plain(value: Any) -> Any:
    """A JSON-ready value: amounts to cents, shares (< 10) to 4 places, dates as ISO text, missing as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | date):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4) if abs(value) < 10 else round(value, 2)
    return value


def _alerts(
    frame: pd.DataFrame, alert_type: AlertType, severity: Any, key: list[str], evidence: list[str]
) -> pd.DataFrame:
    """Candidate rows from a frame with ``customer_id``, the key columns (joined with ``:`` after the
    type and customer to make the dedupe key) and the evidence columns."""
    if frame.empty:
        return _empty()
    records = frame[evidence].astype(object).to_dict("records")
    episode = frame[key].astype(str).agg(":".join, axis=1)
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "alert_type": alert_type.value,
            "severity": severity,
            "dedupe_key": (
                f"{alert_type.value}:" + frame["customer_id"].astype(str) + ":" + episode
            ).to_numpy(),
            "evidence": [{k: _plain(v) for k, v in r.items()} for r in records],
            "action": ACTION_FOR[alert_type],
        }
    )


def _window(month: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(month).to_period("M").to_timestamp()
    return start, start + pd.offsets.MonthEnd(0)


def _in_month(dates: pd.Series, month: date) -> pd.Series:
    start, end = _window(month)
    d = pd.to_datetime(dates)
    return (d >= start) & (d < end + pd.Timedelta(days=1))


def _base_aum(history: pd.DataFrame, month: date) -> pd.Series:
    """AUM before this month's flows: last month's average, else this month's; by customer."""
    start, _ = _window(month)
    h = history.assign(month=pd.to_datetime(history["month"]))
    now = h.loc[h["month"] == start].set_index("customer_id")["aum"]
    before = h.loc[h["month"] == start - pd.DateOffset(months=1)].set_index("customer_id")["aum"]
    return before.reindex(now.index.union(before.index)).fillna(now)


# ---- transactions ---------------------------------------------------------------------------------
def large_outflow_alerts(txns: pd.DataFrame, history: pd.DataFrame, month: date, s: Settings) -> pd.DataFrame:
    """A single outflow (not a product purchase or a move between own accounts) of at least
    ``alerts.large_outflow_amount`` or ``alerts.large_outflow_share`` of AUM before the month (last
    month's average; this month's for a new customer). High when both hold, else medium."""
    t = txns.loc[
        _in_month(txns["txn_date"], month)
        & (txns["direction"] == "out")
        & ~txns["counterparty_kind"].isin(NOT_PURCHASES)
    ].copy()
    base = _base_aum(history, month)
    t["aum"] = base.reindex(t["customer_id"].to_numpy()).to_numpy()
    t["share_of_aum"] = (t["amount"] / t["aum"].where(t["aum"] > 0)).astype("float64")
    big = t["amount"] >= s.alerts.large_outflow_amount
    large_share = (t["share_of_aum"] >= s.alerts.large_outflow_share).fillna(False)
    t = t.loc[big | large_share]
    severity = np.where(big & large_share, Severity.high.value, Severity.medium.value)[
        (big | large_share).to_numpy()
    ]
    cols = ["txn_id", "txn_date", "amount", "share_of_aum", "aum", "counterparty_kind", "channel"]
    return _alerts(t, AlertType.large_outflow, severity, ["txn_id"], cols)


def other_bank_alerts(txns: pd.DataFrame, history: pd.DataFrame, month: date, s: Settings) -> pd.DataFrame:
    """The month's transfers out to other banks total at least ``alerts.other_bank_min_amount``; one
    alert per customer and month. High when the total reaches the large-outflow amount or share."""
    t = txns.loc[
        _in_month(txns["txn_date"], month)
        & (txns["direction"] == "out")
        & (txns["counterparty_kind"] == "other_bank")
    ]
    g = t.groupby("customer_id", as_index=False).agg(
        total=("amount", "sum"), transfers=("txn_id", "size"), largest=("amount", "max")
    )
    g["aum"] = _base_aum(history, month).reindex(g["customer_id"].to_numpy()).to_numpy()
    g["share_of_aum"] = (g["total"] / g["aum"].where(g["aum"] > 0)).astype("float64")
    g = g.loc[g["total"] >= s.alerts.other_bank_min_amount]
    high = (g["total"] >= s.alerts.large_outflow_amount) | (
        g["share_of_aum"] >= s.alerts.large_outflow_share
    ).fillna(False)
    severity = np.where(high, Severity.high.value, Severity.medium.value)
    g["month"] = _ym(month)
    cols = ["month", "total", "transfers", "largest", "share_of_aum", "aum"]
    return _alerts(g, AlertType.outflow_other_bank, severity, ["month"], cols)


def not_reinvested_alerts(
    positions: pd.DataFrame, txns: pd.DataFrame, month: date, s: Settings
) -> pd.DataFrame:
    """A position that *matured* (not one redeemed early) on day d, with no position opened and no
    product purchase (outflow to ``product``) by the customer on d … d + ``alerts.reinvest_days``.
    Judged in the month in which that deadline falls, when the whole window is known. High when the
    principal reaches the large-outflow amount, else medium."""
    p = positions.loc[positions["status"] == "matured"].copy()
    p["closed_on"] = pd.to_datetime(p["closed_on"])
    p["deadline"] = p["closed_on"] + pd.Timedelta(days=s.alerts.reinvest_days)
    p = p.loc[_in_month(p["deadline"], month)]
    opened = positions[["customer_id", "opened_on"]].rename(columns={"opened_on": "on"})
    bought = txns.loc[
        (txns["direction"] == "out") & (txns["counterparty_kind"] == "product"), ["customer_id", "txn_date"]
    ].rename(columns={"txn_date": "on"})
    again = pd.concat([opened, bought], ignore_index=True)
    again["on"] = pd.to_datetime(again["on"])
    pairs = p[["position_id", "customer_id", "closed_on", "deadline"]].merge(again, on="customer_id")
    hit = pairs.loc[(pairs["on"] >= pairs["closed_on"]) & (pairs["on"] <= pairs["deadline"]), "position_id"]
    p = p.loc[~p["position_id"].isin(hit)]
    severity = np.where(
        p["principal"] >= s.alerts.large_outflow_amount, Severity.high.value, Severity.medium.value
    )
    cols = ["position_id", "product_code", "principal", "closed_on", "deadline"]
    return _alerts(p, AlertType.not_reinvested, severity, ["position_id"], cols)


def payroll_stopped_alerts(
    txns: pd.DataFrame, customers: pd.DataFrame, month: date, *, per_month: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Payroll credits in each of the 3 months before month s and none from s on; the alert holds
    from s until a payroll credit arrives (a condition keyed by s). Medium. ``per_month`` (columns
    customer_id, month, amount: the extract's ``payroll_months``) replaces reading ``txns`` when the
    transactions were extracted for recent months only."""
    _, end = _window(month)
    if per_month is None:
        pay = txns.loc[
            (txns["direction"] == "in")
            & (txns["counterparty_kind"] == "payroll")
            & (pd.to_datetime(txns["txn_date"]) <= end)
        ]
        per = cast(
            pd.DataFrame,
            pay.assign(m=_month_no(pay["txn_date"]))
            .groupby(["customer_id", "m"], as_index=False)["amount"]
            .sum(),
        )
    else:
        known = per_month.loc[pd.to_datetime(per_month["month"]) <= end]
        per = known.assign(m=_month_no(known["month"]))[["customer_id", "m", "amount"]]
    per["last"] = per.groupby("customer_id")["m"].transform("max")
    recent = per.loc[per["m"] > per["last"] - PAYROLL_MONTHS]
    f = recent.groupby("customer_id", as_index=False).agg(
        months=("m", "size"), last=("last", "first"), average_payroll=("amount", "mean")
    )
    now = int(_month_no(pd.Series([pd.Timestamp(month)])).iloc[0])
    f = f.loc[(f["months"] == PAYROLL_MONTHS) & (f["last"] < now)]
    f = f.loc[f["customer_id"].isin(_active(customers, month))].copy()
    f["stopped_from"] = _month_text(f["last"] + 1)
    f["last_payroll_month"] = _month_text(f["last"])
    cols = ["stopped_from", "last_payroll_month", "average_payroll"]
    return _alerts(f, AlertType.payroll_stopped, Severity.medium.value, ["stopped_from"], cols)


def _month_no(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


def _month_text(month_no: pd.Series) -> pd.Series:
    n = month_no.astype("int64")
    return (n // 12).astype(str) + "-" + (n % 12 + 1).astype(str).str.zfill(2)


def _active(customers: pd.DataFrame, month: date) -> pd.Index:
    _, end = _window(month)
    closed = pd.to_datetime(customers["closed_on"])
    live = closed.isna() | (closed > end)
    return cast(pd.Index, pd.Index(customers.loc[live, "customer_id"]))


# ---- tier history and activity ---------------------------------------------------------------------
def _by_customer_month(history: pd.DataFrame) -> pd.DataFrame:
    """The history sorted by customer and month, with a fresh index; not sorted again when it already
    is (the nightly's is: sorting a million customers' 24 months would copy every column)."""
    ids = history["customer_id"]
    same = (ids == ids.shift()).to_numpy()
    step = pd.to_datetime(history["month"]).diff().to_numpy()
    ordered = ids.is_monotonic_increasing and bool(np.all(~same[1:] | (step[1:] > np.timedelta64(0))))
    if ordered:
        return history.reset_index(drop=True)
    return history.sort_values(["customer_id", "month"], kind="stable").reset_index(drop=True)


def _run_start(h: pd.DataFrame, flag: pd.Series) -> pd.Series:
    """For each flagged row of a history sorted by customer and month, the month its run began."""
    run = (~flag).astype("int64").groupby(h["customer_id"], sort=False).cumsum()
    return h["month"].where(flag).groupby([h["customer_id"], run], sort=False).transform("min")


def watch_alerts(history: pd.DataFrame, month: date, s: Settings) -> pd.DataFrame:
    """On watch (below the tier, not yet downgraded), keyed by tier and the month the watch began.
    High when the downgrade is due within a month (months below ≥ grace − 1), else medium."""
    start, _ = _window(month)
    h = history.loc[(history["month"] == start) & history["watch"].astype(bool)].copy()
    grace = h["tier"].map({t.value: s.tiers.grace(t) for t in Tier}).astype("int64")
    h["grace_months"] = grace
    h["threshold"] = h["tier"].map({t.value: s.tiers.threshold(t) for t in Tier})
    h["since"] = _month_text(_month_no(h["month"]) - h["months_below"].astype("int64") + 1)
    severity = np.where(h["months_below"] >= grace - 1, Severity.high.value, Severity.medium.value)
    cols = ["tier", "tier_met", "aum", "threshold", "months_below", "grace_months", "since"]
    return _alerts(h, AlertType.watch, severity, ["tier", "since"], cols)


def near_threshold_alerts(history: pd.DataFrame, month: date, s: Settings) -> pd.DataFrame:
    """AUM at or above the effective tier's threshold (not mass) but within
    ``alerts.near_threshold_margin`` of it, and below last month's AUM; keyed by tier and the month
    the run of such months began. Medium."""
    # only customers whose month qualifies but for the fall can be flagged: their histories alone
    # decide the run (a fraction of the branch's customer-months)
    start, _ = _window(month)
    now = history.loc[history["month"] == start]
    level = now["tier"].map({t.value: s.tiers.threshold(t) for t in Tier}).astype("float64")
    near = (level > 0) & (now["aum"] >= level) & (now["aum"] < level * (1 + s.alerts.near_threshold_margin))
    history = history.loc[history["customer_id"].isin(now.loc[near, "customer_id"])]
    h = _by_customer_month(history)
    threshold = h["tier"].map({t.value: s.tiers.threshold(t) for t in Tier}).astype("float64")
    falling = h["aum"] < h.groupby("customer_id", sort=False)["aum"].shift(1)
    flag = (
        (threshold > 0)
        & (h["aum"] >= threshold)
        & (h["aum"] < threshold * (1 + s.alerts.near_threshold_margin))
        & falling
    )
    h["threshold"] = threshold
    h["previous_aum"] = h.groupby("customer_id", sort=False)["aum"].shift(1)
    h["since"] = _run_start(h, flag).map(_ym, na_action="ignore")
    h = h.loc[flag & (h["month"] == _window(month)[0])]
    cols = ["tier", "aum", "previous_aum", "threshold", "since"]
    return _alerts(h, AlertType.near_threshold, Severity.medium.value, ["tier", "since"], cols)


def activity_collapse_alerts(
    history: pd.DataFrame, digital_activity: pa.Table, month: date, s: Settings
) -> pd.DataFrame:
    """Logins + digital transactions below ``alerts.activity_collapse_ratio`` of their previous
    3-month average (see :func:`~wealthcrm.analytics.lifecycle.activity_collapse`); keyed by the month
    the collapse began. Medium."""
    a = activity_collapse(history, digital_activity, s)
    now = a.loc[a["collapsed"] & (a["month"] == _window(month)[0]), "customer_id"]
    a = a.loc[a["customer_id"].isin(now)].reset_index(drop=True)  # the runs of this month's collapses
    a["since"] = _run_start(a, a["collapsed"]).map(_ym, na_action="ignore")
    a = a.loc[a["collapsed"] & (a["month"] == _window(month)[0])]
    return _alerts(
        a, AlertType.activity_collapse, Severity.medium.value, ["since"], ["activity", "baseline", "since"]
    )


# ---- customers, staff, interactions ----------------------------------------------------------------
def risk_assessment_alerts(customers: pd.DataFrame, month: date, s: Settings) -> pd.DataFrame:
    """An active customer without a risk assessment, or whose assessment is
    ``suitability.assessment_valid_months`` old or more at the end of the month; keyed by the
    assessment date ("none" when missing). Low: it blocks sales, not the relationship."""
    _, end = _window(month)
    c = customers.loc[customers["customer_id"].isin(_active(customers, month))].copy()
    assessed = pd.to_datetime(c["risk_assessed_on"])
    later = assessed > end  # a later assessment was not known then
    assessed = assessed.where(~later)
    c["risk_level"] = c["risk_level"].where(~later, None)
    c["expired_on"] = assessed + pd.DateOffset(months=s.suitability.assessment_valid_months)
    c = c.loc[assessed.isna() | (c["expired_on"] <= end)]
    c["assessed_on"] = assessed.loc[c.index]
    c["key"] = c["assessed_on"].dt.strftime("%Y-%m-%d").fillna("none")
    cols = ["risk_level", "assessed_on", "expired_on"]
    return _alerts(c, AlertType.risk_assessment_expired, Severity.low.value, ["key"], cols)


def rm_changed_alerts(
    customers: pd.DataFrame, staff: pd.DataFrame, interactions: pd.DataFrame, month: date
) -> pd.DataFrame:
    """Two signals, both medium:

    - the assigned RM (``rm_id``) has left by the end of the month (``left_on`` ≤ month end) and is
      still assigned; keyed by the RM. The contract holds only the *current* ``rm_id``, so a past
      assignment that was already handed over cannot be seen: hence the second signal;
    - the staff member (role rm or team lead) of the customer's latest contact this month differs
      from that of the latest contact before the month; keyed by old and new staff and month.
    """
    start, end = _window(month)
    left_on = pd.to_datetime(staff.set_index("staff_id")["left_on"])
    gone = left_on.loc[left_on <= end]
    c = customers.loc[
        customers["customer_id"].isin(_active(customers, month)) & customers["rm_id"].isin(gone.index)
    ].copy()
    c["left_on"] = gone.reindex(c["rm_id"]).to_numpy()
    c["reason"] = "rm_left"
    left = _alerts(
        c, AlertType.rm_changed, Severity.medium.value, ["rm_id", "reason"], ["rm_id", "left_on", "reason"]
    )

    rms = staff.loc[staff["role"].isin(["rm", "team_lead"]), "staff_id"]
    i = interactions.loc[interactions["staff_id"].isin(rms)].copy()
    i["at"] = pd.to_datetime(i["occurred_at"])
    i = i.loc[i["at"] < end + pd.Timedelta(days=1)].sort_values(["customer_id", "at"], kind="stable")
    now = i.loc[i["at"] >= start].groupby("customer_id")["staff_id"].last()
    before = i.loc[i["at"] < start].groupby("customer_id")["staff_id"].last()
    both = pd.DataFrame({"previous_staff_id": before, "staff_id": now}).dropna()
    both = both.loc[both["previous_staff_id"] != both["staff_id"]].rename_axis("customer_id").reset_index()
    both = both.loc[both["customer_id"].isin(_active(customers, month))]
    both["reason"] = "contact_staff_changed"
    both["key"] = both["previous_staff_id"] + ">" + both["staff_id"] + ":" + _ym(start)
    changed = _alerts(
        both,
        AlertType.rm_changed,
        Severity.medium.value,
        ["key"],
        ["previous_staff_id", "staff_id", "reason"],
    )
    return pd.concat([left, changed], ignore_index=True)


# ---- service requests and surveys (not in the contract yet) ----------------------------------------
def complaint_alerts(requests: pd.DataFrame | None, month: date) -> pd.DataFrame:
    """``requests``: request_id, customer_id, request_type, opened_at, due_at, resolved_at. A request
    of type ``complaint`` opened this month; keyed by the request. High."""
    if requests is None or requests.empty:
        return _empty()
    r = requests.loc[(requests["request_type"] == "complaint") & _in_month(requests["opened_at"], month)]
    return _alerts(r, AlertType.complaint, Severity.high.value, ["request_id"], ["request_id", "opened_at"])


def sla_breach_alerts(requests: pd.DataFrame | None, month: date) -> pd.DataFrame:
    """A request due this month (``due_at``) not resolved by then (``resolved_at`` missing, after the
    due time, or after the month end, i.e. not known yet); keyed by the request. High for a
    complaint, else medium."""
    if requests is None or requests.empty:
        return _empty()
    _, end = _window(month)
    due = pd.to_datetime(requests["due_at"])
    resolved = pd.to_datetime(requests["resolved_at"])
    resolved = resolved.where(resolved < end + pd.Timedelta(days=1))
    r = requests.loc[_in_month(due, month) & (resolved.isna() | (resolved > due))].copy()
    r["resolved_at"] = resolved.loc[r.index]
    severity = np.where(r["request_type"] == "complaint", Severity.high.value, Severity.medium.value)
    cols = ["request_id", "request_type", "due_at", "resolved_at"]
    return _alerts(r, AlertType.sla_breach, severity, ["request_id"], cols)


def detractor_alerts(responses: pd.DataFrame | None, month: date, s: Settings) -> pd.DataFrame:
    """``responses``: response_id, customer_id, answered_on, nps_score (0–10). An answer this month
    with a score ≤ ``alerts.detractor_max_score``; keyed by the response. Medium."""
    if responses is None or responses.empty:
        return _empty()
    r = responses.loc[
        _in_month(responses["answered_on"], month) & (responses["nps_score"] <= s.alerts.detractor_max_score)
    ]
    cols = ["response_id", "answered_on", "nps_score"]
    return _alerts(r, AlertType.detractor, Severity.medium.value, ["response_id"], cols)


# ---- all rules -------------------------------------------------------------------------------------
def _pandas(tables: dict[str, pa.Table], name: str) -> pd.DataFrame | None:
    table = tables.get(name)
    return None if table is None else cast(pd.DataFrame, table.to_pandas())


def evaluate_rules(
    tables: dict[str, pa.Table], history: pd.DataFrame, month: date, settings: Settings
) -> pd.DataFrame:
    """Candidate alerts of ``month`` (columns :data:`CANDIDATE_COLUMNS`), sorted by dedupe key."""
    _, end = _window(month)
    months = pd.to_datetime(history["month"])
    known = (months <= end).to_numpy()
    h = _by_customer_month(
        history.assign(month=months) if known.all() else history.loc[known].assign(month=months)
    )
    customers = tables["customers"].to_pandas()
    customers = customers.loc[pd.to_datetime(customers["onboarded_on"]) <= end]
    txns = tables["transactions"].to_pandas()
    txns = txns.loc[pd.to_datetime(txns["txn_date"]) <= end]
    positions = tables["positions"].to_pandas()
    positions = positions.loc[pd.to_datetime(positions["opened_on"]) <= end]
    staff = tables["staff"].to_pandas()
    s = settings
    parts = [
        large_outflow_alerts(txns, h, month, s),
        other_bank_alerts(txns, h, month, s),
        not_reinvested_alerts(positions, txns, month, s),
        payroll_stopped_alerts(txns, customers, month, per_month=_pandas(tables, "payroll_months")),
        watch_alerts(h, month, s),
        near_threshold_alerts(h, month, s),
        activity_collapse_alerts(h, tables["digital_activity"], month, s),
        risk_assessment_alerts(customers, month, s),
        rm_changed_alerts(customers, staff, tables["interactions"].to_pandas(), month),
        complaint_alerts(_pandas(tables, "service_requests"), month),
        sla_breach_alerts(_pandas(tables, "service_requests"), month),
        detractor_alerts(_pandas(tables, "survey_responses"), month, s),
    ]
    out = pd.concat([p for p in parts if not p.empty] or [_empty()], ignore_index=True)
    # one step lower for customers below the customer-loss floor (mass when not in the history)
    now = h.loc[h["month"] == _window(month)[0]].set_index("customer_id")["tier"]
    rank = pd.Series(now.map(_RANK).reindex(out["customer_id"].to_numpy()).to_numpy(), index=out.index)
    below = rank.fillna(0) < s.churn.customer_loss_min_tier.rank
    out.loc[below, "severity"] = out.loc[below, "severity"].map(lambda v: _DEMOTE.get(v, v))
    return out.sort_values("dedupe_key", kind="stable").reset_index(drop=True)[CANDIDATE_COLUMNS]
