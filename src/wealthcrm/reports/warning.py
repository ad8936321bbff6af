"""Early-warning effectiveness: did the early warning see this month's losses coming, how early, and
how often were its flags right?

With the prediction horizon H (``churn.horizon_months``, 3) and the report month M:

- a customer is *flagged* in a month k by an **alert** when one of their alerts was open that month
  (``first_month ≤ k ≤ last_month``), and by a **top-decile score** when their P(loss) that month was
  at least the month's 90th-percentile P(loss) (the highest tenth of the scored customers, ties in);
- **caught**: of the customers lost in M (``customer_months.customer_loss``), those flagged in any of
  the H months before M (M−H … M−1); **months ahead** is M minus the first such month;
- **precision**: of the customers at or above the loss tier and not lost in month F = M−H, those
  flagged in F, and the share of them lost within the H months after F (F+1 … M — the horizon ends
  with this report's month). The same share among every such customer is the base rate the flags
  should beat.
"""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.reports.document import Chart, Column, Figure, Num, Section, Series, Table, Text
from wealthcrm.reports.months import mno, month_of
from wealthcrm.vocab import TIER_ORDER

TOP_SHARE = 0.10  # the top decile


def score_threshold(session: Session, month: date) -> float | None:
    """The lowest P(loss) of the month's top decile of scored customers; None when none was scored."""
    scored = session.scalar(
        select(func.count()).where(CustomerMonth.month == month, CustomerMonth.p_loss.is_not(None))
    )
    if not scored:
        return None
    rank = math.ceil(scored * TOP_SHARE)
    value = session.scalar(
        select(CustomerMonth.p_loss)
        .where(CustomerMonth.month == month, CustomerMonth.p_loss.is_not(None))
        .order_by(CustomerMonth.p_loss.desc())
        .offset(rank - 1)
        .limit(1)
    )
    return None if value is None else float(value)


def score_flagged(session: Session, month: date, ids: set[str] | None = None) -> set[str]:
    """Customers in the month's top decile of P(loss) (of ``ids`` only, when given)."""
    threshold = score_threshold(session, month)
    if threshold is None:
        return set()
    found = session.scalars(
        select(CustomerMonth.customer_id).where(
            CustomerMonth.month == month, CustomerMonth.p_loss >= threshold
        )
    )
    return {c for c in found if ids is None or c in ids}


