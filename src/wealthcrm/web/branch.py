"""The Branch page's data: the manager views of :mod:`wealthcrm.analytics.views` for a month, with a
per-process cache, and the words and chart labels of the page.

**Cost** (demo branch, 3,000 customers, 24 months, SQLite, 2 cores): extracting the tables takes
2–3 s, the tier history 0.3 s, the three sets of Kaplan–Meier curves 0.1–2.7 s, the behaviour
measures 0.4 s, the value × potential grid 0.1 s and the behaviour segments 1 s on one thread (KMeans
for k = 3…6 with silhouettes; 60–75 s with OpenMP's default threads on a busy host, see
:func:`compute`). So the expensive part (tables, history, measures, grid, curves, segments) is
computed once per month and kept in :class:`BranchCache`, keyed by the data's fingerprint (the last
import, nightly run and reassignment, the number of customers): a new import, nightly run or
reassignment makes the next request compute afresh. The cheap parts (the period migration matrix,
the monthly trends, the alert counts) are computed on every request; a cached page answers in
well under a second.

Segments are of the sunflower-or-above customers (the branch's mid-to-high-end customers, whom the
churn issue is about; also 5× cheaper than the whole branch).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics import views
from wealthcrm.analytics.extract import extract_tables
from wealthcrm.analytics.models import NightlyRun
from wealthcrm.analytics.segments import behaviour_measures
from wealthcrm.analytics.tiering import tier_history
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.errors import Invalid, NotFound
from wealthcrm.holdings.service import latest_month, month_range
from wealthcrm.ingest.models import ImportRun
from wealthcrm.staff.models import Staff
from wealthcrm.vocab import TIER_ORDER, AlertStatus, AlertType, Role, Tier
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.overview import LABELS as TIER_LABELS
from wealthcrm.web.overview import parse_month
from wealthcrm.web.workbench import ALERT_LABELS

BRANCH_ROLES = (Role.branch_manager, Role.team_lead, Role.analyst, Role.auditor, Role.admin)
SUNFLOWER_PLUS = (Tier.sunflower.value, Tier.diamond.value, Tier.private.value)
DEFAULT_PERIOD = 12  # months from the period's first month to the report month, both counted
RECENT_ALERT_MONTHS = 3
CACHE_SIZE = 4
GROUPINGS = ("tier", "cohort", "rm")
GROUPING_LABELS = {
    "tier": N_("By tier at entry"),
    "cohort": N_("By onboarding year"),
    "rm": N_("By relationship manager"),
}


def _mno(d: date | pd.Timestamp) -> int:
    return d.year * 12 + d.month - 1


def _from_mno(n: int) -> date:
    return date(n // 12, n % 12 + 1, 1)


@dataclass(frozen=True, slots=True, eq=False)
class Computed:
    """What one month costs to compute: kept in the cache."""

    month: date
    history: pd.DataFrame = field(repr=False)
    grid: views.Grid | None
    curves: dict[str, dict[str, views.RetentionCurve]]
    segments: views.Segmentation | None
    segments_error: str | None


class BranchCache:
    """Computed months, newest use last; at most ``size`` kept. One computation at a time (the lock),
    so a burst of requests for a new month computes it once."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Computed] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times a month was computed (tests and logs read it)

    def get(self, key: tuple[Any, ...], compute: Any) -> Computed:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value: Computed = compute()
            self.computed += 1
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever what the views read may have changed (see the module's note)."""
    return (
        session.scalar(select(func.max(ImportRun.id))),
        session.scalar(select(func.max(NightlyRun.id))),
        session.scalar(select(func.max(Reassignment.id))),
        session.scalar(select(func.count()).select_from(Customer)),
    )


def compute(engine: Engine, *, month: date, settings: Settings) -> Computed:
    """The expensive views of ``month`` from the extracted tables (see the module's note).

    Numerical libraries run on one thread here: KMeans' OpenMP threads spin against the web server's
    other threads and processes, which made the segments 60–75 s instead of 1 s on a busy 2-core host.
    """
    with threadpool_limits(limits=1):
        return _compute(engine, month=month, settings=settings)


def _compute(engine: Engine, *, month: date, settings: Settings) -> Computed:
    tables = extract_tables(engine, until=month, time_zone=settings.sla.time_zone)
    history = tier_history(tables, settings)
    months = pd.to_datetime(history["month"])
    if not (months == pd.Timestamp(month)).any():
        raise NotFound(f"no AUM data for {month:%Y-%m}")
    customers = tables["customers"]
    curves = {
        by: views.retention_curves(history, customers, by=by, min_tier=settings.churn.customer_loss_min_tier)  # type: ignore[arg-type]
        for by in GROUPINGS
    }
    measures = behaviour_measures(history, tables, month)
    grid = views.value_potential_grid(history, measures, month) if len(measures) >= 3 else None
    segments, error = None, None
    try:
        segments = views.behaviour_segments(history, measures, month, tiers=SUNFLOWER_PLUS)
    except ValueError as exc:  # too few customers to segment
        error = str(exc)
    return Computed(month, history, grid, curves, segments, error)


def cache_of(state: Any) -> BranchCache:
    """The app's cache (created on first use: the app factory need not know about it)."""
    cache: BranchCache | None = getattr(state, "branch_cache", None)
    if cache is None:
        cache = BranchCache()
        state.branch_cache = cache
    return cache


# --- the cheap parts ------------------------------------------------------------------------------------


def period_matrix(history: pd.DataFrame, start: date, end: date) -> dict[str, dict[str, int]]:
    """Customers by effective tier in ``start`` (rows, or ``new``: not counted then) and in ``end``
    (columns, or ``gone``: not counted then, i.e. closed), every cell present."""
    months = pd.to_datetime(history["month"])
    before = history.loc[months == pd.Timestamp(start), ["customer_id", "tier"]].set_index("customer_id")[
        "tier"
    ]
    after = history.loc[months == pd.Timestamp(end), ["customer_id", "tier"]].set_index("customer_id")["tier"]
    both = before.index.union(after.index)
    rows = before.reindex(both).fillna(views.NEW)
    cols = after.reindex(both).fillna(views.GONE)
    counts = pd.crosstab(rows, cols)
    row_names, col_names = [*views.TIERS, views.NEW], [*views.TIERS, views.GONE]
    cells = counts.reindex(index=row_names, columns=col_names, fill_value=0).to_numpy(dtype=np.int64)
    return {r: {c: int(cells[i, j]) for j, c in enumerate(col_names)} for i, r in enumerate(row_names)}


def trends(history: pd.DataFrame, start: date, end: date) -> list[dict[str, Any]]:
    """Per month of the period: customers counted, customer losses (count and their AUM that month,
    as the tier report counts them), asset-loss events and CNY lost, tier upgrades and downgrades."""
    months = pd.to_datetime(history["month"])
    inside = history[(months >= pd.Timestamp(start)) & (months <= pd.Timestamp(end))]
    by_month = inside.assign(
        lost_aum=np.where(inside["customer_loss"], inside["aum"], 0.0),
        asset_event=inside["asset_loss_amount"].notna(),
        asset_amount=inside["asset_loss_amount"].fillna(0.0),
        up=inside["tier_event"] == "upgrade",
        down=inside["tier_event"] == "downgrade",
    ).groupby(pd.to_datetime(inside["month"]))
    table = by_month.agg(
        customers=("customer_id", "size"),
        customer_loss=("customer_loss", "sum"),
        customer_loss_aum=("lost_aum", "sum"),
        asset_loss_events=("asset_event", "sum"),
        asset_loss_amount=("asset_amount", "sum"),
        upgrades=("up", "sum"),
        downgrades=("down", "sum"),
    )
    out = []
    for stamp, row in table.iterrows():
        assert isinstance(stamp, pd.Timestamp)
        out.append(
            {
                "month": stamp.strftime("%Y-%m"),
                "customers": int(row["customers"]),
                "customer_loss": int(row["customer_loss"]),
                "customer_loss_aum": round(float(row["customer_loss_aum"]), 2),
                "asset_loss_events": int(row["asset_loss_events"]),
                "asset_loss_amount": round(float(row["asset_loss_amount"]), 2),
                "upgrades": int(row["upgrades"]),
                "downgrades": int(row["downgrades"]),
            }
        )
    return out


def alerts_by_type(session: Session, *, month: date) -> list[dict[str, Any]]:
    """Per alert type: open now, and raised in the last 3 months up to ``month`` (any status)."""
    since = _from_mno(_mno(month) - RECENT_ALERT_MONTHS + 1)
    rows = session.execute(
        select(
            Alert.alert_type,
            func.sum(case((Alert.status == AlertStatus.open, 1), else_=0)),
            func.sum(case(((Alert.first_month >= since) & (Alert.first_month <= month), 1), else_=0)),
        ).group_by(Alert.alert_type)
    ).all()
    found = {str(t): (int(o or 0), int(r or 0)) for t, o, r in rows}
    return [
        {"alert_type": t.value, "open": found[t.value][0], "recent": found[t.value][1]}
        for t in AlertType
        if t.value in found
    ]


def _clean(value: Any) -> Any:
    """JSON-ready: NaN (a mean of nothing) as None, walking dicts and lists."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _curves_dict(
    curves: dict[str, dict[str, views.RetentionCurve]], rm_names: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for by, group in curves.items():
        items = []
        for label, curve in group.items():
            item = curve.to_dict()
            item["name"] = rm_names.get(label, label) if by == "rm" else label
            items.append(item)
        out[by] = items
    return out


@dataclass(frozen=True, slots=True)
class BranchReport:
    month: date
    start: date
    months: list[str]  # the months the page offers, newest first
    migration: dict[str, dict[str, int]]
    trends: list[dict[str, Any]]
    retention: dict[str, list[dict[str, Any]]]
    alerts: list[dict[str, Any]]
    grid: dict[str, Any] | None
    segments: dict[str, Any] | None
    segments_note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "from": self.start.isoformat(),
            "migration": {
                "from": self.start.isoformat(),
                "to": self.month.isoformat(),
                "rows": list(self.migration),
                "columns": list(next(iter(self.migration.values()))),
                "counts": self.migration,
            },
            "trends": self.trends,
            "retention": self.retention,
            "alerts": self.alerts,
            "value_potential": self.grid,
            "segments": self.segments,
            "segments_note": self.segments_note,
        }


def available_months(session: Session) -> list[date]:
    found = month_range(session)
    if found is None:
        return []
    first, last = found
    return [_from_mno(n) for n in range(_mno(last), _mno(first) - 1, -1)]


def load(
    session: Session,
    *,
    engine: Engine,
    cache: BranchCache,
    settings: Settings,
    month: str | None,
    start: str | None,
) -> BranchReport | None:
    """The Branch page of ``month`` (YYYY-MM; default the latest with AUM) over the period from
    ``start`` (default 11 months earlier, or the first month of data); None before any AUM is stored."""
    wanted = parse_month(month) or latest_month(session)
    if wanted is None:
        return None
    offered = available_months(session)
    if wanted not in offered:
        raise NotFound(f"no AUM data for {wanted:%Y-%m}")
    first = offered[-1]
    begin = parse_month(start) or max(first, _from_mno(_mno(wanted) - DEFAULT_PERIOD + 1))
    if begin > wanted:
        raise Invalid("from: the period's first month must not be after its last")
    begin = max(begin, first)
    key = (wanted, fingerprint(session))
    done = cache.get(key, lambda: compute(engine, month=wanted, settings=settings))
    rm_names = dict(session.execute(select(Staff.staff_id, Staff.name)).all())
    return BranchReport(
        month=wanted,
        start=begin,
        months=[m.strftime("%Y-%m") for m in offered],
        migration=period_matrix(done.history, begin, wanted),
        trends=trends(done.history, begin, wanted),
        retention=_curves_dict(done.curves, rm_names),
        alerts=alerts_by_type(session, month=wanted),
        grid=None if done.grid is None else _clean(done.grid.to_dict()),
        segments=None if done.segments is None else _clean(done.segments.to_dict()),
        segments_note=done.segments_error,
    )


# --- words ----------------------------------------------------------------------------------------------


def chart_labels(_: Translator) -> dict[str, Any]:
    """The words the charts draw in the user's language, and the order of tiers and groupings."""
    return {
        "locale": _.locale,
        "tiers": [t.value for t in TIER_ORDER],
        "names": {code: _(label) for code, label in TIER_LABELS.items()},
        "alerts": {code: _(label) for code, label in ALERT_LABELS.items()},
        "groupings": {by: _(label) for by, label in GROUPING_LABELS.items()},
        "customer_loss": _("Customer loss"),
        "asset_loss": _("Asset loss (CNY)"),
        "asset_events": _("Asset-loss events"),
        "open": _("Open"),
        "recent": _("Raised in the last 3 months"),
        "retained": _("Share retained"),
        "months_since": _("Months since reaching sunflower"),
        "potential": {
            "low": _("Low potential"),
            "medium": _("Medium potential"),
            "high": _("High potential"),
        },
        "customers": _("Customers"),
        "aum": _("AUM"),
    }
