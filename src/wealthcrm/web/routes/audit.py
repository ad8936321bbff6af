"""The audit log for auditors (search, export, chain status) and the deliberate, audited unmasking of PII."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from io import StringIO
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.responses import JSONResponse, Response, StreamingResponse

from wealthcrm.audit import service as audit
from wealthcrm.customers import pii
from wealthcrm.customers.service import get_customer
from wealthcrm.db import session_scope, utcnow
from wealthcrm.errors import Forbidden, Invalid
from wealthcrm.ingest.importer import cipher_for
from wealthcrm.vocab import Role
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, client_ip, require_role
from wealthcrm.web.i18n import N_
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()

AUDIT_ROLES = (Role.auditor, Role.admin)
Auditor = Annotated[SignedIn, Depends(require_role(*AUDIT_ROLES))]
PAGE_SIZE = 50
BAD_DATE = N_("Dates are written YYYY-MM-DD.")
NO_CACHE = {"Cache-Control": "no-store"}
PROBLEM_TEXT = {
    audit.Problem.edited.value: N_("the entry was changed after it was written"),
    audit.Problem.relinked.value: N_("the entry does not follow the one before it"),
    audit.Problem.missing.value: N_("the entry is missing"),
    audit.Problem.head_mismatch.value: N_("entries at the end of the log are missing"),
}


def _day(value: str | None) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(BAD_DATE) from None


def _filters(
    actor: str | None, action: str | None, customer_id: str | None, since: str | None, until: str | None
) -> audit.AuditFilter:
    def clean(v: str | None) -> str | None:
        return (v or "").strip() or None

    return audit.AuditFilter(clean(actor), clean(action), clean(customer_id), _day(since), _day(until))


Text = Annotated[str | None, Query(max_length=64)]
Day = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (inclusive)")]


@router.get("/api/v1/audit", tags=["audit"])
def audit_api(
    session: DbSession,
    user: Auditor,
    actor: Text = None,
    action: Text = None,
    customer_id: Text = None,
    since: Day = None,
    until: Day = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> dict[str, Any]:
    """The audit log, newest first, filtered by actor, action (``task`` or ``task.done``), customer and
    days; paginated. Auditors and administrators only."""
    f = _filters(actor, action, customer_id, since, until)
    found = audit.search(session, **_kwargs(f), page=page, page_size=page_size)
    return {
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [row.to_dict() for row in found.rows],
    }


@router.get("/api/v1/audit/verify", tags=["audit"])
def verify_api(session: DbSession, user: Auditor) -> dict[str, Any]:
    """Walk the hash chain: ``ok``, rows checked, and the first broken entry with the reason."""
    return audit.verify(session).to_dict()


def _kwargs(f: audit.AuditFilter) -> dict[str, Any]:
    return {
        "actor": f.actor,
        "action": f.action,
        "customer_id": f.customer_id,
        "since": f.since,
        "until": f.until,
    }


def _query(f: audit.AuditFilter, **extra: Any) -> str:
    params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in _kwargs(f).items() if v}
    params |= {k: v for k, v in extra.items() if v}
    return urlencode(params)


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    session: DbSession,
    user: Auditor,
    _: Gettext,
    actor: Text = None,
    action: Text = None,
    customer_id: Text = None,
    since: Day = None,
    until: Day = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    error = None
    try:
        f = _filters(actor, action, customer_id, since, until)
    except Invalid as exc:
        error, f = _(str(exc)), audit.AuditFilter(actor, action, customer_id)
    found = audit.search(session, **_kwargs(f), page=page, page_size=PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {
        "chain": audit.verify(session),
        "problem_text": PROBLEM_TEXT,
        "found": found,
        "pages": pages,
        "form": {
            "actor": actor or "",
            "action": action or "",
            "customer_id": customer_id or "",
            "since": since or "",
            "until": until or "",
        },
        "error": error,
        "prev_url": f"/audit?{_query(f, page=page - 1)}" if page > 1 else None,
        "next_url": f"/audit?{_query(f, page=page + 1)}" if page < pages else None,
        "export_url": f"/audit/export.csv?{_query(f)}",
    }
    return render(request, "audit/log.html", context, status_code=422 if error else 200)


def _csv_chunks(engine: Engine, f: audit.AuditFilter) -> Iterator[str]:
    """The CSV in pieces of ~64 KB, read in a session of its own (the request's has committed by now)."""
    buffer = StringIO()
    buffer.write("\ufeff")  # a BOM, so spreadsheet programs read the UTF-8 (Chinese names) correctly
    writer = csv.writer(buffer)
    writer.writerow(audit.CSV_COLUMNS)
    with session_scope(engine) as session:
        for row in audit.iter_csv_rows(session, where=f):
            writer.writerow(row)
            if buffer.tell() >= 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


@router.get("/audit/export.csv", include_in_schema=False)
@router.get("/api/v1/audit/export.csv", tags=["audit"])
def audit_export(
    request: Request,
    session: DbSession,
    user: Auditor,
    actor: Text = None,
    action: Text = None,
    customer_id: Text = None,
    since: Day = None,
    until: Day = None,
) -> Response:
    """The matching entries, oldest first, as CSV (UTF-8 with BOM). The export itself is audited."""
    f = _filters(actor, action, customer_id, since, until)
    audit.record(
        session,
        actor=user,
        action="audit.export",
        entity="audit_log",
        details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in _kwargs(f).items() if v},
        ip=client_ip(request),
    )
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        _csv_chunks(request.app.state.engine, f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_CACHE},
    )


