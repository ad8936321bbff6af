"""Desk pages for benefits and VIP appointments: what service staff (and RMs, team leads, the branch
manager for the customers in their scope) do at the counter that the JSON API already offered.

- ``/service/benefits/{customer_id}``: this year's benefits with quota, used and remaining (the
  downgrade grace period noted), and a Redeem form. The desk (``/service``) loads the panel of a
  looked-up customer by htmx; without htmx it is a page of its own.
- ``/service/appointments``: a VIP service's slots on a day with their free places, booking one for a
  customer, the day's bookings (of the customers in the viewer's scope) and cancelling one.

A refused change (an exhausted quota, a benefit outside the tier, a full slot) comes back with the
domain's message: inline in the htmx panel, else on the page with its 409 / 422 status. A customer
outside the caller's scope is a 404 and a role that may not act a 403, as everywhere
(:mod:`wealthcrm.web.errors`). The services audit every redemption, booking and cancellation.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from wealthcrm.config import Settings
from wealthcrm.customers import lookup
from wealthcrm.customers.service import customer_360, get_customer
from wealthcrm.db import utcnow
from wealthcrm.entitlements import service as benefits
from wealthcrm.errors import Conflict, Invalid
from wealthcrm.service import appointments as appts
from wealthcrm.service.service import calendar_of as settings_calendar
from wealthcrm.vocab import Role
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, RowId
from wealthcrm.web.errors import status_of
from wealthcrm.web.i18n import Translator
from wealthcrm.web.routes.service_common import (
    Now,
    Reader,
    calendar_of,
    can_work,
    labeller,
    local_text,
    parse_instant,
)
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import entitlement_view

router = make_router()
CSRF = [Depends(auth.check_csrf)]
#: redemptions listed under the benefits
HISTORY_ROWS = 5
NOTE_MAX = 500
#: refusals the pages show next to the form; NotFound and Forbidden go to the error page (404 / 403)
SHOWN = (Conflict, Invalid)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(f"{what}: {text!r}") from None


# --- benefits --------------------------------------------------------------------------------------


def _benefits_context(
    session: Session, settings: Settings, user: SignedIn, _: Translator, now: datetime, customer_id: str
) -> dict[str, Any]:
    calendar = settings_calendar(settings)
    # the 360 reads the customer in the caller's scope (NotFound outside it) with the months the grace
    # period looks back on; the benefits view is the one Customer 360 shows
    view = customer_360(
        session,
        user=user,
        customer_id=customer_id,
        on=calendar.local_date(now),
        months=settings.entitlements.grace_months + 1,
        interactions=0,
    )
    ent = entitlement_view(session, user=user, view=view, now=now, settings=settings)
    history = benefits.history(session, user=user, customer_id=customer_id, limit=HISTORY_ROWS)
    redeemable = [b for b in ent.benefits if b.eligible and (b.remaining is None or b.remaining > 0)]
    return {
        "customer": view,
        "ent": ent,
        "history": history,
        "redeemable": redeemable,
        "can_redeem": Role(user.role) in benefits.REDEEMING_ROLES,
        "grace_months": settings.entitlements.grace_months,
        "label": labeller(_),
        "local": lambda at: local_text(at, calendar),
        "max_quantity": benefits.MAX_QUANTITY,
    }


def _benefits_response(
    request: Request,
    session: Session,
    settings: Settings,
    user: SignedIn,
    _: Translator,
    now: datetime,
    customer_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = _benefits_context(session, settings, user, _, now, customer_id)
    context |= {"message": message, "error": error}
    if is_htmx(request):  # htmx swaps only 2xx answers: a refusal is shown inside the panel
        return render(request, "service/benefits_panel.html", context)
    return render(request, "service/benefits.html", context, status_code)


@router.get("/service/benefits", include_in_schema=False)
def benefits_find(user: Reader, customer_id: Annotated[str, Query(max_length=32)] = "") -> RedirectResponse:
    """The desk's "open a customer's benefits" form (branch manager: any customer id)."""
    if not customer_id.strip():
        raise Invalid("customer_id: required")
    return RedirectResponse(f"/service/benefits/{quote(customer_id.strip(), safe='')}", status_code=303)


