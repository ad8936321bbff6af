"""The Book: the caller's customers filtered, sorted and paged; saved views; rows for the CSV export.

Everything runs inside the caller's scope (:func:`~wealthcrm.customers.scope.scope_filter`): a customer
outside it never appears in a page, a count, a search or an export.

- :class:`BookQuery` — the filter and order of the Book page, as it travels in a query string
  (:func:`parse_query` reads one, :meth:`BookQuery.to_params` writes one; saved views store it);
- :func:`search` — one page of the book of a month with last contact and open alerts per customer;
- :func:`count` / :func:`export_rows` — the whole filtered book for the CSV export (:data:`CSV_COLUMNS`);
- :func:`list_views` / :func:`save_view` / :func:`delete_view` — a user's own named filters.

**Last contact** is the latest interaction logged for the customer by anyone (any channel, any
outcome). "No contact in N days" holds when there is none, or when the last one was N or more days
before ``on`` (today): with ``on`` = 2026-11-28 and N = 30, a contact on 2026-10-29 counts as no
contact, one on 2026-10-30 does not.

**Risk bands** cut P(loss) at :data:`RISK_BANDS`: ``low`` below 10% (the Today page's at-risk line),
``medium`` 10%–30%, ``high`` 30% and above; ``unscored`` has no P(loss) in the month.

**Analysts** see the whole branch pseudonymised (:mod:`.pseudonym`): :func:`search`, :func:`count` and
:func:`export_rows` need their ``pseudonyms`` (:class:`Forbidden` without), and every row carries the
pseudonym as customer number and name and no national ID or mobile number. ``q`` then finds a
customer by their whole pseudonym only, and the order by name is refused (:class:`Invalid`): it would
sort by what the analyst may not see.

Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlencode

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.audit.service import Actor
from wealthcrm.customers.models import Customer, SavedView
from wealthcrm.customers.pseudonym import REFUSED, Pseudonymiser, is_pseudonymised
from wealthcrm.customers.scope import Viewer, scope_filter
from wealthcrm.customers.service import AT_RISK_MIN_P_LOSS
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff.models import Staff
from wealthcrm.vocab import AlertStatus, Stage, Tier

E = TypeVar("E", bound=StrEnum)

#: P(loss) below the first bound is ``low``, below the second ``medium``, else ``high``.
RISK_BANDS = (AT_RISK_MIN_P_LOSS, 0.30)
MAX_NO_CONTACT_DAYS = 3650
MAX_VIEWS_PER_USER = 50
MAX_VIEW_NAME = 100


class RiskBand(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    unscored = "unscored"


class BookOrder(StrEnum):
    """Orders of the Book (the values of :class:`~wealthcrm.customers.service.BookSort`, plus contact)."""

    aum_at_risk = "aum_at_risk"
    p_loss = "p_loss"
    aum = "aum"
    last_contact = "last_contact"
    name = "name"
    customer_id = "customer_id"


class Direction(StrEnum):
    asc = "asc"
    desc = "desc"


#: the direction of each order when none is asked: amounts and P(loss) largest first, names A→Z,
#: last contact oldest first (never contacted at the very top: they are the most overdue).
DEFAULT_DIRECTION = {
    BookOrder.aum_at_risk: Direction.desc,
    BookOrder.p_loss: Direction.desc,
    BookOrder.aum: Direction.desc,
    BookOrder.last_contact: Direction.asc,
    BookOrder.name: Direction.asc,
    BookOrder.customer_id: Direction.asc,
}


@dataclass(frozen=True, slots=True)
class BookQuery:
    """What the Book shows: every field narrows the list (empty tuples and None narrow nothing)."""

    tiers: tuple[Tier, ...] = ()
    stages: tuple[Stage, ...] = ()
    risk: tuple[RiskBand, ...] = ()
    aum_min: float | None = None
    aum_max: float | None = None
    no_contact_days: int | None = None
    rm_id: str | None = None
    q: str | None = None
    sort: BookOrder = BookOrder.aum_at_risk
    direction: Direction | None = None

    @property
    def effective_direction(self) -> Direction:
        return self.direction or DEFAULT_DIRECTION[self.sort]

    def to_params(self) -> dict[str, str | list[str]]:
        """The query-string parameters of this query, defaults left out (what a saved view stores)."""
        out: dict[str, str | list[str]] = {}
        for key, values in (("tier", self.tiers), ("stage", self.stages), ("risk", self.risk)):
            if values:
                out[key] = [v.value for v in values]
        for key, number in (("aum_min", self.aum_min), ("aum_max", self.aum_max)):
            if number is not None:
                out[key] = f"{number:g}" if float(number).is_integer() else repr(float(number))
        if self.no_contact_days is not None:
            out["no_contact_days"] = str(self.no_contact_days)
        if self.rm_id:
            out["rm"] = self.rm_id
        if self.q:
            out["q"] = self.q
        if self.sort is not BookOrder.aum_at_risk:
            out["sort"] = self.sort.value
        if self.direction is not None:
            out["direction"] = self.direction.value
        return out

    def query_string(self) -> str:
        return urlencode(self.to_params(), doseq=True)

    def describe(self) -> dict[str, Any]:
        """JSON-ready filter for audit details and API answers (never PII: a search text is not PII)."""
        return dict(self.to_params())


#: query-string keys of the Book besides the filter (ignored by :func:`parse_query`)
PAGING_KEYS = frozenset({"page", "page_size"})
_KEYS = frozenset(
    {"tier", "stage", "risk", "aum_min", "aum_max", "no_contact_days", "rm", "q", "sort", "direction"}
)


def _enum_list(kind: type[E], key: str, values: Sequence[str]) -> tuple[E, ...]:
    out: list[E] = []
    for value in values:
        if value == "":
            continue
        try:
            item = kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise Invalid(f"{key}: {value!r} is not one of {allowed}") from None
        if item not in out:
            out.append(item)
    return tuple(out)


def _one(key: str, values: Sequence[str]) -> str | None:
    present = [v for v in values if v != ""]
    if len(present) > 1:
        raise Invalid(f"{key}: give one value, not {len(present)}")
    return present[0] if present else None


def _number(key: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"{key}: {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid(f"{key}: {text!r} is not a number")
    return value


def parse_query(params: Mapping[str, Sequence[str]]) -> BookQuery:
    """A :class:`BookQuery` from query-string parameters (each key → its values, as ``parse_qs`` gives).

    Paging keys are ignored; an unknown key or a bad value raises :class:`Invalid` naming it.
    """
    unknown = sorted(set(params) - _KEYS - PAGING_KEYS)
    if unknown:
        raise Invalid(f"unknown filter: {', '.join(unknown)}")

    def get(key: str) -> Sequence[str]:
        return params.get(key, ())

    days_text = _one("no_contact_days", get("no_contact_days"))
    days: int | None = None
    if days_text is not None:
        if not days_text.isdigit():
            raise Invalid(f"no_contact_days: {days_text!r} is not a whole number of days")
        days = int(days_text)
    sort_text = _one("sort", get("sort"))
    direction_text = _one("direction", get("direction"))
    query = BookQuery(
        tiers=_enum_list(Tier, "tier", get("tier")),
        stages=_enum_list(Stage, "stage", get("stage")),
        risk=_enum_list(RiskBand, "risk", get("risk")),
        aum_min=_number("aum_min", _one("aum_min", get("aum_min"))),
        aum_max=_number("aum_max", _one("aum_max", get("aum_max"))),
        no_contact_days=days,
        rm_id=_one("rm", get("rm")),
        q=_one("q", get("q")),
        sort=_enum_list(BookOrder, "sort", [sort_text])[0] if sort_text else BookOrder.aum_at_risk,
        direction=_enum_list(Direction, "direction", [direction_text])[0] if direction_text else None,
    )
    return check(query)


def check(query: BookQuery) -> BookQuery:
    """``query`` when its fields agree with each other and with the limits; else :class:`Invalid`."""
    for key, value in (("aum_min", query.aum_min), ("aum_max", query.aum_max)):
        if value is not None and value < 0:
            raise Invalid(f"{key}: must not be negative")
    if query.aum_min is not None and query.aum_max is not None and query.aum_min > query.aum_max:
        raise Invalid("aum_min: must not be larger than aum_max")
    days = query.no_contact_days
    if days is not None and not 1 <= days <= MAX_NO_CONTACT_DAYS:
        raise Invalid(f"no_contact_days: must be between 1 and {MAX_NO_CONTACT_DAYS}")
    for key, text, limit in (("q", query.q, 100), ("rm", query.rm_id, 32)):
        if text is not None and len(text) > limit:
            raise Invalid(f"{key}: at most {limit} characters")
    return query


# --- the query ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookItem:
    """One customer of the Book in the month: results of the nightly batch, contact and alerts."""

    customer_id: str
    name: str
    rm_id: str | None
    rm_name: str | None
    tier: str | None
    stage: str | None
    watch: bool | None
    aum: float | None
    p_loss: float | None
    risk_band: str
    aum_at_risk: float | None
    expected_outflow: float | None
    last_contact_at: datetime | None
    days_since_contact: int | None
    open_alerts: int
    reasons: list[dict[str, Any]] = field(default_factory=list)
    national_id_masked: str | None = None
    mobile_masked: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "rm_id": self.rm_id,
            "rm_name": self.rm_name,
            "tier": self.tier,
            "stage": self.stage,
            "watch": self.watch,
            "aum": self.aum,
            "p_loss": self.p_loss,
            "risk_band": self.risk_band,
            "aum_at_risk": self.aum_at_risk,
            "expected_outflow": self.expected_outflow,
            "last_contact_at": None if self.last_contact_at is None else self.last_contact_at.isoformat(),
            "days_since_contact": self.days_since_contact,
            "open_alerts": self.open_alerts,
            "reasons": list(self.reasons),
            "alerts": [],  # kept for clients of the first list API; the count is ``open_alerts``
        }


@dataclass(frozen=True, slots=True)
class BookResult:
    month: date | None
    total: int
    items: list[BookItem]


def _last_contact() -> Any:
    return (
        select(func.max(Interaction.occurred_at))
        .where(Interaction.customer_id == Customer.customer_id)
        .correlate(Customer)
        .scalar_subquery()
    )


def _open_alert_count() -> Any:
    return (
        select(func.count(Alert.id))
        .where(Alert.customer_id == Customer.customer_id, Alert.status == AlertStatus.open)
        .correlate(Customer)
        .scalar_subquery()
    )


def _band_condition(band: RiskBand) -> ColumnElement[bool]:
    low, high = RISK_BANDS
    p = CustomerMonth.p_loss
    if band is RiskBand.unscored:
        return p.is_(None)
    if band is RiskBand.low:
        return p < low
    if band is RiskBand.medium:
        return and_(p >= low, p < high)
    return p >= high


def risk_band(p_loss: float | None) -> RiskBand:
    if p_loss is None:
        return RiskBand.unscored
    low, high = RISK_BANDS
    return RiskBand.low if p_loss < low else RiskBand.medium if p_loss < high else RiskBand.high


def contact_cutoff(on: date, days: int) -> datetime:
    """Contacts before this moment are ``days`` or more days before ``on`` (see the module's note)."""
    return datetime.combine(on - timedelta(days=days - 1), time.min)


#: orders an analyst may not use: by the name they do not see (the customer number's order stays, the
#: stable order of paging: it tells nobody who is who)
IDENTIFYING_ORDERS = frozenset({BookOrder.name})


def _pseudonymous_ids(
    session: Session, query: BookQuery, *, user: Viewer, pseudonyms: Pseudonymiser | None
) -> list[str] | None:
    """For an analyst: the ids ``q`` finds by pseudonym (None: no ``q``); checks the order too.

    Raises :class:`Forbidden` for an analyst without ``pseudonyms``. None for other users.
    """
    if not is_pseudonymised(user):
        return None
    if pseudonyms is None:
        raise Forbidden(REFUSED)
    if query.sort in IDENTIFYING_ORDERS:
        raise Invalid(f"sort: analysts cannot sort by {query.sort.value} (pseudonymised views)")
    text = (query.q or "").strip()
    if not text:
        return None
    return pseudonyms.find(text, session.scalars(select(Customer.customer_id).where(scope_filter(user))))


def _select(
    query: BookQuery, *, user: Viewer, month: date | None, on: date, only: list[str] | None = None
) -> tuple[Any, Any]:
    """The filtered statement (not ordered) and its last-contact column.

    ``only``: an analyst's search by pseudonym, as the customer ids it found (replaces ``q``).
    """
    last_contact = _last_contact().label("last_contact_at")
    joined = and_(CustomerMonth.customer_id == Customer.customer_id, CustomerMonth.month == month)
    conditions: list[ColumnElement[bool]] = [scope_filter(user)]
    if query.tiers:
        conditions.append(CustomerMonth.tier.in_(query.tiers))
    if query.stages:
        conditions.append(CustomerMonth.stage.in_(query.stages))
    if query.risk:
        conditions.append(or_(*(_band_condition(b) for b in query.risk)))
    if query.aum_min is not None:
        conditions.append(CustomerMonth.aum >= query.aum_min)
    if query.aum_max is not None:
        conditions.append(CustomerMonth.aum <= query.aum_max)
    if query.no_contact_days is not None:
        last = _last_contact()
        conditions.append(or_(last.is_(None), last < contact_cutoff(on, query.no_contact_days)))
    if query.rm_id:
        conditions.append(Customer.rm_id == query.rm_id)
    text = (query.q or "").strip()
    if is_pseudonymised(user):
        if text:  # never by name or real number: by the whole pseudonym (found before, as ids)
            conditions.append(Customer.customer_id.in_(only or []))
    elif text:
        conditions.append(
            or_(
                Customer.customer_id.istartswith(text, autoescape=True),
                Customer.name.icontains(text, autoescape=True),
            )
        )
    stmt = (
        select(
            Customer.customer_id,
            Customer.name,
            Customer.rm_id,
            Staff.name.label("rm_name"),
            Customer.national_id_masked,
            Customer.mobile_masked,
            CustomerMonth.tier,
            CustomerMonth.stage,
            CustomerMonth.watch,
            CustomerMonth.aum,
            CustomerMonth.p_loss,
            CustomerMonth.aum_at_risk,
            CustomerMonth.expected_outflow,
            CustomerMonth.reasons,
            last_contact,
            _open_alert_count().label("open_alerts"),
        )
        .select_from(Customer)
        .outerjoin(CustomerMonth, joined)
        .outerjoin(Staff, Staff.staff_id == Customer.rm_id)
        .where(*conditions)
    )
    return stmt, last_contact


def _ordered(stmt: Any, query: BookQuery, last_contact: Any) -> Any:
    column = {
        BookOrder.aum_at_risk: CustomerMonth.aum_at_risk,
        BookOrder.p_loss: CustomerMonth.p_loss,
        BookOrder.aum: CustomerMonth.aum,
        BookOrder.last_contact: last_contact,
        BookOrder.name: Customer.name,
        BookOrder.customer_id: Customer.customer_id,
    }[query.sort]
    if query.sort is BookOrder.customer_id:
        key = column.desc() if query.effective_direction is Direction.desc else column.asc()
        return stmt.order_by(key)
    if query.sort is BookOrder.last_contact:
        # Never contacted is the oldest contact of all: first when oldest first, last otherwise.
        key = (
            column.asc().nulls_first()
            if query.effective_direction is Direction.asc
            else column.desc().nulls_last()
        )
    else:
        # Customers without results of the month stay at the end whichever way the list runs.
        key = (
            column.desc().nulls_last()
            if query.effective_direction is Direction.desc
            else column.asc().nulls_last()
        )
    return stmt.order_by(key, Customer.customer_id)


def _to_datetime(value: Any) -> datetime | None:
    """MAX() of a timestamp: a datetime on PostgreSQL, ISO text on SQLite (the type is lost in MAX)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _float(value: Any) -> float | None:
    """Amounts come back as Decimal from NUMERIC columns: plain floats for JSON and CSV."""
    return None if value is None else float(value)


def _item(row: Any, on: date, pseudonyms: Pseudonymiser | None = None) -> BookItem:
    last = _to_datetime(row.last_contact_at)
    item = BookItem(
        customer_id=row.customer_id,
        name=row.name,
        rm_id=row.rm_id,
        rm_name=row.rm_name,
        tier=None if row.tier is None else str(row.tier),
        stage=None if row.stage is None else str(row.stage),
        watch=row.watch,
        aum=_float(row.aum),
        p_loss=_float(row.p_loss),
        risk_band=risk_band(row.p_loss).value,
        aum_at_risk=_float(row.aum_at_risk),
        expected_outflow=_float(row.expected_outflow),
        last_contact_at=last,
        days_since_contact=None if last is None else (on - last.date()).days,
        open_alerts=int(row.open_alerts or 0),
        reasons=list(row.reasons or []),
        national_id_masked=row.national_id_masked,
        mobile_masked=row.mobile_masked,
    )
    return item if pseudonyms is None else pseudonymise(item, pseudonyms)


def pseudonymise(item: BookItem, pseudonyms: Pseudonymiser) -> BookItem:
    """The row as analysts see it: the pseudonym as number and name, no national ID or mobile."""
    alias = pseudonyms(item.customer_id)
    return replace(item, customer_id=alias, name=alias, national_id_masked=None, mobile_masked=None)


def search(
    session: Session,
    *,
    user: Viewer,
    query: BookQuery,
    month: date | None,
    on: date,
    limit: int = 50,
    offset: int = 0,
    pseudonyms: Pseudonymiser | None = None,
) -> BookResult:
    """One page of ``user``'s book with the results of ``month`` (None before the first nightly run).

    Customers without a row for ``month`` are listed with empty results, unless a filter on the
    month's results (tier, stage, risk band other than ``unscored``, AUM) leaves them out. An analyst's
    rows are pseudonymised with ``pseudonyms`` (required for analysts, unused for everyone else).
    """
    only = _pseudonymous_ids(session, check(query), user=user, pseudonyms=pseudonyms)
    stmt, last_contact = _select(query, user=user, month=month, on=on, only=only)
    total = _count(session, stmt)
    page = _ordered(stmt, query, last_contact).limit(limit).offset(offset)
    alias = pseudonyms if is_pseudonymised(user) else None
    return BookResult(month, total, [_item(r, on, alias) for r in session.execute(page)])


def count(
    session: Session,
    *,
    user: Viewer,
    query: BookQuery,
    month: date | None,
    on: date,
    pseudonyms: Pseudonymiser | None = None,
) -> int:
    """How many customers of ``user``'s book ``query`` selects."""
    only = _pseudonymous_ids(session, check(query), user=user, pseudonyms=pseudonyms)
    stmt, _ = _select(query, user=user, month=month, on=on, only=only)
    return _count(session, stmt)


def _count(session: Session, stmt: Any) -> int:
    """The rows of the book statement, counted over its joins and filters only: not computing each
    row's last contact and open alerts (two sub-queries per customer) just to count the rows. The
    outer joins are one-to-one (a customer's month row, their RM), so they do not change the count."""
    return int(session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=False)) or 0)


