"""The branch overview page's view: the tier report as table rows and chart labels in one language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.errors import Invalid, NotFound
from wealthcrm.holdings.service import latest_month, month_range
from wealthcrm.tiers.service import GONE, NEW, NoDataForMonth, TierReport, tier_report
from wealthcrm.vocab import TIER_ORDER
from wealthcrm.web.i18n import N_, Translator

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_CHOICES = 36  # months offered in the page's month picker, newest first
RANK = {tier.value: tier.rank for tier in TIER_ORDER}

LABELS = {
    "mass": N_("Mass"),
    "gold": N_("Gold"),
    "sunflower": N_("Sunflower"),
    "diamond": N_("Diamond"),
    "private": N_("Private banking"),
    NEW: N_("New customers"),
    GONE: N_("Closed"),
}


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` as the month's first day; None for no value; :class:`Invalid` for anything else."""
    if not text:
        return None
    match = MONTH_RE.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise Invalid(f"month: {text!r} is not a month; use YYYY-MM, e.g. 2026-10")
    return date(int(match.group(1)), int(match.group(2)), 1)


def load_report(session: Session, *, month: str | None, settings: Settings) -> TierReport | None:
    """The tier report of ``month`` (YYYY-MM) or of the latest month with AUM; None when none is stored."""
    wanted = parse_month(month) or latest_month(session)
    if wanted is None:
        return None
    try:
        return tier_report(session, month=wanted, settings=settings)
    except NoDataForMonth as exc:
        raise NotFound(str(exc)) from exc


def month_choices(session: Session) -> list[str]:
    """Months to offer in the picker: from the latest month with AUM back to the first, at most 36."""
    found = month_range(session)
    if found is None:
        return []
    first, last = found
    out: list[str] = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month) and len(out) < MONTH_CHOICES:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


@dataclass(frozen=True, slots=True)
class TierRow:
    code: str
    label: str
    customers: int
    aum: float
    customer_share: float
    aum_share: float


def tier_rows(report: TierReport, _: Translator) -> list[TierRow]:
    customers = report.total.customers or 1
    aum = report.total.aum or 1.0
    return [
        TierRow(code, _(LABELS[code]), b.customers, b.aum, b.customers / customers, b.aum / aum)
        for code, b in report.tiers.items()
    ]


def _kind(row: str, col: str) -> str:
    """How a migration cell moved: "up", "down", "same", or "" for new and closed customers."""
    if row not in RANK or col not in RANK:
        return ""
    return "same" if RANK[row] == RANK[col] else "up" if RANK[col] > RANK[row] else "down"


def migration_rows(report: TierReport, _: Translator) -> list[tuple[str, list[tuple[int, str]]]]:
    """(row label, [(count, kind) in column order]) for each row of the migration matrix."""
    return [
        (_(LABELS[row]), [(n, _kind(row, col)) for col, n in cells.items()])
        for row, cells in report.migration.items()
    ]


def migration_columns(report: TierReport, _: Translator) -> list[str]:
    first_row = next(iter(report.migration.values()))
    return [_(LABELS[col]) for col in first_row]


def chart_labels(report: TierReport, _: Translator) -> dict[str, Any]:
    """The words the charts draw, and the order of tiers, rows and columns (JSON objects have none)."""
    return {
        "locale": _.locale,
        "tiers": list(report.tiers),
        "rows": list(report.migration),
        "cols": list(next(iter(report.migration.values()))),
        "names": {code: _(label) for code, label in LABELS.items()},
        "customers": _("Customers"),
        "aum": _("AUM"),
        "this_month": _("This month"),
    }
