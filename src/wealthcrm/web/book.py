"""The Book page's view: reading its query (typed for the API, lenient for the page's form), the words
of its filters in the user's language, paging links, and the CSV stream of an export.

The data come from :mod:`wealthcrm.customers.book`, which enforces the caller's scope.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from sqlalchemy import Engine
from starlette.datastructures import QueryParams

from wealthcrm.customers import book
from wealthcrm.customers.book import BookOrder, BookQuery, Direction, RiskBand
from wealthcrm.customers.pseudonym import Pseudonymiser
from wealthcrm.customers.scope import Viewer
from wealthcrm.db import session_scope
from wealthcrm.vocab import Role, Stage, Tier
from wealthcrm.web.i18n import N_, Translator

#: roles that see the Book page, export it and keep saved views (service staff have no book)
BOOK_ROLES = (Role.rm, Role.team_lead, Role.branch_manager, Role.analyst, Role.auditor, Role.admin)
#: roles that may filter by RM (the others see one book)
RM_FILTER_ROLES = frozenset({Role.team_lead, Role.branch_manager, Role.analyst, Role.auditor, Role.admin})
PAGE_SIZE = 50
CONTACT_CHOICES = (30, 60, 90)

RISK_LABELS = {
    RiskBand.high.value: N_("High"),
    RiskBand.medium.value: N_("Medium"),
    RiskBand.low.value: N_("Low"),
    RiskBand.unscored.value: N_("Not scored"),
}
SORT_LABELS = {
    BookOrder.aum_at_risk.value: N_("AUM at risk"),
    BookOrder.aum.value: N_("AUM"),
    BookOrder.p_loss.value: N_("Probability of loss"),
    BookOrder.last_contact.value: N_("Last contact"),
    BookOrder.name.value: N_("Customer name"),
    BookOrder.customer_id.value: N_("Customer number"),
}
DIRECTION_LABELS = {
    Direction.desc.value: N_("Largest / newest first"),
    Direction.asc.value: N_("Smallest / oldest first"),
}


async def api_query(
    tier: Annotated[list[Tier] | None, Query(description="Tiers in the month (repeat for several).")] = None,
    stage: Annotated[list[Stage] | None, Query(description="Lifecycle stages (repeat for several).")] = None,
    risk: Annotated[
        list[RiskBand] | None,
        Query(description="P(loss) bands: low < 10% ≤ medium < 30% ≤ high; unscored: no P(loss)."),
    ] = None,
    aum_min: Annotated[float | None, Query(ge=0, description="Lowest month-average AUM, CNY.")] = None,
    aum_max: Annotated[float | None, Query(ge=0, description="Highest month-average AUM, CNY.")] = None,
    no_contact_days: Annotated[
        int | None, Query(ge=1, le=book.MAX_NO_CONTACT_DAYS, description="No contact in this many days.")
    ] = None,
    rm: Annotated[str | None, Query(max_length=32, description="Staff id of the assigned RM.")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Start of the id or part of the name.")
    ] = None,
    sort: BookOrder = BookOrder.aum_at_risk,
    direction: Annotated[
        Direction | None, Query(description="asc or desc; default: amounts desc, names asc, contact asc.")
    ] = None,
) -> BookQuery:
    """The Book's filter from typed query parameters (the API; OpenAPI documents each)."""
    return book.check(
        BookQuery(
            tiers=tuple(dict.fromkeys(tier or ())),
            stages=tuple(dict.fromkeys(stage or ())),
            risk=tuple(dict.fromkeys(risk or ())),
            aum_min=aum_min,
            aum_max=aum_max,
            no_contact_days=no_contact_days,
            rm_id=rm or None,
            q=q or None,
            sort=sort,
            direction=direction,
        )
    )


def page_query(params: QueryParams) -> BookQuery:
    """The Book's filter from the page's form, whose empty fields arrive as empty values."""
    grouped: dict[str, list[str]] = {}
    for key, value in params.multi_items():
        grouped.setdefault(key, []).append(value)
    grouped.pop("view", None)
    return book.parse_query(grouped)


def page_number(params: QueryParams) -> int:
    text = params.get("page") or "1"
    return max(1, min(int(text), 100_000)) if text.isdigit() else 1


@dataclass(frozen=True, slots=True)
class Pager:
    page: int
    pages: int
    total: int
    first: int  # 1-based index of the first row shown
    last: int
    prev_url: str | None
    next_url: str | None


def pager(query: BookQuery, *, page: int, total: int, size: int) -> Pager:
    pages = max(1, -(-total // size))

    def url(n: int) -> str:
        params = query.to_params() | ({"page": str(n)} if n > 1 else {})
        encoded = urlencode(params, doseq=True)
        return "/book" + (f"?{encoded}" if encoded else "")

    first = 0 if total == 0 else (page - 1) * size + 1
    return Pager(
        page=page,
        pages=pages,
        total=total,
        first=first,
        last=min(total, page * size),
        prev_url=url(page - 1) if page > 1 else None,
        next_url=url(page + 1) if page < pages else None,
    )


def filter_options(
    _: Translator, tier_labels: dict[str, str], stage_labels: dict[str, str]
) -> dict[str, Any]:
    """The choices of the filter form, (code, label) in display order."""
    return {
        "tiers": [(code, _(label)) for code, label in tier_labels.items()],
        "stages": [(code, _(label)) for code, label in stage_labels.items()],
        "risk": [(code, _(label)) for code, label in RISK_LABELS.items()],
        "sorts": [(code, _(label)) for code, label in SORT_LABELS.items()],
        "directions": [(code, _(label)) for code, label in DIRECTION_LABELS.items()],
        "contact": list(CONTACT_CHOICES),
    }


def csv_filename(month: date | None) -> str:
    return f"book-{month:%Y-%m}.csv" if month is not None else "book.csv"


def csv_stream(
    engine: Engine,
    *,
    user: Viewer,
    query: BookQuery,
    month: date | None,
    on: date,
    flush_bytes: int = 64_000,
    pseudonyms: Pseudonymiser | None = None,
) -> Iterator[str]:
    """The export as CSV text in pieces: a UTF-8 BOM (spreadsheets then read Chinese names right), the
    header, then the rows, read in chunks in a transaction of its own (the request's has committed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(book.CSV_COLUMNS)
    with session_scope(engine) as session:
        rows = book.export_rows(session, user=user, query=query, month=month, on=on, pseudonyms=pseudonyms)
        for item in rows:
            writer.writerow(book.csv_record(item))
            if buffer.tell() >= flush_bytes:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
