"""Service pages: the service desk (log a request or complaint for a looked-up customer; the queue by
priority, then SLA due time), "My requests" for RMs and team leads, and one request worked through its
states.

Actions answer htmx with the request's panel (state, SLA, actions, history) swapped in place; a plain
form post is redirected back. A refused action (a stale version, an action the state does not allow)
comes back in the panel with its message, or, without htmx, as the error page with its status. The
complaint register, notifications, the service standard and the dashboards are in
:mod:`.service_pages`; the JSON API in :mod:`.service_api` (both included in this module's ``router``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from wealthcrm.customers import lookup
from wealthcrm.db import utcnow
from wealthcrm.errors import DomainError, Invalid
from wealthcrm.service import register as reg
from wealthcrm.service import service as svc
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.dashboard import working_day_hours
from wealthcrm.service.rules import OPEN_STATES, Action, allowed_actions
from wealthcrm.vocab import Priority, RequestStatus, RequestType, Role, ServiceChannel
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, DbSession, Gettext
from wealthcrm.web.i18n import Translator
from wealthcrm.web.routes import service_api, service_benefits_api, service_pages
from wealthcrm.web.routes.service_common import (
    DESK_ROLES,
    MINE_ROLES,
    ROOT_CAUSE_LABELS,
    ActingUser,
    DeskUser,
    MineUser,
    Now,
    Reader,
    calendar_of,
    can_work,
    labeller,
    local_text,
    router,
)
from wealthcrm.web.templating import render

CSRF = [Depends(auth.check_csrf)]
QUEUE_SIZE = 100
E = TypeVar("E", RequestType, ServiceChannel, Priority, Action, RequestStatus)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _enum(cls: type[E], text: str, what: str) -> E:
    try:
        return cls(text.strip())
    except ValueError:
        raise Invalid(f"{what}: {text!r}") from None


def sla_text(view: svc.SlaView, _: Translator) -> str:
    """The SLA standing as a queue cell says it."""
    if view.due_at is None:
        return "—"
    if view.remaining_hours is None:  # resolved or closed
        return _("Breached") if view.breached else _("Met")
    hours = abs(view.remaining_hours)
    text = (
        _("Overdue by {hours} h").format(hours=f"{hours:.1f}")
        if view.remaining_hours < 0
        else _("{hours} h left").format(hours=f"{hours:.1f}")
    )
    return f"{text} · {_('paused')}" if view.paused else text


def page_context(_: Translator, now: datetime, calendar: WorkingCalendar) -> dict[str, Any]:
    """What every service template needs besides its data."""
    day = working_day_hours(calendar)
    return {
        "label": labeller(_),
        "local": lambda at: local_text(at, calendar),
        "sla": lambda r: svc.sla_view(r, now=now, calendar=calendar),
        "sla_text": lambda view: sla_text(view, _),
        "age_days": lambda r: round(
            calendar.business_hours_between(r.opened_at, r.resolved_at or now) / day, 1
        ),
        "request_types": [t.value for t in RequestType],
        "channels": [c.value for c in ServiceChannel],
        "priorities": [p.value for p in Priority],
        "statuses": [s.value for s in RequestStatus],
        "root_causes": [c for c in ROOT_CAUSE_LABELS if c],
        "now_local": local_text(now, calendar),
    }


# --- the desk and "My requests" --------------------------------------------------------------------


def _queue(
    request: Request,
    session: Session,
    user: SignedIn,
    _: Translator,
    now: datetime,
    *,
    mode: str,
    show: str,
    request_type: str,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    calendar = calendar_of(request)
    chosen_type = _enum(RequestType, request_type, "type") if request_type else None
    statuses = sorted(OPEN_STATES, key=list(RequestStatus).index) if show != "all" else None
    total, rows = reg.request_rows(
        session, user=user, statuses=statuses, request_type=chosen_type, limit=QUEUE_SIZE
    )
    views = {r.request.request_id: svc.sla_view(r.request, now=now, calendar=calendar) for r in rows}
    # grants expire on the real clock, as the scope checks them (customers.scope)
    grants = lookup.active_grants(session, user_id=user.id, now=utcnow()) if user.role is Role.service else []
    context = page_context(_, now, calendar) | {
        "mode": mode,
        "rows": rows,
        "total": total,
        "shown": len(rows),
        "open_count": sum(1 for r in rows if r.request.status in OPEN_STATES),
        "overdue_count": sum(1 for v in views.values() if v.breached and v.remaining_hours is not None),
        "show": show,
        "request_type": request_type,
        "grants": grants,
        "can_log": can_work(user),
        "error": error,
        "form": form or {},
    }
    return render(request, "service/queue.html", context, status_code)


ShowParam = Annotated[str, Query(pattern="^(open|all)$")]
TypeParam = Annotated[str, Query(alias="type", max_length=32)]


@router.get("/service", include_in_schema=False)
def desk_page(
    request: Request,
    session: DbSession,
    user: DeskUser,
    _: Gettext,
    now: Now,
    show: ShowParam = "open",
    request_type: TypeParam = "",
) -> Response:
    """The service desk: log a request for a looked-up customer; the queue, urgent first, then soonest due."""
    return _queue(request, session, user, _, now, mode="desk", show=show, request_type=request_type)


@router.get("/service/mine", include_in_schema=False)
def mine_page(
    request: Request,
    session: DbSession,
    user: MineUser,
    _: Gettext,
    now: Now,
    show: ShowParam = "open",
    request_type: TypeParam = "",
) -> Response:
    """RMs and team leads: the requests and complaints of the customers in their scope."""
    return _queue(request, session, user, _, now, mode="mine", show=show, request_type=request_type)


@router.post("/service/requests", include_in_schema=False, dependencies=CSRF)
def create_request(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ActingUser,
    _: Gettext,
    now: Now,
    customer_id: Annotated[str, Form(max_length=32)] = "",
    request_type: Annotated[str, Form(max_length=32)] = "",
    channel: Annotated[str, Form(max_length=32)] = "",
    priority: Annotated[str, Form(max_length=16)] = "",
    summary: Annotated[str, Form(max_length=svc.SUMMARY_MAX)] = "",
    back: Annotated[str, Form(pattern="^(desk|mine)$")] = "desk",
) -> Response:
    """Log a request from the desk's or "My requests"' form; the request's page follows. No priority
    chosen: the service standard's for the customer's tier and the request type."""
    form = {
        "customer_id": customer_id,
        "request_type": request_type,
        "channel": channel,
        "priority": priority,
        "summary": summary,
    }
    try:
        if not customer_id.strip():
            raise Invalid(_("Choose the customer."))
        with session.begin_nested():
            req = svc.create(
                session,
                user=user,
                customer_id=customer_id.strip(),
                request_type=_enum(RequestType, request_type, _("Type")),
                channel=_enum(ServiceChannel, channel, _("Channel")),
                priority=_enum(Priority, priority, _("Priority")) if priority.strip() else None,
                summary=summary,
                now=now,
                settings=settings,
            )
    except DomainError as exc:
        modes = {"desk": DESK_ROLES, "mine": MINE_ROLES}
        fits = [m for m in (back, "desk", "mine") if user.role in modes[m]]
        if not fits:
            raise
        return _queue(
            request, session, user, _, now, mode=fits[0], show="open", request_type="",
            error=_(str(exc)), form=form, status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/service/requests/{req.request_id}?created=1", status_code=303)


# --- one request -------------------------------------------------------------------------------------


def _panel_context(
    request: Request, session: Session, user: SignedIn, _: Translator, now: datetime, request_id: str
) -> dict[str, Any]:
    calendar = calendar_of(request)
    req = svc.get(session, user=user, request_id=request_id)
    (row,) = reg.with_customers(session, [req])
    return page_context(_, now, calendar) | {
        "row": row,
        "req": req,
        "view": svc.sla_view(req, now=now, calendar=calendar),
        "events": svc.events(session, user=user, request_id=request_id),
        "actions": [a.value for a in allowed_actions(req.status)] if can_work(user) else [],
        "can_work": can_work(user),
    }


@router.get("/service/requests/{request_id}", include_in_schema=False)
def request_page(
    request: Request,
    request_id: str,
    session: DbSession,
    user: Reader,
    _: Gettext,
    now: Now,
    created: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    context = _panel_context(request, session, user, _, now, request_id)
    if created:
        context["message"] = _("Request logged.")
    return render(request, "service/request.html", context)


def _after_change(
    request: Request,
    session: Session,
    user: SignedIn,
    _: Translator,
    now: datetime,
    request_id: str,
    change: Any,
    done: str,
) -> Response:
    try:
        with session.begin_nested():
            change()
    except DomainError as exc:
        if not is_htmx(request):
            raise
        context = _panel_context(request, session, user, _, now, request_id) | {"error": _(str(exc))}
        return render(request, "service/panel.html", context)
    if not is_htmx(request):
        return RedirectResponse(f"/service/requests/{request_id}", status_code=303)
    context = _panel_context(request, session, user, _, now, request_id) | {"message": done}
    return render(request, "service/panel.html", context)


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(f"{what}: {text!r}") from None


@router.post("/service/requests/{request_id}/transition", include_in_schema=False, dependencies=CSRF)
def transition(
    request: Request,
    request_id: str,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    action: Annotated[str, Form(max_length=20)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    note: Annotated[str, Form(max_length=svc.NOTE_MAX)] = "",
    rating: Annotated[str, Form(max_length=2)] = "",
    root_cause: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Apply one action from the request's panel."""
    svc.get(session, user=user, request_id=request_id)  # 404 first, whatever the form holds

    def change() -> None:
        chosen = _enum(Action, action, _("Action"))
        svc.transition(
            session,
            user=user,
            request_id=request_id,
            action=chosen,
            expected_version=_int(version, "version"),
            now=now,
            settings=settings,
            note=note or None,
            rating=_int(rating, _("Rating")) if rating.strip() else None,
            root_cause=(root_cause.strip() or None) if chosen is Action.resolve else None,
        )

    label = labeller(_)
    done = _("Done: {action}").format(action=label("action", action))
    return _after_change(request, session, user, _, now, request_id, change, done)


@router.post("/service/requests/{request_id}/update", include_in_schema=False, dependencies=CSRF)
def update(
    request: Request,
    request_id: str,
    session: DbSession,
    user: Reader,
    _: Gettext,
    now: Now,
    version: Annotated[str, Form(max_length=12)] = "",
    priority: Annotated[str, Form(max_length=16)] = "",
    root_cause: Annotated[str, Form(max_length=50)] = "",
    assignee_id: Annotated[str, Form(max_length=32)] = "",
    summary: Annotated[str, Form(max_length=svc.SUMMARY_MAX)] = "",
) -> Response:
    """Save the request's priority, root cause, assignee and summary (an empty field clears it)."""
    svc.get(session, user=user, request_id=request_id)

    def change() -> None:
        svc.update(
            session,
            user=user,
            request_id=request_id,
            expected_version=_int(version, "version"),
            now=now,
            priority=_enum(Priority, priority, _("Priority")) if priority else None,
            root_cause=root_cause.strip() or None,
            staff_id=assignee_id.strip() or None,
            summary=summary.strip() or None,
        )

    return _after_change(request, session, user, _, now, request_id, change, _("Changes saved."))


__all__ = ["router", "service_api", "service_benefits_api", "service_pages"]
