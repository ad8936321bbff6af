"""The service API under /api/v1: service requests and complaints, notifications, entitlements,
VIP appointments, the complaint register, the service dashboards and the service standard.

Lists are paginated (``page``, ``page_size``; ``{page, page_size, total, items}``); errors are the app's
one format (web/errors.py): 404 outside the caller's scope (as for an unknown id), 403 for a role that
may not, 409 for a stale ``version`` or a full quota or slot, 422 for bad input. Every POST and PATCH
needs the session's CSRF token or a bearer token.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from wealthcrm.customers.service import get_customer
from wealthcrm.db import session_scope
from wealthcrm.errors import Invalid
from wealthcrm.service import dashboard as dash
from wealthcrm.service import notifications
from wealthcrm.service import register as reg
from wealthcrm.service import service as svc
from wealthcrm.service.register import RegisterFilter
from wealthcrm.service.rules import Action
from wealthcrm.service.standard import service_standard
from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, RowId, require_role
from wealthcrm.web.routes.service_common import (
    Now,
    Reader,
    calendar_of,
    event_json,
    notification_json,
    request_json,
    router,
)

CSRF = [Depends(auth.check_csrf)]
MAX_ID = 2**31 - 1
RegisterUser = Annotated[SignedIn, Depends(require_role(*reg.REGISTER_ROLES))]
DashboardUser = Annotated[SignedIn, Depends(require_role(*dash.DASHBOARD_ROLES))]
RequestId = Annotated[str, Path(max_length=40, description="The request's id.")]
Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestIn(_In):
    customer_id: str = Field(max_length=32)
    request_type: RequestType
    channel: ServiceChannel
    priority: Priority | None = Field(
        None, description="Left out: the service standard's for the customer's tier and the request type."
    )
    summary: str | None = Field(None, max_length=svc.SUMMARY_MAX, description="What the customer asked.")
    assignee_id: str | None = Field(None, max_length=32, description="Staff id; default: the caller.")


class TransitionIn(_In):
    action: Action
    version: int = Field(ge=1, le=MAX_ID, description="The request's `version` as read (stale: 409).")
    note: str | None = Field(None, max_length=svc.NOTE_MAX)
    rating: int | None = Field(None, ge=1, le=5, description="The customer's rating, at `close` only.")
    root_cause: str | None = Field(None, max_length=50, description="Root-cause category, at `resolve`.")


class UpdateIn(_In):
    version: int = Field(ge=1, le=MAX_ID, description="The request's `version` as read (stale: 409).")
    priority: Priority | None = None
    root_cause: str | None = Field(None, max_length=50, description="null clears it.")
    assignee_id: str | None = Field(None, max_length=32, description="null clears it.")
    summary: str | None = Field(None, max_length=svc.SUMMARY_MAX)


def _page(page: int, page_size: int, total: int, items: list[Any]) -> dict[str, Any]:
    return {"page": page, "page_size": page_size, "total": total, "items": items}


def _detail(request: Request, session: Any, user: SignedIn, request_id: str, now: datetime) -> dict[str, Any]:
    req = svc.get(session, user=user, request_id=request_id)
    (row,) = reg.with_customers(session, [req])
    out = request_json(row, now=now, calendar=calendar_of(request))
    out["events"] = [event_json(e) for e in svc.events(session, user=user, request_id=request_id)]
    return out


# --- service requests --------------------------------------------------------------------------------


@router.get("/api/v1/service-requests", tags=["service"])
def requests_api(
    request: Request,
    session: DbSession,
    user: Reader,
    now: Now,
    status: Annotated[list[RequestStatus] | None, Query(description="One or more states.")] = None,
    request_type: Annotated[RequestType | None, Query(alias="type")] = None,
    customer_id: Annotated[str | None, Query(max_length=32)] = None,
    assignee: Annotated[str | None, Query(max_length=32, description="Staff id of the assignee.")] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    """Requests the caller may see (their customers', and those assigned to them): urgent first, then
    high, then normal; within a priority the soonest SLA due time first."""
    total, rows = reg.request_rows(
        session,
        user=user,
        statuses=status,
        customer_id=customer_id,
        assignee_id=assignee,
        request_type=request_type,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    calendar = calendar_of(request)
    return _page(page, page_size, total, [request_json(r, now=now, calendar=calendar) for r in rows])


@router.post("/api/v1/service-requests", tags=["service"], status_code=201, dependencies=CSRF)
def create_request_api(
    request: Request, body: RequestIn, session: DbSession, settings: AppSettings, user: Reader, now: Now
) -> dict[str, Any]:
    """Open a request for a customer in the caller's scope; its SLA comes from the tier × type, and so
    does its priority when none is given (`sla.default_priority`, a complaint one step higher). A
    complaint raises the `complaint` alert and the RM's follow-up task at once."""
    req = svc.create(
        session,
        user=user,
        customer_id=body.customer_id,
        request_type=body.request_type,
        channel=body.channel,
        now=now,
        settings=settings,
        priority=body.priority,
        summary=body.summary,
        staff_id=body.assignee_id,
    )
    return _detail(request, session, user, req.request_id, now)


@router.get("/api/v1/service-requests/{request_id}", tags=["service"])
def request_api(
    request: Request, request_id: RequestId, session: DbSession, user: Reader, now: Now
) -> dict[str, Any]:
    """One request with its SLA standing (business hours left) and its history."""
    return _detail(request, session, user, request_id, now)


@router.post("/api/v1/service-requests/{request_id}/transitions", tags=["service"], dependencies=CSRF)
def transition_api(
    request: Request,
    request_id: RequestId,
    body: TransitionIn,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    now: Now,
) -> dict[str, Any]:
    """Move the request on (acknowledge, start, wait, resume, resolve, close with the customer's rating,
    reopen); 422 for an action its state does not allow, 409 for a stale `version`."""
    svc.transition(
        session,
        user=user,
        request_id=request_id,
        action=body.action,
        expected_version=body.version,
        now=now,
        settings=settings,
        note=body.note,
        rating=body.rating,
        root_cause=body.root_cause,
    )
    return _detail(request, session, user, request_id, now)


@router.patch("/api/v1/service-requests/{request_id}", tags=["service"], dependencies=CSRF)
def update_request_api(
    request: Request, request_id: RequestId, body: UpdateIn, session: DbSession, user: Reader, now: Now
) -> dict[str, Any]:
    """Change the priority, root cause, assignee or summary (fields left out stay; null clears); 409 when
    `version` is stale. The SLA does not move."""
    given = body.model_fields_set
    svc.update(
        session,
        user=user,
        request_id=request_id,
        expected_version=body.version,
        now=now,
        priority=body.priority,
        root_cause=body.root_cause if "root_cause" in given else svc.UNSET,
        staff_id=body.assignee_id if "assignee_id" in given else svc.UNSET,
        summary=body.summary if "summary" in given else svc.UNSET,
    )
    return _detail(request, session, user, request_id, now)


@router.get("/api/v1/customers/{customer_id}/service-requests", tags=["service"])
def customer_requests_api(
    request: Request,
    customer_id: str,
    session: DbSession,
    user: Reader,
    now: Now,
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    """The customer's requests (404 outside the caller's scope)."""
    get_customer(session, user=user, customer_id=customer_id)
    total, rows = reg.request_rows(
        session, user=user, customer_id=customer_id, limit=page_size, offset=(page - 1) * page_size
    )
    calendar = calendar_of(request)
    return _page(page, page_size, total, [request_json(r, now=now, calendar=calendar) for r in rows])


# --- notifications -----------------------------------------------------------------------------------


@router.get("/api/v1/notifications", tags=["notifications"])
def notifications_api(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    unread: bool = False,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    """The caller's in-app notifications, newest first (`text` in each language)."""
    found = notifications.list_notifications(session, user=user, unread_only=unread, limit=page_size)
    calendar = calendar_of(request)
    items = [notification_json(n, request.app.state.translators, calendar) for n in found]
    return _page(1, page_size, len(items), items) | {"unread": notifications.unread_count(session, user=user)}


@router.post("/api/v1/notifications/{notification_id}/read", tags=["notifications"], dependencies=CSRF)
def read_notification_api(
    request: Request, notification_id: RowId, session: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    note = notifications.mark_read(session, user=user, notification_id=notification_id, now=now)
    return notification_json(note, request.app.state.translators, calendar_of(request))


# --- the complaint register --------------------------------------------------------------------------


def month_param(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        year, month = text.split("-")
        day = date(int(year), int(month), 1)
    except ValueError:
        raise Invalid(f"{name}: {text!r} is not a month (YYYY-MM)") from None
    if not 2000 <= day.year <= 2200:
        raise Invalid(f"{name}: {text!r} is out of range")
    return day


def register_filter(
    request: Request,
    start: Annotated[
        str | None, Query(alias="from", max_length=7, description="First month, YYYY-MM.")
    ] = None,
    end: Annotated[str | None, Query(alias="to", max_length=7, description="Last month, YYYY-MM.")] = None,
    status: RequestStatus | None = None,
    root_cause: Annotated[str | None, Query(max_length=50)] = None,
) -> RegisterFilter:
    """The register's filter: months of opening (local time), state, root cause."""
    calendar = calendar_of(request)
    first, last = month_param(start, "from"), month_param(end, "to")
    return RegisterFilter(
        opened_from=None if first is None else dash.Period(first, first).bounds(calendar)[0],
        opened_to=None if last is None else dash.Period(last, last).bounds(calendar)[1],
        status=status,
        root_cause=root_cause or None,
    )


Filter = Annotated[RegisterFilter, Depends(register_filter)]


@router.get("/api/v1/complaints", tags=["service"])
def complaints_api(
    session: DbSession, user: RegisterUser, where: Filter, page: Page = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    """The complaint register (compliance, branch manager): newest first, customers masked."""
    total, rows = reg.register(
        session, user=user, where=where, limit=page_size, offset=(page - 1) * page_size
    )
    return _page(page, page_size, total, [reg.register_record(r) for r in rows])


def register_csv(engine: Any, user: SignedIn, where: RegisterFilter) -> Iterator[str]:
    """The register as CSV text in pieces (UTF-8 BOM first, for spreadsheets), read in its own
    transaction (the request's has committed the audit entry by then)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(reg.REGISTER_COLUMNS)
    with session_scope(engine) as session:
        for row in reg.register_csv_rows(session, user=user, where=where):
            writer.writerow(row)
            if buffer.tell() >= 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    request: Request, session: Any, user: SignedIn, where: RegisterFilter, now: datetime
) -> StreamingResponse:
    rows = reg.count(session, user=user, where=where)
    reg.record_export(session, user=user, where=where, rows=rows, now=now)
    return StreamingResponse(
        register_csv(request.app.state.engine, user, where),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="complaint-register.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/v1/complaints.csv",
    tags=["service"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The filtered register as CSV."}},
)
def complaints_csv_api(
    request: Request, session: DbSession, user: RegisterUser, where: Filter, now: Now
) -> StreamingResponse:
    """The whole filtered register as CSV (columns in docs/service.md; masked), audited."""
    return csv_response(request, session, user, where, now)


# --- dashboards and the standard ---------------------------------------------------------------------


def period_param(
    request: Request,
    now: Now,
    start: Annotated[
        str | None, Query(alias="from", max_length=7, description="First month, YYYY-MM.")
    ] = None,
    end: Annotated[str | None, Query(alias="to", max_length=7, description="Last month, YYYY-MM.")] = None,
) -> dash.Period:
    """The dashboards' months (local time); default: the six months up to this one."""
    default = dash.default_period(calendar_of(request).local_date(now))
    first, last = month_param(start, "from"), month_param(end, "to")
    return dash.make_period(first or default.start, last or default.end)


PeriodParam = Annotated[dash.Period, Depends(period_param)]


@router.get("/api/v1/service/dashboard", tags=["service"])
def dashboard_api(
    session: DbSession, settings: AppSettings, user: DashboardUser, period: PeriodParam, now: Now
) -> dict[str, Any]:
    """SLA compliance by type, tier and team; backlog and ageing; complaint trends and root causes;
    entitlement usage and cost — for the caller's scope (definitions in docs/service.md)."""
    return dash.dashboard(session, user=user, period=period, now=now, settings=settings).to_dict()


@router.get("/api/v1/service/standard", tags=["service"])
def standard_api(settings: AppSettings, user: CurrentUser) -> dict[str, Any]:
    """What each tier and value segment gets: default priority (and a complaint's), SLAs (business
    hours), cadence, benefits."""
    return service_standard(settings).to_dict()
