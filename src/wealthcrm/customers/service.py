"""Customers as the RM workbench reads them, always inside the caller's scope (:mod:`.scope`).

- :func:`get_customer` — one customer, or :class:`~wealthcrm.errors.NotFound` (also when out of scope);
- :func:`book` — the customers of a month with their tier, stage and churn risk, filtered and paged;
- :func:`today` — the prioritised risk list of the latest scored month and the open alerts;
- :func:`customer_360` — everything the customer's page shows.

Nothing here commits. Results are plain frozen dataclasses with ``to_dict()`` for the JSON API.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.actions import ACTION_TEXT
from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.access import note_denied
from wealthcrm.customers.models import Customer
from wealthcrm.customers.pseudonym import is_pseudonymised, require_identified
from wealthcrm.customers.scope import Viewer, scope_filter
from wealthcrm.errors import NotFound
from wealthcrm.holdings.models import AumMonthly, Position
from wealthcrm.interactions.models import Interaction
from wealthcrm.products.models import Product
from wealthcrm.staff.models import Staff
from wealthcrm.tasks.rules import ALERTS_AS_TASKS
from wealthcrm.vocab import AlertStatus, AlertType, PositionStatus, Severity, Stage, Tier

#: Today lists customers whose probability of loss is at least this, largest AUM at risk first.
AT_RISK_MIN_P_LOSS = 0.10
#: positions maturing within this many days are highlighted on the customer's page
MATURITY_SOON_DAYS = 90
_SEVERITY_RANK = {Severity.high: 0, Severity.medium: 1, Severity.low: 2}
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


class BookSort(StrEnum):
    """Orders of :func:`book`; amounts and probabilities largest first, names and ids A→Z."""

    aum_at_risk = "aum_at_risk"
    p_loss = "p_loss"
    aum = "aum"
    name = "name"
    customer_id = "customer_id"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names (looked up once per class; ``functools.cache`` would do, but mypy
    takes a dataclass type for one of its unhashable instances)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, enums as their values, dataclasses as dicts, containers walked
    (without :func:`dataclasses.asdict`'s deep copy of every value first)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _names(type(value))}
    return value


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    customer_id: str
    customer_name: str
    alert_type: str
    severity: str
    status: str
    first_month: date
    last_month: date
    evidence: dict[str, Any]
    action: str
    closed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain(self)
        out["action_text"] = dict(ACTION_TEXT.get(self.action, {}))
        return out


@dataclass(frozen=True, slots=True)
class BookRow:
    customer_id: str
    name: str
    rm_id: str | None
    rm_name: str | None
    tier: str | None
    stage: str | None
    watch: bool | None
    aum: float | None
    p_loss: float | None
    aum_at_risk: float | None
    expected_outflow: float | None
    reasons: list[dict[str, Any]]
    alerts: list[AlertRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain({k: getattr(self, k) for k in _names(type(self)) if k != "alerts"})
        out["alerts"] = [a.to_dict() for a in self.alerts]
        return out


@dataclass(frozen=True, slots=True)
class BookPage:
    month: date | None
    total: int
    rows: list[BookRow]


@dataclass(frozen=True, slots=True)
class Today:
    month: date | None
    customers_at_risk: int
    aum_at_risk: float
    open_alerts: int
    rows: list[BookRow]  # the top of the risk list, each with its open alerts
    other_alerts: list[AlertRow]  # open alerts of customers not in ``rows``, most severe first

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": _plain(self.month),
            "customers_at_risk": self.customers_at_risk,
            "aum_at_risk": self.aum_at_risk,
            "open_alerts": self.open_alerts,
            "customers": [r.to_dict() for r in self.rows],
            "other_alerts": [a.to_dict() for a in self.other_alerts],
        }


# --- one customer -----------------------------------------------------------------------------------


def get_customer(session: Session, *, user: Viewer, customer_id: str) -> Customer:
    """The customer, if ``user`` may see them; else :class:`NotFound`, the same as for a missing id.

    Analysts see pseudonymised views only: :class:`Forbidden` for any id (:mod:`.pseudonym`), audited.
    """
    if is_pseudonymised(user):
        note_denied(session, user=user, customer_id=customer_id)
        require_identified(user)
    customer = session.scalar(select(Customer).where(Customer.customer_id == customer_id, scope_filter(user)))
    if customer is None:
        note_denied(session, user=user, customer_id=customer_id)  # audited if it exists (out of scope)
        raise NotFound(f"no customer {customer_id!r}")
    return customer


def latest_scored_month(session: Session) -> date | None:
    """The last month the nightly batch wrote (its first day), or None before the first run."""
    return session.scalar(select(func.max(CustomerMonth.month)))


# --- the book ---------------------------------------------------------------------------------------

_ORDER: dict[BookSort, tuple[Any, ...]] = {
    BookSort.aum_at_risk: (CustomerMonth.aum_at_risk.desc().nulls_last(),),
    BookSort.p_loss: (CustomerMonth.p_loss.desc().nulls_last(),),
    BookSort.aum: (CustomerMonth.aum.desc().nulls_last(),),
    BookSort.name: (Customer.name,),
    BookSort.customer_id: (),
}


def _book_rows(session: Session, stmt: Any) -> list[BookRow]:
    return [
        BookRow(
            customer_id=r.customer_id,
            name=r.name,
            rm_id=r.rm_id,
            rm_name=r.rm_name,
            tier=None if r.tier is None else str(r.tier),
            stage=None if r.stage is None else str(r.stage),
            watch=r.watch,
            aum=r.aum,
            p_loss=r.p_loss,
            aum_at_risk=r.aum_at_risk,
            expected_outflow=r.expected_outflow,
            reasons=list(r.reasons or []),
        )
        for r in session.execute(stmt)
    ]


def _book_select(month: date | None) -> Any:
    joined = and_(CustomerMonth.customer_id == Customer.customer_id, CustomerMonth.month == month)
    return (
        select(
            Customer.customer_id,
            Customer.name,
            Customer.rm_id,
            Staff.name.label("rm_name"),
            CustomerMonth.tier,
            CustomerMonth.stage,
            CustomerMonth.watch,
            CustomerMonth.aum,
            CustomerMonth.p_loss,
            CustomerMonth.aum_at_risk,
            CustomerMonth.expected_outflow,
            CustomerMonth.reasons,
        )
        .select_from(Customer)
        .outerjoin(CustomerMonth, joined)
        .outerjoin(Staff, Staff.staff_id == Customer.rm_id)
    )


def book(
    session: Session,
    *,
    user: Viewer,
    month: date | None,
    tier: Tier | None = None,
    stage: Stage | None = None,
    q: str | None = None,
    sort: BookSort = BookSort.aum_at_risk,
    limit: int = 50,
    offset: int = 0,
) -> BookPage:
    """The customers ``user`` may see with their results of ``month`` (None: customers only).

    ``q`` matches the start of the customer id or any part of the name (case-insensitive). Customers
    without a row for ``month`` are listed with empty results unless ``tier`` or ``stage`` is asked.
    """
    conditions: list[ColumnElement[bool]] = [scope_filter(user)]
    if tier is not None:
        conditions.append(CustomerMonth.tier == tier)
    if stage is not None:
        conditions.append(CustomerMonth.stage == stage)
    text = (q or "").strip()
    if text:
        conditions.append(
            or_(
                Customer.customer_id.istartswith(text, autoescape=True),
                Customer.name.icontains(text, autoescape=True),
            )
        )
    base = _book_select(month).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    stmt = base.order_by(*_ORDER[sort], Customer.customer_id).limit(limit).offset(offset)
    return BookPage(month, total, _book_rows(session, stmt))


# --- alerts -----------------------------------------------------------------------------------------


def _alert_rows(
    session: Session, *conditions: ColumnElement[bool], limit: int | None = None
) -> list[AlertRow]:
    severity_rank = case(_SEVERITY_RANK, value=Alert.severity, else_=3)
    stmt = (  # columns, not ORM objects: rows for a list, nothing to track
        select(
            Alert.id, Alert.customer_id, Customer.name, Alert.alert_type, Alert.severity, Alert.status,
            Alert.first_month, Alert.last_month, Alert.evidence, Alert.action, Alert.closed_at,
        )
        .join(Customer, Customer.customer_id == Alert.customer_id)
        .where(*conditions)
        .order_by(severity_rank, Alert.last_month.desc(), Alert.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [
        AlertRow(
            id=a.id,
            customer_id=a.customer_id,
            customer_name=a.name,
            alert_type=str(a.alert_type),
            severity=str(a.severity),
            status=str(a.status),
            first_month=a.first_month,
            last_month=a.last_month,
            evidence=dict(a.evidence or {}),
            action=a.action,
            closed_at=a.closed_at,
        )
        for a in session.execute(stmt)
    ]


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def list_alerts(
    session: Session,
    *,
    user: Viewer,
    status: AlertStatus | None = AlertStatus.open,
    alert_type: AlertType | None = None,
    severity: Severity | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AlertRow]]:
    """The alerts of the customers ``user`` may see, filtered; (total, one page) in Today's order."""
    conditions: list[ColumnElement[bool]] = [scope_filter(user)]
    if status is not None:
        conditions.append(Alert.status == status)
    if alert_type is not None:
        conditions.append(Alert.alert_type == alert_type)
    if severity is not None:
        conditions.append(Alert.severity == severity)
    if customer_id is not None:
        conditions.append(Alert.customer_id == customer_id)
    total = session.scalar(
        select(func.count(Alert.id))
        .join(Customer, Customer.customer_id == Alert.customer_id)
        .where(*conditions)
    )
    severity_rank = case(_SEVERITY_RANK, value=Alert.severity, else_=3)
    ids = session.scalars(
        select(Alert.id)
        .join(Customer, Customer.customer_id == Alert.customer_id)
        .where(*conditions)
        .order_by(severity_rank, Alert.last_month.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total or 0), _alert_rows(session, Alert.id.in_(ids)) if ids else []


# --- today ------------------------------------------------------------------------------------------


def today(
    session: Session,
    *,
    user: Viewer,
    month: date | None = None,
    limit: int = 25,
    other_alerts_limit: int | None = 50,
    min_p_loss: float = AT_RISK_MIN_P_LOSS,
    skip_customers: Callable[[Any], ColumnElement[bool]] | None = None,
) -> Today:
    """The risk list of ``month`` (default: the latest scored) for ``user``'s scope, and open alerts.

    At risk: scored customers with ``p_loss >= min_p_loss``, largest AUM at risk first (ties by id).
    The first ``limit`` carry their open alerts; open alerts of every other customer in scope follow,
    most severe first, so a high-severity signal on a low-risk customer is not missed (the first
    ``other_alerts_limit`` of them; None: all), leaving out the customers for whom
    ``skip_customers(customer_id_column)`` holds (the Today page: those whose retention task carries
    their alerts). Only medium and
    high alerts count, and not :data:`~wealthcrm.tasks.rules.ALERTS_AS_TASKS` (they are tasks).
    """
    month = month or latest_scored_month(session)
    scope = scope_filter(user)
    # (a scored row has both p_loss and aum_at_risk; testing aum_at_risk too made PostgreSQL pick the
    # month × aum_at_risk index and misjudge its size: a 1 s nested loop instead of key look-ups)
    at_risk = and_(CustomerMonth.month == month, CustomerMonth.p_loss >= min_p_loss, scope)
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(CustomerMonth.aum_at_risk), 0))
        .select_from(CustomerMonth)
        .join(Customer, Customer.customer_id == CustomerMonth.customer_id)
        .where(at_risk)
    ).one()
    stmt = (
        _book_select(month)
        .where(at_risk)
        .order_by(CustomerMonth.aum_at_risk.desc().nulls_last(), Customer.customer_id)
        .limit(limit)
    )
    rows = _book_rows(session, stmt) if month is not None and limit > 0 else []
    # Today shows the alerts that call for a contact: low-severity ones stay on the customer's page, and
    # an expired risk assessment is an assessment_expiry task instead (wealthcrm.tasks.rules)
    shown = (
        Alert.status == AlertStatus.open,
        scope,
        Alert.severity != Severity.low,
        Alert.alert_type.not_in(sorted(ALERTS_AS_TASKS)),
    )
    alerts = session.scalar(
        select(func.count(Alert.id)).join(Customer, Customer.customer_id == Alert.customer_id).where(*shown)
    )
    by_customer: dict[str, list[AlertRow]] = defaultdict(list)
    listed = [r.customer_id for r in rows]
    for chunk in _chunks(listed):
        for alert in _alert_rows(session, *shown, Alert.customer_id.in_(chunk)):
            by_customer[alert.customer_id].append(alert)
    rows = [replace(r, alerts=by_customer[r.customer_id]) for r in rows]
    rest: list[ColumnElement[bool]] = [Alert.customer_id.not_in(listed)] if listed else []
    if skip_customers is not None:
        rest.append(~skip_customers(Alert.customer_id))
    others = [] if other_alerts_limit == 0 else _alert_rows(session, *shown, *rest, limit=other_alerts_limit)
    return Today(month, int(count or 0), float(total or 0), int(alerts or 0), rows, others)