# --- unmasking PII ----------------------------------------------------------------------------------


class UnmaskRequest(BaseModel):
    field: pii.PiiField
    reason: str = Field(max_length=500)


@router.post(
    "/api/v1/customers/{customer_id}/unmask", tags=["customers"], dependencies=[Depends(auth.check_csrf)]
)
def unmask_api(
    customer_id: str,
    body: UnmaskRequest,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    """The clear national ID or mobile number, for roles allowed to unmask, with a reason; audited
    (the audit entry holds the field and reason, never the value). 404 outside the caller's scope."""
    value = pii.unmask(
        session,
        user=user,
        customer_id=customer_id,
        field=body.field,
        reason=body.reason,
        cipher=cipher_for(settings),
        settings=settings.security,
        ip=client_ip(request),
    )
    return JSONResponse(
        {"customer_id": customer_id, "field": body.field.value, "value": value}, headers=NO_CACHE
    )


def _fragment(request: Request, context: dict[str, Any]) -> Response:
    response = render(request, "audit/pii_fragment.html", context)
    response.headers.update(NO_CACHE)
    return response


@router.get("/customers/{customer_id}/pii/{field}", include_in_schema=False)
def masked_fragment(
    customer_id: str, field: pii.PiiField, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    """The masked value with its Show button (what Cancel goes back to)."""
    c = get_customer(session, user=user, customer_id=customer_id)
    masked = c.national_id_masked if field is pii.PiiField.national_id else c.mobile_masked
    return _fragment(
        request, {"mode": "masked", "customer_id": customer_id, "field": field.value, "masked": masked}
    )


@router.get("/customers/{customer_id}/pii/{field}/form", include_in_schema=False)
def reason_form(
    customer_id: str,
    field: pii.PiiField,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    """The reason prompt (htmx fragment) for roles that may unmask, for a customer in their scope."""
    if not pii.may_unmask(user, settings.security):
        raise Forbidden(f"the {user.role.value} role may not unmask personal data")
    get_customer(session, user=user, customer_id=customer_id)  # NotFound outside the scope
    context = {
        "mode": "form",
        "customer_id": customer_id,
        "field": field.value,
        "reason": "",
        "error": None,
        "min_length": settings.security.unmask_reason_min_length,
    }
    return _fragment(request, context)


@router.post(
    "/customers/{customer_id}/pii/{field}", include_in_schema=False, dependencies=[Depends(auth.check_csrf)]
)
def unmask_fragment(
    customer_id: str,
    field: pii.PiiField,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    _: Gettext,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The clear value in place of the masked one; a too-short reason shows the prompt again."""
    minimum = settings.security.unmask_reason_min_length
    if len(reason.strip()) < minimum:
        error = _(REASON_TOO_SHORT).format(n=minimum)
        context = {
            "mode": "form",
            "customer_id": customer_id,
            "field": field.value,
            "reason": reason,
            "error": error,
            "min_length": minimum,
        }
        return _fragment(request, context)
    value = pii.unmask(
        session,
        user=user,
        customer_id=customer_id,
        field=field,
        reason=reason,
        cipher=cipher_for(settings),
        settings=settings.security,
        ip=client_ip(request),
    )
    return _fragment(
        request, {"mode": "clear", "customer_id": customer_id, "field": field.value, "value": value}
    )


REASON_TOO_SHORT = N_("Give a reason of at least {n} characters.")