@router.get("/service/benefits/{customer_id}", include_in_schema=False)
def benefits_page(
    request: Request,
    customer_id: str,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    redeemed: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    """A customer's benefits this year: the desk's panel (htmx) or a page of its own."""
    message = _("Benefit redeemed.") if redeemed else None
    return _benefits_response(request, session, settings, user, _, now, customer_id, message=message)


@router.post("/service/benefits/{customer_id}/redeem", include_in_schema=False, dependencies=CSRF)
def redeem(
    request: Request,
    customer_id: str,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    benefit: Annotated[str, Form(max_length=50)] = "",
    quantity: Annotated[str, Form(max_length=4)] = "1",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    """Redeem a benefit for the customer (audited by the service as ``entitlement.redeem``)."""
    get_customer(session, user=user, customer_id=customer_id)  # 404 first, whatever the form holds
    try:
        with session.begin_nested():
            benefits.redeem(
                session,
                user=user,
                customer_id=customer_id,
                benefit=benefit.strip(),
                now=now,
                settings=settings,
                quantity=_int(quantity or "1", _("Uses")),
                note=note or None,
            )
    except SHOWN as exc:
        return _benefits_response(
            request, session, settings, user, _, now, customer_id,
            error=_(str(exc)), status_code=status_of(exc),
        )  # fmt: skip
    if not is_htmx(request):
        return RedirectResponse(f"/service/benefits/{customer_id}?redeemed=1", status_code=303)
    return _benefits_response(
        request, session, settings, user, _, now, customer_id, message=_("Benefit redeemed.")
    )


# --- VIP appointments ------------------------------------------------------------------------------


def _service(text: str) -> appts.VipService:
    try:
        return appts.VipService(text.strip()) if text.strip() else next(iter(appts.VipService))
    except ValueError:
        raise Invalid(f"service: {text!r}") from None


def _day(text: str, today: date) -> date:
    if not text.strip():
        return today
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"day: {text!r}") from None
    if not 2000 <= day.year <= 2200:
        raise Invalid(f"day {day}: out of range")
    return day


def _appointments_response(
    request: Request,
    session: Session,
    settings: Settings,
    user: SignedIn,
    _: Translator,
    now: datetime,
    *,
    service: str,
    day: str,
    customer_id: str = "",
    note: str = "",
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    calendar = calendar_of(request)
    chosen = _service(service)
    on = _day(day, calendar.local_date(now))
    slots = appts.availability(session, service=chosen, day=on, settings=settings)
    start = calendar.to_utc(datetime.combine(on, time.min))
    end = calendar.to_utc(datetime.combine(on + timedelta(days=1), time.min))
    # grants expire on the real clock, as the scope checks them (customers.scope)
    grants = lookup.active_grants(session, user_id=user.id, now=utcnow()) if user.role is Role.service else []
    context = {
        "service": chosen.value,
        "services": [s.value for s in appts.VipService],
        "day": on,
        "prev_day": on - timedelta(days=1),
        "next_day": on + timedelta(days=1),
        "slots": slots,
        "bookable": lambda s: s.free > 0 and s.slot_start > now,
        "bookings": appts.day_bookings(session, user=user, start=start, end=end),
        "grants": grants,
        "customer_id": customer_id,
        "note": note,
        "can_book": can_work(user),
        "label": labeller(_),
        "local": lambda at: local_text(at, calendar),
        "hhmm": lambda at: f"{calendar.to_local(at):%H:%M}",
        "slot_value": lambda at: f"{calendar.to_local(at):%Y-%m-%dT%H:%M}",
        "message": message,
        "error": error,
    }
    return render(request, "service/appointments.html", context, status_code)


def _back(service: str, day: str, done: str) -> str:
    return "/service/appointments?" + urlencode({"service": service, "day": day, "done": done})


@router.get("/service/appointments", include_in_schema=False)
def appointments_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    service: Annotated[str, Query(max_length=32)] = "",
    day: Annotated[str, Query(max_length=10)] = "",
    customer_id: Annotated[str, Query(max_length=32)] = "",
    done: Annotated[str, Query(pattern="^(booked|cancelled)?$")] = "",
) -> Response:
    """A VIP service's slots on a day, the booking form and the day's bookings."""
    messages = {"booked": _("Appointment booked."), "cancelled": _("Appointment cancelled.")}
    return _appointments_response(
        request, session, settings, user, _, now,
        service=service, day=day, customer_id=customer_id, message=messages.get(done),
    )  # fmt: skip


@router.post("/service/appointments", include_in_schema=False, dependencies=CSRF)
def book(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    customer_id: Annotated[str, Form(max_length=32)] = "",
    service: Annotated[str, Form(max_length=32)] = "",
    slot_start: Annotated[str, Form(max_length=32)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    """Book the chosen slot for a customer in the caller's scope (audited as ``appointment.book``)."""
    customer_id = customer_id.strip()
    if customer_id:
        get_customer(session, user=user, customer_id=customer_id)  # 404 first, whatever the form holds
    try:
        if not customer_id:
            raise Invalid(_("Choose the customer."))
        chosen = _service(service)
        try:
            start = datetime.fromisoformat(slot_start.strip())
        except ValueError:
            raise Invalid(_("Choose a free slot.")) from None
        with session.begin_nested():
            appts.book(
                session,
                user=user,
                customer_id=customer_id,
                service=chosen,
                slot_start=parse_instant(start, calendar_of(request)),
                now=now,
                settings=settings,
                note=note or None,
            )
    except SHOWN as exc:
        return _appointments_response(
            request, session, settings, user, _, now,
            service=service, day=day, customer_id=customer_id, note=note,
            error=_(str(exc)), status_code=status_of(exc),
        )  # fmt: skip
    return RedirectResponse(_back(chosen.value, day, "booked"), status_code=303)


@router.post("/service/appointments/{appointment_id}/cancel", include_in_schema=False, dependencies=CSRF)
def cancel(
    request: Request,
    appointment_id: RowId,
    session: DbSession,
    settings: AppSettings,
    user: Reader,
    _: Gettext,
    now: Now,
    service: Annotated[str, Form(max_length=32)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Cancel a booking; the place goes back to the slot (audited as ``appointment.cancel``)."""
    try:
        with session.begin_nested():
            appts.cancel(session, user=user, appointment_id=appointment_id, now=now)
    except SHOWN as exc:
        return _appointments_response(
            request, session, settings, user, _, now,
            service=service, day=day, error=_(str(exc)), status_code=status_of(exc),
        )  # fmt: skip
    return RedirectResponse(_back(service, day, "cancelled"), status_code=303)


__all__ = ["router"]
