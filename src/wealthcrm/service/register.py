"""Lists of service requests as pages show them: the queue rows (a request with its customer's name and
masked mobile), and the complaint register for compliance (read-only, masked, exportable as CSV).

Rows carry only masked personal data (``mobile_masked``); the register also masks the name (surname
kept: 张**), since it leaves the app as a file. Scope is the workflow's
(:func:`~wealthcrm.service.service.visible_requests`). Nothing here writes, except the audit entry of an
export (:func:`record_export`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.customers.models import Customer
from wealthcrm.errors import Forbidden
from wealthcrm.service import service as svc
from wealthcrm.service.models import ServiceRequest, ServiceRequestEvent
from wealthcrm.vocab import RequestStatus, RequestType, Role

#: who reads the complaint register
REGISTER_ROLES = frozenset({Role.auditor, Role.branch_manager})
REGISTER_COLUMNS = (
    "request_id",
    "customer_id",
    "customer_name_masked",
    "mobile_masked",
    "rm_id",
    "channel",
    "priority",
    "sla_tier",
    "status",
    "opened_at",
    "acknowledged_at",
    "acknowledge_due_at",
    "due_at",
    "resolved_at",
    "closed_at",
    "within_sla",
    "root_cause",
    "rating",
    "assignee_id",
    "summary",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def mask_name(name: str | None) -> str:
    """The first character and a star for each other one: 张三丰 → 张**."""
    text = (name or "").strip()
    return text[:1] + "*" * (len(text) - 1) if text else ""


@dataclass(frozen=True, slots=True)
class RequestRow:
    request: ServiceRequest
    customer_name: str
    mobile_masked: str | None
    rm_id: str | None


def _customers(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, str | None, str | None]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.customer_id, Customer.name, Customer.mobile_masked, Customer.rm_id).where(
            Customer.customer_id.in_(sorted(set(ids)))
        )
    ).all()
    return {cid: (name, mobile, rm) for cid, name, mobile, rm in rows}


def with_customers(session: Session, requests: Sequence[ServiceRequest]) -> list[RequestRow]:
    found = _customers(session, [r.customer_id for r in requests])
    out = []
    for r in requests:
        name, mobile, rm = found.get(r.customer_id, ("", None, None))
        out.append(RequestRow(r, name, mobile, rm))
    return out


def request_rows(
    session: Session,
    *,
    user: svc.Staffer,
    statuses: Sequence[RequestStatus] | None = None,
    customer_id: str | None = None,
    assignee_id: str | None = None,
    request_type: RequestType | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[RequestRow]]:
    """:func:`~wealthcrm.service.service.list_requests` with each request's customer (masked)."""
    page = svc.list_requests(
        session,
        user=user,
        statuses=statuses,
        customer_id=customer_id,
        assignee_id=assignee_id,
        request_type=request_type,
        limit=limit,
        offset=offset,
    )
    return page.total, with_customers(session, page.items)


# --- the complaint register --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    opened_from: datetime | None = None  # naive UTC, inclusive
    opened_to: datetime | None = None  # naive UTC, exclusive
    status: RequestStatus | None = None
    root_cause: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        r = ServiceRequest
        out: list[ColumnElement[bool]] = [r.request_type == RequestType.complaint]
        if self.opened_from is not None:
            out.append(r.opened_at >= self.opened_from)
        if self.opened_to is not None:
            out.append(r.opened_at < self.opened_to)
        if self.status is not None:
            out.append(r.status == self.status)
        if self.root_cause:
            out.append(r.root_cause == self.root_cause)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "opened_from": None if self.opened_from is None else self.opened_from.isoformat(),
            "opened_to": None if self.opened_to is None else self.opened_to.isoformat(),
            "status": None if self.status is None else self.status.value,
            "root_cause": self.root_cause,
        }


def _check_reader(user: svc.Staffer) -> None:
    if Role(user.role) not in REGISTER_ROLES:
        raise Forbidden("the complaint register is for compliance and the branch manager")


def _register_stmt(user: svc.Staffer, where: RegisterFilter) -> Any:
    return select(ServiceRequest).where(svc.visible_requests(user), *where.conditions())


