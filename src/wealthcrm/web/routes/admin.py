"""Administration: users and roles, delegations; the service desk's audited customer look-up.

Every change goes through a service that writes the audit log. A refused change (bad input, a
conflict) shows the page again with the reason; the savepoint around it keeps nothing half-done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from wealthcrm.customers import delegations, lookup
from wealthcrm.db import utcnow
from wealthcrm.errors import DomainError, Invalid
from wealthcrm.ingest.importer import cipher_for
from wealthcrm.staff.models import Staff
from wealthcrm.users import service as users
from wealthcrm.vocab import Role
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import (
    AppSettings,
    DbSession,
    Gettext,
    RowId,
    TodayDate,
    client_ip,
    require_role,
)
from wealthcrm.web.i18n import N_
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()

Admin = Annotated[SignedIn, Depends(require_role(Role.admin))]
DELEGATION_VIEWERS = (Role.rm, Role.team_lead, Role.branch_manager, Role.auditor, Role.admin)
DelegationViewer = Annotated[SignedIn, Depends(require_role(*DELEGATION_VIEWERS))]
Service = Annotated[SignedIn, Depends(require_role(Role.service))]
Csrf = [Depends(auth.check_csrf)]

DONE = {
    "created": N_("User created."),
    "updated": N_("Role and staff link saved."),
    "deactivated": N_("User deactivated; their API tokens are revoked."),
    "activated": N_("User reactivated."),
    "password": N_("Password reset; the user's API tokens are revoked."),
    "unlocked": N_("User unlocked."),
    "delegated": N_("Delegation saved."),
    "revoked": N_("Delegation revoked."),
}

STATUS_LABELS = {
    "scheduled": N_("Scheduled"),
    "active": N_("In force"),
    "ended": N_("Ended"),
    "revoked": N_("Revoked"),
}


def _attempt(session: Session, action: Callable[[], Any]) -> str | None:
    """Run one change in a savepoint; the refusal's message if the change is refused."""
    try:
        with session.begin_nested():
            action()
    except DomainError as exc:
        return str(exc)
    return None


def _done(path: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': what})}", status_code=303)


# --- users ------------------------------------------------------------------------------------------


def _users_page(
    request: Request, session: Session, done: str | None, error: str | None, status: int = 200
) -> Response:
    staff = session.scalars(select(Staff).order_by(Staff.staff_id)).all()
    context = {
        "users": users.list_users(session),
        "staff": staff,
        "roles": [r.value for r in Role],
        "now": utcnow(),
        "done": DONE.get(done or ""),
        "error": error,
    }
    return render(request, "admin/users.html", context, status_code=status)


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, session: DbSession, user: Admin, done: str | None = None) -> Response:
    return _users_page(request, session, done, None)


def _staff(value: str) -> str | None:
    return value.strip() or None