def export_rows(
    session: Session,
    *,
    user: Viewer,
    query: BookQuery,
    month: date | None,
    on: date,
    chunk: int = 1000,
    pseudonyms: Pseudonymiser | None = None,
) -> Iterator[BookItem]:
    """Every customer ``query`` selects, in the query's order, fetched ``chunk`` rows at a time."""
    only = _pseudonymous_ids(session, check(query), user=user, pseudonyms=pseudonyms)
    stmt, last_contact = _select(query, user=user, month=month, on=on, only=only)
    alias = pseudonyms if is_pseudonymised(user) else None
    result = session.execute(_ordered(stmt, query, last_contact).execution_options(yield_per=chunk))
    for row in result:
        yield _item(row, on, alias)


#: The columns of the CSV export, in order (docs/workbench.md describes each). Only masked PII.
CSV_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "name",
    "rm_id",
    "rm_name",
    "tier",
    "stage",
    "watch",
    "aum",
    "p_loss",
    "risk_band",
    "aum_at_risk",
    "expected_outflow",
    "last_contact_on",
    "days_since_contact",
    "open_alerts",
    "national_id_masked",
    "mobile_masked",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.2f}"  # amounts in CNY
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula: make such text plain (OWASP CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_record(item: BookItem) -> list[str]:
    """One row of the export, cells in :data:`CSV_COLUMNS` order."""
    values: dict[str, Any] = {
        "customer_id": item.customer_id,
        "name": item.name,
        "rm_id": item.rm_id,
        "rm_name": item.rm_name,
        "tier": item.tier,
        "stage": item.stage,
        "watch": item.watch,
        "aum": item.aum,
        "p_loss": None if item.p_loss is None else f"{item.p_loss:.4f}",
        "risk_band": item.risk_band,
        "aum_at_risk": item.aum_at_risk,
        "expected_outflow": item.expected_outflow,
        "last_contact_on": None if item.last_contact_at is None else item.last_contact_at.date().isoformat(),
        "days_since_contact": item.days_since_contact,
        "open_alerts": item.open_alerts,
        "national_id_masked": item.national_id_masked,
        "mobile_masked": item.mobile_masked,
    }
    return [_cell(values[name]) for name in CSV_COLUMNS]


def record_export(session: Session, *, actor: Actor, query: BookQuery, month: date | None, rows: int) -> None:
    """The audit entry of a CSV export: its filter, month and row count (no customer data)."""
    audit.record(
        session,
        actor=actor,
        action="book.export",
        entity="customers",
        details={
            "filter": query.describe(),
            "month": None if month is None else month.isoformat(),
            "rows": rows,
            "columns": list(CSV_COLUMNS),
        },
    )


# --- saved views --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class View:
    id: int
    name: str
    query: str
    params: dict[str, Any]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "params": dict(self.params),
            "created_at": self.created_at.isoformat(),
        }


