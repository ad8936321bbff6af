"""The scorecard's arithmetic: vectorised pandas over the frames of :mod:`wealthcrm.scorecards.data`.

Every figure is built from additive *parts* (counts, amounts, sums of scores) per unit, so a team's
parts are the sums of its members' and the rates come last (:func:`finish`).

**Whose customer.** The data contract keeps only a customer's current RM (``customers.rm_id``). The RM
at the end of an earlier month is found from the app's reassignments: the ``from_staff_id`` of the
first reassignment after that month, else the current RM. A changed RM that reached the app only by a
re-import leaves no trace, so for months before such a change the customer counts for the current RM
— and for nobody in months before that RM joined or after they left (``staff.joined_on``/``left_on``),
so a successor is never judged on a predecessor's months.

**Risk-adjusted retention** (why it is defined this way). The churn model's P(loss) is the probability
of a customer loss within *h* months *given everything visible at the time* — including the outflows
and falling logins of a customer whom a weak RM has already let drift. Comparing a month's losses with
the previous month's P therefore forgives most of what the RM caused: on the simulated branch the
hidden RM skill acts through satisfaction, long before the model sees outflows, and a one-month
comparison keeps almost none of it. So each customer is followed from an *entry* — the first month in
the window of W months (default 12) in which the model scored them in the RM's book — to the month
(or until they leave the RM), and the expectation is the entry's P carried over the months followed at
a constant hazard, 1 − (1 − P)^(k/h). A book that was risky when the period began is expected to lose
more; what the RM does during the period shows in the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wealthcrm.config import CadenceSettings
from wealthcrm.scorecards.data import NPS_ITEM, RM_ITEMS, SATISFACTION_ITEM, MonthData, add_months
from wealthcrm.vocab import RequestType, TaskKind, TaskOutcome, TaskStatus, Tier

SUNFLOWER_PLUS = (Tier.sunflower.value, Tier.diamond.value, Tier.private.value)
PROMOTER_MIN, DETRACTOR_MAX = 9, 6

#: the additive parts of every figure, in the order :func:`finish` reads them
PARTS = (
    "customers", "sunflower_plus", "aum", "net_flow", "aum_then", "aum_now",
    "at_risk_customers", "customer_losses", "expected_losses", "at_risk_aum", "lost_aum",
    "expected_lost_aum", "aum_outflow", "expected_outflow",
    "asset_loss_events", "asset_loss_amount", "retention_tasks_done", "saves", "tier_upgrades",
    "tier_downgrades", "contacts", "remote_contacts", "cadence_customers", "cadence_met", "tasks_due",
    "tasks_done", "tasks_on_time", "classes_held", "investors", "suitability_exceptions",
    "requests_due", "requests_met", "complaints", "rating_sum", "ratings",
    "survey_responses", "promoters", "detractors", "satisfaction_sum", "satisfaction_n", "rm_sum", "rm_n",
)  # fmt: skip


def month_no(values: pd.Series) -> pd.Series:
    """Months since year 0 (``year * 12 + month − 1``) of a column of dates or timestamps."""
    ts = pd.to_datetime(values)
    return (ts.dt.year * 12 + ts.dt.month - 1).astype("Int64")


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return None if not den else float(scale * num / den)


def finish(parts: dict[str, float]) -> dict[str, float | None]:
    """The figures (:data:`~wealthcrm.scorecards.metrics.METRICS` keys) from one unit's parts."""
    p = {k: float(parts.get(k, 0.0) or 0.0) for k in PARTS}
    counts = (
        "customers", "sunflower_plus", "at_risk_customers", "customer_losses", "asset_loss_events",
        "retention_tasks_done", "saves", "tier_upgrades", "tier_downgrades", "contacts",
        "cadence_customers", "tasks_due", "suitability_exceptions", "requests_due", "complaints", "ratings",
        "survey_responses",
    )  # fmt: skip
    amounts = (
        "aum", "net_flow", "lost_aum", "expected_lost_aum", "aum_outflow", "expected_outflow",
        "asset_loss_amount",
    )  # fmt: skip
    out: dict[str, float | None] = {k: float(round(p[k])) for k in counts}
    out.update({k: round(p[k], 2) for k in amounts})
    out["expected_losses"] = round(p["expected_losses"], 4)
    rates: dict[str, tuple[float | None, int]] = {
        "aum_retention": (_ratio(p["aum_now"], p["aum_then"]), 4),
        "risk_adjusted_retention": (
            _ratio(p["expected_losses"] - p["customer_losses"], p["at_risk_customers"], 100.0),
            4,
        ),
        "risk_adjusted_outflow": (
            _ratio(p["expected_outflow"] - p["aum_outflow"], p["at_risk_aum"], 100.0),
            4,
        ),
        "digital_contact_share": (_ratio(p["remote_contacts"], p["contacts"]), 4),
        "contact_coverage": (_ratio(p["cadence_met"], p["cadence_customers"]), 4),
        "task_completion": (_ratio(p["tasks_done"], p["tasks_due"]), 4),
        "task_timeliness": (_ratio(p["tasks_on_time"], p["tasks_due"]), 4),
        "products_per_customer": (_ratio(p["classes_held"], p["customers"]), 4),
        "investment_penetration": (_ratio(p["investors"], p["customers"]), 4),
        "sla_compliance": (_ratio(p["requests_met"], p["requests_due"]), 4),
        "service_rating": (_ratio(p["rating_sum"], p["ratings"]), 4),
        "nps": (_ratio(p["promoters"] - p["detractors"], p["survey_responses"], 100.0), 2),
        "satisfaction": (_ratio(p["satisfaction_sum"], p["satisfaction_n"]), 4),
        "rm_rating": (_ratio(p["rm_sum"], p["rm_n"]), 4),
    }
    out.update({k: None if v is None else round(v, digits) for k, (v, digits) in rates.items()})
    return out