# --- customer 360 -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthResult:
    month: date
    tier: str
    stage: str
    watch: bool
    aum: float
    p_loss: float | None
    aum_at_risk: float | None


@dataclass(frozen=True, slots=True)
class PositionRow:
    position_id: str
    product_code: str
    product_name: str
    product_type: str
    product_risk: str
    opened_on: date
    maturity_on: date | None
    principal: float
    market_value: float
    status: str
    matures_soon: bool


@dataclass(frozen=True, slots=True)
class InteractionRow:
    interaction_id: str
    occurred_at: datetime
    staff_name: str
    channel: str
    purpose: str
    outcome: str
    notes: str | None
    follow_up_on: date | None = None
    logged_in_app: bool = False  # logged by a user of wealthcrm (not imported from the bank's systems)


@dataclass(frozen=True, slots=True)
class Customer360:
    customer_id: str
    name: str
    gender: str | None
    age: int | None
    occupation: str | None
    onboarded_on: date
    status: str
    closed_on: date | None
    rm_id: str | None
    rm_name: str | None
    national_id_masked: str | None
    mobile_masked: str | None
    risk_level: str | None
    risk_assessed_on: date | None
    risk_assessment_expires_on: date | None
    risk_assessment_expired: bool
    current: MonthResult | None
    reasons: list[dict[str, Any]]
    history: list[MonthResult]
    aum_months: list[date]
    aum_by_class: dict[str, list[float]]  # asset class → month-average balance per ``aum_months``
    open_alerts: list[AlertRow]
    closed_alerts: list[AlertRow]
    positions: list[PositionRow]
    interactions: list[InteractionRow]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            if name in ("open_alerts", "closed_alerts"):
                out[name] = [a.to_dict() for a in value]
            elif name in ("current",):
                out[name] = None if value is None else _plain(value)
            elif name in ("history", "positions", "interactions"):
                out[name] = [_plain(v) for v in value]
            else:
                out[name] = _plain(value)
        return out