class SavedViewOwner(Viewer, Actor, Protocol):
    """A user who keeps saved views: a role and staff id (scope), a name (audit) and an id."""

    @property
    def id(self) -> int: ...


def _view(row: SavedView) -> View:
    params = dict(row.params or {})
    return View(row.id, row.name, urlencode(params, doseq=True), params, row.created_at)


def list_views(session: Session, *, user_id: int) -> list[View]:
    """The user's saved views by name."""
    rows = session.scalars(
        select(SavedView).where(SavedView.user_id == user_id).order_by(SavedView.name, SavedView.id)
    )
    return [_view(r) for r in rows]


def save_view(session: Session, *, user: SavedViewOwner, name: str, query: str | BookQuery) -> View:
    """Keep ``query`` (a query string, e.g. ``tier=sunflower&risk=high``, or a parsed one) as ``name``.

    The query is checked as the Book would read it and stored without paging and defaults. A second
    view of the same name is a :class:`Conflict`; a user keeps at most :data:`MAX_VIEWS_PER_USER`.
    """
    title = " ".join(name.split())
    if not title:
        raise Invalid("name: give the view a name")
    if len(title) > MAX_VIEW_NAME:
        raise Invalid(f"name: at most {MAX_VIEW_NAME} characters")
    parsed = (
        query
        if isinstance(query, BookQuery)
        else parse_query(parse_qs(query.lstrip("?"), keep_blank_values=True, max_num_fields=100))
    )
    existing = session.scalars(select(SavedView.name).where(SavedView.user_id == user.id)).all()
    if title in existing:
        raise Conflict(f"name: you already have a view called {title!r}")
    if len(existing) >= MAX_VIEWS_PER_USER:
        raise Conflict(f"you have {MAX_VIEWS_PER_USER} saved views already: delete one first")
    row = SavedView(
        user_id=user.id,
        name=title,
        params=parsed.to_params(),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="saved_view.create",
        entity="saved_view",
        entity_id=row.id,
        details={"name": title, "filter": parsed.describe()},
    )
    return _view(row)


def get_view(session: Session, *, user_id: int, view_id: int) -> View:
    """The user's own view; another user's is :class:`NotFound`, like a missing one."""
    row = session.scalar(select(SavedView).where(SavedView.id == view_id, SavedView.user_id == user_id))
    if row is None:
        raise NotFound(f"no saved view {view_id}")
    return _view(row)


def delete_view(session: Session, *, user: SavedViewOwner, view_id: int) -> None:
    """Delete the user's own view; another user's is :class:`NotFound`, like a missing one."""
    row = session.scalar(select(SavedView).where(SavedView.id == view_id, SavedView.user_id == user.id))
    if row is None:
        raise NotFound(f"no saved view {view_id}")
    audit.record(
        session,
        actor=user,
        action="saved_view.delete",
        entity="saved_view",
        entity_id=row.id,
        details={"name": row.name},
    )
    session.delete(row)
    session.flush()