def alert_months(session: Session, *, first: date, last: date) -> dict[str, list[tuple[date, date]]]:
    """Customer → the (first_month, last_month) spans of their alerts that overlap ``first … last``."""
    rows = session.execute(
        select(Alert.customer_id, Alert.first_month, Alert.last_month).where(
            Alert.first_month <= last, Alert.last_month >= first
        )
    )
    out: dict[str, list[tuple[date, date]]] = {}
    for cid, a, b in rows:
        out.setdefault(cid, []).append((a, b))
    return out


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def section(session: Session, *, month: date, settings: Settings) -> Section:
    horizon = settings.churn.horizon_months
    window = [month_of(n) for n in range(mno(month) - horizon, mno(month))]
    lost = set(
        session.scalars(
            select(CustomerMonth.customer_id).where(
                CustomerMonth.month == month, CustomerMonth.customer_loss.is_(True)
            )
        )
    )
    spans = alert_months(session, first=window[0], last=month)
    first_alert: dict[str, date] = {}
    for cid in lost:
        starts = [max(a, window[0]) for a, b in spans.get(cid, []) if a <= window[-1] and b >= window[0]]
        if starts:
            first_alert[cid] = min(starts)
    first_score: dict[str, date] = {}
    for k in window:
        for cid in score_flagged(session, k, lost):
            first_score.setdefault(cid, k)
    either = {c: min(d for d in (first_alert.get(c), first_score.get(c)) if d is not None)
              for c in set(first_alert) | set(first_score)}  # fmt: skip
    n = len(lost)
    caught = Table(
        "caught",
        "Customers lost this month, by flag",
        (Column("flag", "Flag", "label"), Column("customers", "Customers"), Column("share", "Share", "pct")),
        (
            ("An alert", len(first_alert), _pct(len(first_alert), n)),
            ("A top-decile score", len(first_score), _pct(len(first_score), n)),
            ("Either", len(either), _pct(len(either), n)),
            ("Not flagged", n - len(either), _pct(n - len(either), n)),
        ),
    )
    ahead = {m: sum(1 for d in either.values() if mno(month) - mno(d) == m) for m in range(horizon, 0, -1)}
    lead = Table(
        "ahead",
        "How early the lost customers were flagged",
        (Column("months", "Months before the loss"), Column("customers", "Customers")),
        tuple((m, c) for m, c in ahead.items()),
    )
    mean_ahead = sum(mno(month) - mno(d) for d in either.values()) / len(either) if either else None

    cohort = month_of(mno(month) - horizon)
    floor = settings.churn.customer_loss_min_tier
    tiers = [t for t in TIER_ORDER if t.rank >= floor.rank]
    population = set(
        session.scalars(
            select(CustomerMonth.customer_id).where(
                CustomerMonth.month == cohort,
                CustomerMonth.tier.in_(tiers),
                CustomerMonth.customer_loss.is_(False),
            )
        )
    )
    lost_after = set(
        session.scalars(
            select(CustomerMonth.customer_id).where(
                CustomerMonth.month > cohort,
                CustomerMonth.month <= month,
                CustomerMonth.customer_loss.is_(True),
            )
        )
    )
    alerted = {
        cid
        for cid, found in alert_months(session, first=cohort, last=cohort).items()
        if cid in population and found
    }
    scored = score_flagged(session, cohort, population)
    groups = (
        ("An alert", alerted),
        ("A top-decile score", scored),
        ("Either", alerted | scored),
        ("Every customer (base rate)", population),
    )
    precision = Table(
        "precision",
        "Precision of the flags",
        (
            Column("flag", "Flag", "label"),
            Column("flagged", "Customers flagged"),
            Column("lost", "Lost since"),
            Column("precision", "Precision", "pct"),
        ),
        tuple(
            (name, len(ids), len(ids & lost_after), _pct(len(ids & lost_after), len(ids)))
            for name, ids in groups
        ),
    )
    both = alerted | scored
    chart = Chart(
        "ahead",
        "How early the lost customers were flagged",
        "bar",
        tuple(f"M-{m}" for m in ahead),
        (Series("Customers", tuple(ahead.values())),),
        categories_kind="text",
    )
    notes: tuple[Text, ...] = ()
    if not session.scalar(select(func.count()).where(CustomerMonth.month == month)):
        notes = (Text("No nightly results for this month yet: run the nightly batch for it."),)
    return Section(
        "early_warning",
        "Early-warning effectiveness",
        figures=(
            Figure("lost", "Customers lost", n),
            Figure("caught", "Flagged beforehand", len(either)),
            Figure("recall", "Share flagged beforehand", _pct(len(either), n), "pct"),
            Figure("months_ahead", "Months ahead, on average", mean_ahead, "num1"),
            Figure("precision", "Precision of the flags", _pct(len(both & lost_after), len(both)), "pct"),
            Figure("base_rate", "Base rate", _pct(len(population & lost_after), len(population)), "pct"),
        ),
        tables=(caught, lead, precision),
        charts=(chart,),
        definitions=(
            (
                "Flagged",
                Text(
                    "An alert open in the month, or a P(loss) in the month's top tenth of scored "
                    "customers (a top-decile score)."
                ),
            ),
            (
                "Flagged beforehand",
                Text(
                    "Customers lost this month who were flagged in at least one of the {horizon} months "
                    "before; months ahead counts back from the loss to the first such month.",
                    {"horizon": horizon},
                ),
            ),
            (
                "Precision of the flags",
                Text(
                    "Of the customers at or above the loss tier flagged in {cohort}, the share lost "
                    "within the {horizon} months after (to this month).",
                    {"cohort": cohort.strftime("%Y-%m"), "horizon": horizon},
                ),
            ),
            (
                "Base rate",
                Text(
                    "The same share among every customer at or above the loss tier in {cohort}: "
                    "the flags are useful when their precision is well above it.",
                    {"cohort": cohort.strftime("%Y-%m")},
                ),
            ),
        ),
        notes=(*notes, Text("Horizon: {horizon} months.", {"horizon": Num(horizon)})),
    )