def register(
    session: Session, *, user: svc.Staffer, where: RegisterFilter, limit: int = 50, offset: int = 0
) -> tuple[int, list[RequestRow]]:
    """Complaints matching ``where``, newest first, with masked customers (:data:`REGISTER_ROLES`)."""
    _check_reader(user)
    stmt = _register_stmt(user, where)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    found = session.scalars(
        stmt.order_by(ServiceRequest.opened_at.desc(), ServiceRequest.request_id).limit(limit).offset(offset)
    ).all()
    return int(total), with_customers(session, found)


def within_sla(r: ServiceRequest) -> bool | None:
    """Resolved by its due time (None while unresolved or without a due time)."""
    if r.resolved_at is None or r.due_at is None:
        return None
    return r.resolved_at <= r.due_at


def register_record(row: RequestRow) -> dict[str, Any]:
    """One register row as the API and the CSV give it (masked)."""
    r = row.request

    def ts(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat() + "Z"

    return {
        "request_id": r.request_id,
        "customer_id": r.customer_id,
        "customer_name_masked": mask_name(row.customer_name),
        "mobile_masked": row.mobile_masked,
        "rm_id": row.rm_id,
        "channel": r.channel.value,
        "priority": r.priority.value,
        "sla_tier": None if r.sla_tier is None else str(getattr(r.sla_tier, "value", r.sla_tier)),
        "status": r.status.value,
        "opened_at": ts(r.opened_at),
        "acknowledged_at": ts(r.acknowledged_at),
        "acknowledge_due_at": ts(r.acknowledge_due_at),
        "due_at": ts(r.due_at),
        "resolved_at": ts(r.resolved_at),
        "closed_at": ts(r.closed_at),
        "within_sla": within_sla(r),
        "root_cause": r.root_cause,
        "rating": r.rating,
        "assignee_id": r.staff_id,
        "summary": r.summary,
    }


def csv_cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def register_csv_rows(
    session: Session, *, user: svc.Staffer, where: RegisterFilter, batch: int = 500
) -> Iterator[list[str]]:
    """Every matching complaint, oldest first, as CSV cells in :data:`REGISTER_COLUMNS` order."""
    _check_reader(user)
    stmt = _register_stmt(user, where).order_by(ServiceRequest.opened_at, ServiceRequest.request_id)
    offset = 0
    while True:
        chunk = session.scalars(stmt.limit(batch).offset(offset)).all()
        if not chunk:
            return
        for row in with_customers(session, chunk):
            record = register_record(row)
            yield [csv_cell(record[c]) for c in REGISTER_COLUMNS]
        offset += batch


def record_export(
    session: Session, *, user: svc.Staffer, where: RegisterFilter, rows: int, now: datetime
) -> None:
    """Audit an export of the register (``complaint_register.export``) with its filter and size."""
    _check_reader(user)
    audit.record(
        session,
        actor=user,
        action="complaint_register.export",
        entity="service_request",
        details={"filter": where.describe(), "rows": rows},
        at=now,
    )


def count(session: Session, *, user: svc.Staffer, where: RegisterFilter) -> int:
    _check_reader(user)
    stmt = _register_stmt(user, where)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


# --- what an escalation batch fired ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FiredStep:
    request_id: str
    customer_id: str
    request_type: str
    sla: str
    step: int
    target: str
    missed_at: str
    staff_ids: list[str]
    user_ids: list[int]


def last_event_id(session: Session) -> int:
    """The newest request event's id (0 when none): a batch's events are those after it."""
    return int(session.scalar(select(func.max(ServiceRequestEvent.id))) or 0)


def escalations_after(session: Session, *, event_id: int) -> list[FiredStep]:
    """The escalation steps recorded after event ``event_id``, in the order they fired."""
    rows = session.execute(
        select(ServiceRequestEvent, ServiceRequest.customer_id, ServiceRequest.request_type)
        .join(ServiceRequest, ServiceRequest.request_id == ServiceRequestEvent.request_id)
        .where(ServiceRequestEvent.id > event_id, ServiceRequestEvent.kind == "escalation")
        .order_by(ServiceRequestEvent.id)
    ).all()
    return [
        FiredStep(
            e.request_id,
            customer_id,
            str(getattr(request_type, "value", request_type)),
            str(e.sla),
            int(e.step or 0),
            str(e.details.get("target", "")),
            str(e.details.get("missed_at", "")),
            list(e.details.get("staff_ids", [])),
            list(e.details.get("user_ids", [])),
        )
        for e, customer_id, request_type in rows
    ]