@router.post("/admin/users", include_in_schema=False, dependencies=Csrf)
def create_user(
    request: Request,
    session: DbSession,
    user: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=1024)],
    staff_id: Annotated[str, Form(max_length=32)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    error = _attempt(
        session,
        lambda: users.add(
            session,
            actor=user,
            username=username.strip().lower(),
            password=password,
            role=role,
            staff_id=_staff(staff_id),
            display_name=display_name.strip() or None,
        ),
    )
    if error:
        return _users_page(request, session, None, error, 422)
    return _done("/admin/users", "created")


@router.post("/admin/users/{username}/role", include_in_schema=False, dependencies=Csrf)
def change_role(
    request: Request,
    username: str,
    session: DbSession,
    user: Admin,
    role: Annotated[Role, Form()],
    staff_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    error = _attempt(
        session,
        lambda: users.set_role(session, actor=user, username=username, role=role, staff_id=_staff(staff_id)),
    )
    if error:
        return _users_page(request, session, None, error, 422)
    return _done("/admin/users", "updated")


@router.post("/admin/users/{username}/active", include_in_schema=False, dependencies=Csrf)
def change_active(
    request: Request,
    username: str,
    session: DbSession,
    user: Admin,
    active: Annotated[bool, Form()],
) -> Response:
    error = _attempt(session, lambda: users.set_active(session, actor=user, username=username, active=active))
    if error:
        return _users_page(request, session, None, error, 422)
    return _done("/admin/users", "activated" if active else "deactivated")


@router.post("/admin/users/{username}/password", include_in_schema=False, dependencies=Csrf)
def reset_password(
    request: Request,
    username: str,
    session: DbSession,
    user: Admin,
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    error = _attempt(
        session, lambda: users.reset_password(session, actor=user, username=username, password=password)
    )
    if error:
        return _users_page(request, session, None, error, 422)
    return _done("/admin/users", "password")


@router.post("/admin/users/{username}/unlock", include_in_schema=False, dependencies=Csrf)
def unlock(request: Request, username: str, session: DbSession, user: Admin) -> Response:
    error = _attempt(session, lambda: users.unlock(session, actor=user, username=username))
    if error:
        return _users_page(request, session, None, error, 422)
    return _done("/admin/users", "unlocked")


# --- delegations ------------------------------------------------------------------------------------


def _delegations_page(
    request: Request,
    session: Session,
    user: SignedIn,
    today: date,
    done: str | None,
    error: str | None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "rows": delegations.list_delegations(session, user=user, today=today, include_past=True),
        "may_delegate": user.role in delegations.DELEGATING_ROLES,
        "status_labels": STATUS_LABELS,
        "choices": delegations.delegate_choices(session),
        "today": today,
        "done": DONE.get(done or ""),
        "error": error,
        "form": form
        or {
            "customer_id": "",
            "to_staff_id": "",
            "starts_on": today.isoformat(),
            "ends_on": "",
            "reason": "",
        },
    }
    return render(request, "admin/delegations.html", context, status_code=status)


@router.get("/admin/delegations", include_in_schema=False)
def delegations_page(
    request: Request, session: DbSession, user: DelegationViewer, today: TodayDate, done: str | None = None
) -> Response:
    return _delegations_page(request, session, user, today, done, None)


def _parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{name}: a date, YYYY-MM-DD") from None


@router.post("/admin/delegations", include_in_schema=False, dependencies=Csrf)
def create_delegation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: DelegationViewer,
    today: TodayDate,
    customer_id: Annotated[str, Form(max_length=32)],
    to_staff_id: Annotated[str, Form(max_length=32)],
    starts_on: Annotated[str, Form(max_length=10)],
    ends_on: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def create() -> None:
        delegations.create(
            session,
            actor=user,
            customer_id=customer_id.strip(),
            to_staff_id=to_staff_id.strip(),
            starts_on=_parse_day(starts_on, "starts_on"),
            ends_on=_parse_day(ends_on, "ends_on"),
            reason=reason,
            today=today,
            max_days=settings.security.delegation_max_days,
            now=utcnow(),
        )

    error = _attempt(session, create)
    if error:
        form = {
            "customer_id": customer_id,
            "to_staff_id": to_staff_id,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "reason": reason,
        }
        return _delegations_page(request, session, user, today, None, error, form, 422)
    return _done("/admin/delegations", "delegated")


@router.post("/admin/delegations/{delegation_id}/revoke", include_in_schema=False, dependencies=Csrf)
def revoke_delegation(
    request: Request, delegation_id: RowId, session: DbSession, user: DelegationViewer, today: TodayDate
) -> Response:
    error = _attempt(
        session, lambda: delegations.revoke(session, actor=user, delegation_id=delegation_id, now=utcnow())
    )
    if error:
        return _delegations_page(request, session, user, today, None, error, None, 422)
    return _done("/admin/delegations", "revoked")


class DelegationCreate(BaseModel):
    customer_id: str = Field(max_length=32)
    to_staff_id: str = Field(max_length=32)
    starts_on: date
    ends_on: date
    reason: str | None = Field(None, max_length=500)


@router.get("/api/v1/delegations", tags=["delegations"])
def delegations_api(
    session: DbSession, user: DelegationViewer, today: TodayDate, include_past: bool = False
) -> dict[str, Any]:
    """Delegations of the customers in the caller's scope and those made to the caller."""
    rows = delegations.list_delegations(session, user=user, today=today, include_past=include_past)
    return {"page": 1, "page_size": len(rows), "total": len(rows), "items": [r.to_dict() for r in rows]}


@router.post("/api/v1/delegations", tags=["delegations"], status_code=201, dependencies=Csrf)
def create_delegation_api(
    body: DelegationCreate,
    session: DbSession,
    settings: AppSettings,
    user: DelegationViewer,
    today: TodayDate,
) -> dict[str, Any]:
    """Lend a customer to another RM from ``starts_on`` to ``ends_on`` (inclusive); audited."""
    row = delegations.create(
        session,
        actor=user,
        customer_id=body.customer_id,
        to_staff_id=body.to_staff_id,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        reason=body.reason,
        today=today,
        max_days=settings.security.delegation_max_days,
        now=utcnow(),
    )
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "to_staff_id": row.to_staff_id,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "status": delegations.status_on(row, today),
    }


@router.delete(
    "/api/v1/delegations/{delegation_id}", tags=["delegations"], status_code=204, dependencies=Csrf
)
def revoke_delegation_api(delegation_id: RowId, session: DbSession, user: DelegationViewer) -> Response:
    """End a delegation now; audited."""
    delegations.revoke(session, actor=user, delegation_id=delegation_id, now=utcnow())
    return Response(status_code=204)


# --- the service desk's look-up ---------------------------------------------------------------------


def _lookup_page(
    request: Request,
    session: Session,
    user: SignedIn,
    *,
    found: list[lookup.Found] | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "grants": lookup.active_grants(session, user_id=user.id, now=utcnow()),
        "found": found,
        "error": error,
        "form": form or {"customer_id": "", "mobile": "", "reason": ""},
    }
    return render(request, "lookup.html", context, status_code=status)


@router.get("/lookup", include_in_schema=False)
def lookup_page(request: Request, session: DbSession, user: Service) -> Response:
    return _lookup_page(request, session, user)


@router.post("/lookup", include_in_schema=False, dependencies=Csrf)
def lookup_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: Service,
    _: Gettext,
    customer_id: Annotated[str, Form(max_length=32)] = "",
    mobile: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = {"customer_id": customer_id, "mobile": mobile, "reason": reason}
    try:
        found = _lookup(session, settings, user, request, customer_id, mobile, reason)
    except Invalid as exc:
        return _lookup_page(request, session, user, error=_(str(exc)), form=form, status=422)
    return _lookup_page(request, session, user, found=found, form={**form, "mobile": ""})


def _lookup(
    session: Session,
    settings: Any,
    user: SignedIn,
    request: Request,
    customer_id: str,
    mobile: str,
    reason: str,
) -> list[lookup.Found]:
    return lookup.lookup(
        session,
        user=user,
        reason=reason,
        cipher=cipher_for(settings),
        now=utcnow(),
        hours=settings.security.lookup_grant_hours,
        min_reason=settings.security.unmask_reason_min_length,
        customer_id=customer_id or None,
        mobile=mobile or None,
        ip=client_ip(request),
    )


class LookupRequest(BaseModel):
    customer_id: str | None = Field(None, max_length=32)
    mobile: str | None = Field(None, max_length=32)
    reason: str = Field(max_length=500)


@router.post("/api/v1/lookup", tags=["service desk"], dependencies=Csrf)
def lookup_api(
    body: LookupRequest, request: Request, session: DbSession, settings: AppSettings, user: Service
) -> dict[str, Any]:
    """Service staff: find a customer by exact id or mobile number, with a reason; opens the customer
    (masked) for ``security.lookup_grant_hours``; audited. An empty ``items`` when nobody matches."""
    found = _lookup(session, settings, user, request, body.customer_id or "", body.mobile or "", body.reason)
    items = [
        {
            "customer_id": f.customer_id,
            "name": f.name,
            "mobile_masked": f.mobile_masked,
            "status": f.status,
            "expires_at": f.expires_at.isoformat() + "Z",
        }
        for f in found
    ]
    return {"page": 1, "page_size": len(items), "total": len(items), "items": items}
