"""Every scorecard figure recomputed from the raw rows of :mod:`.factories` by plain Python, one customer,
task, request and answer at a time, straight from the definitions in docs/scorecards.md — a second,
independent implementation the service's vectorised one must agree with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from .factories import (
    ANSWERS,
    BRANCH,
    CUSTOMERS,
    HOLDINGS,
    INTERACTIONS,
    MONTH,
    OVERRIDES,
    REASSIGNMENTS,
    REQUESTS,
    RESULTS,
    STAFF,
    TASKS,
    TRANSACTIONS,
    WINDOW,
)

HORIZON = 3
STAFF_BY = {s["staff_id"]: s for s in STAFF}
CUSTOMER = {c["customer_id"]: c for c in CUSTOMERS}
ROWS = {(r["customer_id"], r["month"]): r for r in RESULTS}
SUNFLOWER_PLUS = {"sunflower", "diamond", "private"}
CADENCE_DAYS = {"sunflower": 30, "diamond": 14, "private": 7}
INVESTMENTS = {"wmp", "fund", "insurance", "bond", "precious_metal", "custody"}
REMOTE = {"video", "wechat", "sms", "email"}

Owner = Callable[[str, date], str | None]


def shift(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def month_end(month: date) -> date:
    return shift(month, 1) - timedelta(days=1)


def in_month(moment: datetime | date | None, month: date) -> bool:
    if moment is None:
        return False
    day = moment.date() if isinstance(moment, datetime) else moment
    return month <= day <= month_end(month)


def rm_at(customer_id: str, month: date) -> str | None:
    """The RM at the end of ``month``: the first later reassignment's from-RM, else the current one;
    nobody when that RM was not employed during the month."""
    after = datetime.combine(shift(month, 1), time())
    later = sorted(
        (r for r in REASSIGNMENTS if r["customer_id"] == customer_id and r["at"] >= after),
        key=lambda r: r["at"],
    )
    who = later[0]["from_staff_id"] if later else CUSTOMER[customer_id]["rm_id"]
    if who is None:
        return None
    staff = STAFF_BY[who]
    if staff["joined_on"] > month_end(month) or (staff["left_on"] is not None and staff["left_on"] < month):
        return None
    return str(who)


def book_staff(month: date) -> list[str]:
    return [
        s["staff_id"]
        for s in STAFF
        if s["role"] in ("rm", "team_lead")
        and s["joined_on"] <= month_end(month)
        and (s["left_on"] is None or s["left_on"] >= month)
    ]


def parts(owner: Owner, unit: str, staff_ok: Callable[[str | None], bool]) -> dict[str, float]:
    """The additive parts of one RM (``owner`` = :func:`rm_at`) or of the branch (everyone)."""
    month, start = MONTH, shift(MONTH, -WINDOW)
    p: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        p[key] = p.get(key, 0.0) + float(value)

    book = [r for (c, m), r in ROWS.items() if m == month and owner(c, m) == unit]
    ids = {r["customer_id"] for r in book}
    for r in book:
        cid = r["customer_id"]
        add("customers", 1)
        add("sunflower_plus", r["tier"] in SUNFLOWER_PLUS)
        add("aum", r["aum"])
        add("asset_loss_events", r["asset_loss_amount"] is not None)
        add("asset_loss_amount", r["asset_loss_amount"] or 0)
        add("tier_upgrades", r["tier_event"] == "upgrade")
        add("tier_downgrades", r["tier_event"] == "downgrade")
        # cadence
        closed = CUSTOMER[cid]["closed_on"]
        days = CADENCE_DAYS.get(r["tier"])
        before = ROWS.get((cid, shift(month, -1)))
        if r["tier"] == "gold" and r["aum"] >= 300_000 and before is not None and r["aum"] > before["aum"]:
            days = 90
        if days is not None and (closed is None or closed > month_end(month)):
            add("cadence_customers", 1)
            reached = [
                x["at"].date()
                for x in INTERACTIONS
                if x["customer_id"] == cid
                and x["outcome"] != "no_answer"
                and x["at"].date() <= month_end(month)
            ]
            add("cadence_met", bool(reached) and (month_end(month) - max(reached)).days < days)
        held = [h for h in HOLDINGS if h["customer_id"] == cid and h["balance"] >= 1_000]
        add("classes_held", len(held))
        add("investors", any(h["asset_class"] in INVESTMENTS for h in held))
    for t in TRANSACTIONS:
        if (
            t["customer_id"] in ids
            and in_month(t["txn_date"], month)
            and t["kind"] not in ("own_account", "product")
        ):
            add("net_flow", t["amount"] if t["direction"] == "in" else -t["amount"])
    for o in OVERRIDES:
        if (
            o["customer_id"] in ids
            and o["action"] == "suitability.override_requested"
            and in_month(o["at"], month)
        ):
            add("suitability_exceptions", 1)
    for q in REQUESTS:
        if q["customer_id"] in ids and q["type"] == "complaint" and in_month(q["opened"], month):
            add("complaints", 1)

    # AUM retention: the book W months earlier, their AUM now
    for (cid, m), r in ROWS.items():
        if m == start and owner(cid, m) == unit:
            add("aum_then", r["aum"])
            now = ROWS.get((cid, month))
            add("aum_now", now["aum"] if now else 0.0)

    # the customers followed
    for cid in CUSTOMER:
        scored = [
            m
            for m in (shift(start, i) for i in range(WINDOW))
            if (cid, m) in ROWS and ROWS[cid, m]["p_loss"] is not None and owner(cid, m) == unit
        ]
        if not scored:
            continue
        entry = min(scored)
        exit_ = month
        for i in range(1, months_between(entry, month) + 1):
            m = shift(entry, i)
            if (cid, m) in ROWS and owner(cid, m) != unit:
                exit_ = shift(m, -1)
                break
        k = months_between(entry, exit_)
        if k < 1:
            continue
        row = ROWS[cid, entry]
        lost = any(
            ROWS[cid, shift(entry, i)]["customer_loss"]
            for i in range(1, k + 1)
            if (cid, shift(entry, i)) in ROWS
        )
        expected = 1 - (1 - row["p_loss"]) ** (k / HORIZON)
        share = min(1.0, row["expected_outflow"] / row["aum"])
        at_exit = ROWS.get((cid, exit_))
        add("at_risk_customers", 1)
        add("customer_losses", lost)
        add("expected_losses", expected)
        add("at_risk_aum", row["aum"])
        add("lost_aum", row["aum"] if lost else 0.0)
        add("expected_lost_aum", row["aum"] * expected)
        add("aum_outflow", max(0.0, row["aum"] - (at_exit["aum"] if at_exit else 0.0)))
        add("expected_outflow", row["aum"] * (1 - (1 - share) ** (k / HORIZON)))

    # the staff's own work
    for x in INTERACTIONS:
        if staff_ok(x["staff_id"]) and in_month(x["at"], month) and x["outcome"] != "no_answer":
            add("contacts", 1)
            add("remote_contacts", x["channel"] in REMOTE)
    saved: set[str] = set()
    next_start = datetime.combine(shift(month, 1), time())
    for t in TASKS:
        if not staff_ok(t["assignee_id"]):
            continue
        done = t["status"] == "done" and t["completed_at"] is not None and t["completed_at"] < next_start
        cancelled = t["status"] == "cancelled" and t["completed_at"] < next_start
        if in_month(t["due_on"], month) and not cancelled:
            add("tasks_due", 1)
            add("tasks_done", done)
            add("tasks_on_time", done and t["completed_at"].date() <= t["due_on"])
        if t["kind"] == "retention" and t["status"] == "done" and in_month(t["completed_at"], month):
            add("retention_tasks_done", 1)
            if t["outcome"] == "retained":
                saved.add(t["customer_id"])
    add("saves", len(saved))
    for q in REQUESTS:
        if not staff_ok(q["staff_id"]):
            continue
        if in_month(q["due"], month):
            add("requests_due", 1)
            add("requests_met", q["resolved"] is not None and q["resolved"] <= q["due"])
        if in_month(q["resolved"], month) and q["rating"] is not None:
            add("rating_sum", q["rating"])
            add("ratings", 1)

    # survey answers of the window's months after the first
    for a in ANSWERS:
        if not (shift(start, 1) <= a["on"] <= month_end(month)):
            continue
        if owner(a["customer_id"], a["on"].replace(day=1)) != unit:
            continue
        for item, score in a["scores"].items():
            if item == "NPS":
                add("survey_responses", 1)
                add("promoters", score >= 9)
                add("detractors", score <= 6)
            elif item == "SAT1":
                add("satisfaction_sum", score)
                add("satisfaction_n", 1)
            elif item in ("RM1", "RM2", "RM3"):
                add("rm_sum", score)
                add("rm_n", 1)
    return p


def rm_parts(staff_id: str) -> dict[str, float]:
    return parts(rm_at, staff_id, lambda s: s == staff_id)


def branch_parts() -> dict[str, float]:
    return parts(lambda c, m: BRANCH, BRANCH, lambda s: True)


def team_parts(team_id: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for sid in book_staff(MONTH):
        if STAFF_BY[sid]["team_id"] == team_id:
            for k, v in rm_parts(sid).items():
                out[k] = out.get(k, 0.0) + v
    return out


def figures(p: dict[str, float]) -> dict[str, Any]:
    g = p.get

    def ratio(num: float, den: float | None, scale: float = 1.0) -> float | None:
        return None if not den else scale * num / den

    counts = [
        "customers", "sunflower_plus", "aum", "net_flow", "at_risk_customers", "customer_losses",
        "expected_losses", "lost_aum", "expected_lost_aum", "aum_outflow", "expected_outflow",
        "asset_loss_events", "asset_loss_amount", "retention_tasks_done", "saves", "tier_upgrades",
        "tier_downgrades", "contacts", "cadence_customers", "tasks_due", "suitability_exceptions",
        "requests_due", "complaints", "ratings", "survey_responses",
    ]  # fmt: skip
    out: dict[str, Any] = {k: g(k, 0.0) for k in counts}
    out |= {
        "aum_retention": ratio(g("aum_now", 0.0), g("aum_then")),
        "risk_adjusted_retention": ratio(
            g("expected_losses", 0.0) - g("customer_losses", 0.0), g("at_risk_customers"), 100
        ),
        "risk_adjusted_outflow": ratio(
            g("expected_outflow", 0.0) - g("aum_outflow", 0.0), g("at_risk_aum"), 100
        ),
        "digital_contact_share": ratio(g("remote_contacts", 0.0), g("contacts")),
        "contact_coverage": ratio(g("cadence_met", 0.0), g("cadence_customers")),
        "task_completion": ratio(g("tasks_done", 0.0), g("tasks_due")),
        "task_timeliness": ratio(g("tasks_on_time", 0.0), g("tasks_due")),
        "products_per_customer": ratio(g("classes_held", 0.0), g("customers")),
        "investment_penetration": ratio(g("investors", 0.0), g("customers")),
        "sla_compliance": ratio(g("requests_met", 0.0), g("requests_due")),
        "service_rating": ratio(g("rating_sum", 0.0), g("ratings")),
        "nps": ratio(g("promoters", 0.0) - g("detractors", 0.0), g("survey_responses"), 100),
        "satisfaction": ratio(g("satisfaction_sum", 0.0), g("satisfaction_n")),
        "rm_rating": ratio(g("rm_sum", 0.0), g("rm_n")),
    }
    return out