# --- whose customer ---------------------------------------------------------------------------------


def holders(keys: pd.DataFrame, data: MonthData) -> pd.Series:
    """The RM (staff id, or None) of each ``keys`` row (customer_id, mno) at the end of month ``mno``."""
    if keys.empty:
        return pd.Series([], index=keys.index, dtype=object)
    k = pd.DataFrame({"customer_id": keys["customer_id"].astype(str), "mno": keys["mno"].astype("int64")})
    k["row"] = np.arange(len(k))
    nxt = k["mno"] + 1
    k["next_start"] = pd.to_datetime({"year": nxt // 12, "month": nxt % 12 + 1, "day": 1})
    current = data.customers.set_index("customer_id")["rm_id"]
    k["holder"] = k["customer_id"].map(current)
    moves = data.reassignments
    if not moves.empty:
        r = pd.DataFrame(
            {
                "customer_id": moves["customer_id"].astype(str),
                "at": pd.to_datetime(moves["at"]),
                "from_staff_id": moves["from_staff_id"],
            }
        ).sort_values("at", kind="stable")
        m = pd.merge_asof(
            k.sort_values("next_start", kind="stable"),
            r,
            left_on="next_start",
            right_on="at",
            by="customer_id",
            direction="forward",
        ).sort_values("row")
        k["holder"] = np.where(
            m["at"].notna().to_numpy(), m["from_staff_id"].to_numpy(), k["holder"].to_numpy()
        )
    staff = data.staff.set_index("staff_id")
    joined = month_no(k["holder"].map(staff["joined_on"]))
    left = month_no(k["holder"].map(staff["left_on"]))
    employed = (joined <= k["mno"]).fillna(False) & (left.isna() | (left >= k["mno"])).fillna(False)
    out = k["holder"].where(employed.to_numpy(dtype=bool) & k["holder"].notna().to_numpy(), None)
    return pd.Series(out.to_numpy(dtype=object), index=keys.index)


# --- the risk cohort --------------------------------------------------------------------------------


def risk_cohort(rows: pd.DataFrame, *, start: int, end: int, horizon: int) -> pd.DataFrame:
    """Per unit (column ``unit`` of ``rows``): the customers followed and their actual and expected
    losses and outflows (see the module docstring). ``rows``: customer_id, mno, unit, aum, p_loss,
    expected_outflow, customer_loss for months ``start``..``end``."""
    cols = ["at_risk_customers", "customer_losses", "expected_losses", "at_risk_aum", "lost_aum",
            "expected_lost_aum", "aum_outflow", "expected_outflow"]  # fmt: skip
    scored = rows[
        (rows["mno"] >= start) & (rows["mno"] < end) & rows["p_loss"].notna() & rows["unit"].notna()
    ]
    if scored.empty:
        return pd.DataFrame(columns=cols, dtype=float)
    entries = (
        scored.sort_values(["customer_id", "mno"], kind="stable")
        .groupby(["customer_id", "unit"], sort=False)
        .head(1)[["customer_id", "unit", "mno", "aum", "p_loss", "expected_outflow"]]
        .rename(columns={"mno": "entry", "unit": "entry_unit"})
        .reset_index(drop=True)
    )
    entries["id"] = np.arange(len(entries))
    later = entries[["id", "customer_id", "entry", "entry_unit"]].merge(
        rows[["customer_id", "mno", "unit", "aum", "customer_loss"]], on="customer_id"
    )
    later = later[(later["mno"] > later["entry"]) & (later["mno"] <= end)]
    moved = later[(later["unit"] != later["entry_unit"]) | later["unit"].isna()]
    first_move = moved.groupby("id")["mno"].min()
    entries["exit"] = (first_move.reindex(entries["id"]).to_numpy() - 1).astype(float)
    entries["exit"] = entries["exit"].fillna(end).astype("int64")
    entries["k"] = entries["exit"] - entries["entry"]
    entries = entries[entries["k"] >= 1]
    later = later.merge(entries[["id", "exit"]], on="id")
    followed = later[later["mno"] <= later["exit"]]
    lost_ids = set(followed.loc[followed["customer_loss"].astype(bool), "id"])
    at_exit = followed[followed["mno"] == followed["exit"]].set_index("id")["aum"]
    aum0 = entries["aum"].astype(float)
    p = entries["p_loss"].astype(float).clip(0.0, 1.0)
    share = (entries["expected_outflow"].astype(float).fillna(0.0) / aum0.where(aum0 > 0)).fillna(0.0)
    power = entries["k"].astype(float) / horizon
    expected = 1.0 - (1.0 - p) ** power
    lost = entries["id"].isin(lost_ids).astype(float)
    aum_end = at_exit.reindex(entries["id"]).fillna(0.0).to_numpy(dtype=float)
    per = pd.DataFrame(
        {
            "unit": entries["entry_unit"],
            "at_risk_customers": 1.0,
            "customer_losses": lost,
            "expected_losses": expected,
            "at_risk_aum": aum0,
            "lost_aum": aum0 * lost,
            "expected_lost_aum": aum0 * expected,
            "aum_outflow": (aum0 - aum_end).clip(lower=0.0),
            "expected_outflow": aum0 * (1.0 - (1.0 - share.clip(0.0, 1.0)) ** power),
        }
    )
    return per.groupby("unit")[cols].sum()


# --- the month --------------------------------------------------------------------------------------


def _sum(frame: pd.DataFrame, unit: str, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """Sum the named series (aligned with ``frame``) by ``frame[unit]``, leaving out rows without one."""
    values = pd.DataFrame({"unit": frame[unit], **{k: v.astype(float) for k, v in columns.items()}})
    return values[values["unit"].notna()].groupby("unit").sum()


def book_parts(book: pd.DataFrame, data: MonthData, cadence: CadenceSettings, unit: str) -> pd.DataFrame:
    """Parts of the month's book (``book``: the month's results with ``unit`` and ``previous_aum``)."""
    flows = book["customer_id"].map(data.flows.set_index("customer_id")["net_flow"]).fillna(0.0)
    held = data.holdings.set_index("customer_id")
    month_end = pd.Timestamp(add_months(data.month, 1)) - pd.Timedelta(days=1)
    closed = pd.to_datetime(book["customer_id"].map(data.customers.set_index("customer_id")["closed_on"]))
    open_at_end = closed.isna() | (closed > month_end)
    interval = {
        Tier.sunflower.value: cadence.sunflower_days,
        Tier.diamond.value: cadence.diamond_days,
        Tier.private.value: cadence.private_days,
    }
    prospect = (
        (book["tier"] == Tier.gold.value)
        & (book["aum"] >= cadence.gold_prospect_min_aum)
        & book["previous_aum"].notna()
        & (book["aum"] > book["previous_aum"])
    )
    tiered = book["tier"].map(interval).astype(float).to_numpy()
    days = pd.Series(
        np.where(np.isnan(tiered), np.where(prospect, cadence.gold_prospect_days, np.nan), tiered),
        index=book.index,
    )
    under = open_at_end & days.notna()
    last = pd.to_datetime(book["customer_id"].map(data.last_contact.set_index("customer_id")["last_contact"]))
    since = (month_end - last.dt.normalize()).dt.days
    met = under & since.notna() & (since < days)
    complaints = data.requests[
        (data.requests["request_type"] == RequestType.complaint.value)
        & (pd.to_datetime(data.requests["opened_at"]) >= pd.Timestamp(data.month))
        & (pd.to_datetime(data.requests["opened_at"]) < month_end + pd.Timedelta(days=1))
    ]
    return _sum(
        book,
        unit,
        {
            "customers": pd.Series(1.0, index=book.index),
            "sunflower_plus": book["tier"].isin(SUNFLOWER_PLUS),
            "aum": book["aum"],
            "net_flow": flows,
            "asset_loss_events": book["asset_loss_amount"].notna(),
            "asset_loss_amount": book["asset_loss_amount"].fillna(0.0),
            "tier_upgrades": book["tier_event"] == "upgrade",
            "tier_downgrades": book["tier_event"] == "downgrade",
            "cadence_customers": under,
            "cadence_met": met,
            "classes_held": book["customer_id"].map(held["classes"]).fillna(0.0),
            "investors": book["customer_id"].map(held["investor"]).fillna(0.0) > 0,
            "suitability_exceptions": book["customer_id"]
            .map(data.overrides["customer_id"].value_counts())
            .fillna(0),
            "complaints": book["customer_id"].map(complaints["customer_id"].value_counts()).fillna(0),
        },
    )


def staff_parts(data: MonthData, unit_of_staff: pd.Series, unit_of_customer: pd.Series) -> pd.DataFrame:
    """Parts of the staff's own work in the month: contacts, tasks, saves, service requests.

    ``unit_of_staff`` maps a staff id to its unit; requests without an assignee count for the unit of
    their customer (``unit_of_customer``) — only at the branch level, where both maps agree.
    """
    t0, t1 = pd.Timestamp(data.month), pd.Timestamp(add_months(data.month, 1))
    contacts = data.contacts.assign(unit=data.contacts["staff_id"].map(unit_of_staff))
    out = [_sum(contacts, "unit", {"contacts": contacts["contacts"], "remote_contacts": contacts["remote"]})]

    tasks = data.tasks.assign(unit=data.tasks["assignee_id"].map(unit_of_staff))
    done_at = pd.to_datetime(tasks["completed_at"])
    due_on = pd.to_datetime(tasks["due_on"])
    in_month = (due_on >= t0) & (due_on < t1)
    cancelled = (tasks["status"] == TaskStatus.cancelled.value) & (done_at < t1)
    due = in_month & ~cancelled
    done = due & (tasks["status"] == TaskStatus.done.value) & (done_at < t1)
    retention_done = (
        (tasks["kind"] == TaskKind.retention.value)
        & (tasks["status"] == TaskStatus.done.value)
        & (done_at >= t0)
        & (done_at < t1)
    )
    out.append(
        _sum(
            tasks,
            "unit",
            {
                "tasks_due": due,
                "tasks_done": done,
                "tasks_on_time": done & (done_at.dt.normalize() <= due_on),
                "retention_tasks_done": retention_done,
            },
        )
    )
    saved = tasks[retention_done & (tasks["outcome"] == TaskOutcome.retained.value)]
    saved = saved.drop_duplicates(["unit", "customer_id"])
    out.append(_sum(saved, "unit", {"saves": pd.Series(1.0, index=saved.index)}))

    by_staff = data.requests["staff_id"].map(unit_of_staff).astype(object)
    by_customer = data.requests["customer_id"].map(unit_of_customer).astype(object)
    req = data.requests.assign(unit=by_staff.where(by_staff.notna(), by_customer))
    due_at, resolved = pd.to_datetime(req["due_at"]), pd.to_datetime(req["resolved_at"])
    req_due = (due_at >= t0) & (due_at < t1)
    rated = (resolved >= t0) & (resolved < t1) & req["rating"].notna()
    out.append(
        _sum(
            req,
            "unit",
            {
                "requests_due": req_due,
                "requests_met": req_due & resolved.notna() & (resolved <= due_at),
                "rating_sum": req["rating"].where(rated, 0.0).astype(float),
                "ratings": rated,
            },
        )
    )
    return pd.concat(out, axis=1).fillna(0.0)


def survey_parts(answers: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Parts of the survey figures (``answers`` with a ``unit`` column)."""
    score = answers["score"].astype(float)
    nps = answers["item_id"] == NPS_ITEM
    sat = answers["item_id"] == SATISFACTION_ITEM
    rm = answers["item_id"].isin(RM_ITEMS)
    return _sum(
        answers,
        unit,
        {
            "survey_responses": nps,
            "promoters": nps & (score >= PROMOTER_MIN),
            "detractors": nps & (score <= DETRACTOR_MAX),
            "satisfaction_sum": score.where(sat, 0.0),
            "satisfaction_n": sat,
            "rm_sum": score.where(rm, 0.0),
            "rm_n": rm,
        },
    )


@dataclass(frozen=True, slots=True)
class UnitParts:
    """Parts per RM (staff id) and per branch (branch id), rows = units, columns = :data:`PARTS`."""

    rms: pd.DataFrame
    branches: pd.DataFrame


def unit_parts(data: MonthData, *, cadence: CadenceSettings, horizon: int) -> UnitParts:
    """Every part of every RM and branch for the month of ``data``."""
    end = int(month_no(pd.Series([pd.Timestamp(data.month)])).iloc[0])
    start = int(month_no(pd.Series([pd.Timestamp(data.start)])).iloc[0])
    branch_of = data.customers.set_index("customer_id")["branch_id"]
    res = data.results.assign(mno=month_no(data.results["month"]).astype("int64"))
    res["rm"] = holders(res, data)
    res["branch"] = res["customer_id"].map(branch_of)
    previous = res[res["mno"] == end - 1].set_index("customer_id")["aum"]
    book = res[res["mno"] == end].copy()
    book["previous_aum"] = book["customer_id"].map(previous)
    then = res[res["mno"] == start]
    now = then["customer_id"].map(book.set_index("customer_id")["aum"]).fillna(0.0)
    answers = data.answers.assign(mno=month_no(data.answers["answered_on"]).astype("int64"))
    answers["rm"] = holders(answers, data)
    answers["branch"] = answers["customer_id"].map(branch_of)
    staff_id = data.staff.set_index("staff_id")

    def level(unit: str, unit_of_staff: pd.Series, unit_of_customer: pd.Series) -> pd.DataFrame:
        frames = [
            book_parts(book, data, cadence, unit),
            _sum(then, unit, {"aum_then": then["aum"], "aum_now": now}),
            risk_cohort(res.assign(unit=res[unit]), start=start, end=end, horizon=horizon),
            staff_parts(data, unit_of_staff, unit_of_customer),
            survey_parts(answers, unit),
        ]
        found = [f for f in frames if not f.empty]
        parts = pd.concat(found, axis=1) if found else pd.DataFrame(columns=list(PARTS), dtype=float)
        return parts.reindex(columns=list(PARTS)).fillna(0.0)

    own = pd.Series(staff_id.index, index=staff_id.index)
    rms = level("rm", own, pd.Series(dtype=object))
    branches = level("branch", staff_id["branch_id"], branch_of)
    return UnitParts(rms, branches)