def _age(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end (2024-02-29 + 12 → 2025-02-28)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def customer_360(
    session: Session,
    *,
    user: Viewer,
    customer_id: str,
    on: date,
    assessment_valid_months: int = 12,
    months: int = 24,
    interactions: int = 20,
) -> Customer360:
    """The customer's page as data: profile, ``months`` of history, alerts, positions, contacts.

    ``on`` is today (risk assessment expiry, age, maturities within :data:`MATURITY_SOON_DAYS`).
    Raises :class:`NotFound` for a customer outside ``user``'s scope, as for an unknown id.
    """
    c = get_customer(session, user=user, customer_id=customer_id)
    rm_name = session.scalar(select(Staff.name).where(Staff.staff_id == c.rm_id)) if c.rm_id else None

    results = session.scalars(
        select(CustomerMonth)
        .where(CustomerMonth.customer_id == c.customer_id)
        .order_by(CustomerMonth.month.desc())
        .limit(months)
    ).all()
    history = [
        MonthResult(r.month, str(r.tier), str(r.stage), r.watch, r.aum, r.p_loss, r.aum_at_risk)
        for r in reversed(results)
    ]
    latest = results[0] if results else None

    aum_rows = session.execute(
        select(AumMonthly.month, AumMonthly.asset_class, AumMonthly.avg_daily_balance)
        .where(AumMonthly.customer_id == c.customer_id)
        .order_by(AumMonthly.month)
    ).all()
    aum_months = sorted({r.month for r in aum_rows})[-months:]
    position_of = {m: i for i, m in enumerate(aum_months)}
    aum_by_class: dict[str, list[float]] = {}
    for r in aum_rows:
        if r.month in position_of:
            series = aum_by_class.setdefault(str(r.asset_class), [0.0] * len(aum_months))
            series[position_of[r.month]] += float(r.avg_daily_balance)

    alerts = _alert_rows(session, Alert.customer_id == c.customer_id)
    soon = on + timedelta(days=MATURITY_SOON_DAYS)
    positions = [
        PositionRow(
            p.position_id,
            p.product_code,
            name,
            str(ptype),
            str(prisk),
            p.opened_on,
            p.maturity_on,
            p.principal,
            p.market_value,
            str(p.status),
            p.status == PositionStatus.open and p.maturity_on is not None and on <= p.maturity_on <= soon,
        )
        for p, name, ptype, prisk in session.execute(
            select(Position, Product.name, Product.product_type, Product.risk_level)
            .join(Product, Product.product_code == Position.product_code)
            .where(Position.customer_id == c.customer_id)
            .order_by(
                (Position.status == PositionStatus.open).desc(),
                Position.maturity_on.is_(None),
                Position.maturity_on,
                Position.position_id,
            )
        )
    ]
    contacts = [
        InteractionRow(
            i.interaction_id,
            i.occurred_at,
            staff,
            str(i.channel),
            str(i.purpose),
            str(i.outcome),
            i.notes,
            i.follow_up_on,
            i.logged_by is not None,
        )
        for i, staff in session.execute(
            select(Interaction, Staff.name)
            .join(Staff, Staff.staff_id == Interaction.staff_id)
            .where(Interaction.customer_id == c.customer_id)
            .order_by(Interaction.occurred_at.desc(), Interaction.interaction_id)
            .limit(interactions)
        )
    ]
    expires = _add_months(c.risk_assessed_on, assessment_valid_months) if c.risk_assessed_on else None
    return Customer360(
        customer_id=c.customer_id,
        name=c.name,
        gender=None if c.gender is None else str(c.gender),
        age=_age(c.birth_date, on),
        occupation=c.occupation,
        onboarded_on=c.onboarded_on,
        status=str(c.status),
        closed_on=c.closed_on,
        rm_id=c.rm_id,
        rm_name=rm_name,
        national_id_masked=c.national_id_masked,
        mobile_masked=c.mobile_masked,
        risk_level=None if c.risk_level is None else str(c.risk_level),
        risk_assessed_on=c.risk_assessed_on,
        risk_assessment_expires_on=expires,
        risk_assessment_expired=expires is None or expires <= on,
        current=history[-1] if history else None,
        reasons=list(latest.reasons or []) if latest is not None else [],
        history=history,
        aum_months=aum_months,
        aum_by_class=aum_by_class,
        open_alerts=[a for a in alerts if a.status == AlertStatus.open],
        closed_alerts=[a for a in alerts if a.status != AlertStatus.open],
        positions=positions,
        interactions=contacts,
    )
