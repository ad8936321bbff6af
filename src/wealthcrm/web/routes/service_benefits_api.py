"""The service API's benefits under /api/v1: a customer's entitlements (catalogue with the remaining
quota, redemption, cancellation) and VIP appointments (slots with free places, booking, cancelling).

Same conventions as :mod:`.service_api`: 404 outside the caller's scope, 403 for a role that may not,
409 over a quota or for a full slot, 422 for bad input; POSTs need the CSRF token or a bearer token.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from wealthcrm.entitlements import service as benefits
from wealthcrm.errors import Invalid
from wealthcrm.service import appointments
from wealthcrm.service import service as svc
from wealthcrm.web import auth
from wealthcrm.web.deps import AppSettings, DbSession, RowId
from wealthcrm.web.routes.service_common import ActingUser, Now, Reader, calendar_of, parse_instant, router, z

CSRF = [Depends(auth.check_csrf)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedeemIn(_In):
    benefit: str = Field(max_length=50)
    quantity: int = Field(1, ge=1, le=benefits.MAX_QUANTITY)
    note: str | None = Field(None, max_length=500)


class CancelIn(_In):
    reason: str | None = Field(None, max_length=500)


class BookIn(_In):
    customer_id: str = Field(max_length=32)
    service: appointments.VipService
    slot_start: datetime = Field(description="The slot's start: local branch time, or with an offset.")
    note: str | None = Field(None, max_length=500)


# --- entitlements ------------------------------------------------------------------------------------


def _redemption_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "customer_id": r.customer_id,
        "benefit": r.benefit,
        "year": r.year,
        "quantity": r.quantity,
        "tier": str(getattr(r.tier, "value", r.tier)),
        "cost": r.cost,
        "redeemed_at": z(r.redeemed_at),
        "staff_id": r.staff_id,
        "created_by": r.created_by,
        "note": r.note,
        "cancelled_at": z(r.cancelled_at),
    }


@router.get("/api/v1/customers/{customer_id}/entitlements", tags=["entitlements"])
def entitlements_api(
    customer_id: str, session: DbSession, settings: AppSettings, user: Reader, now: Now
) -> dict[str, Any]:
    """The catalogue for the customer's benefit tier: quota, used and remaining this year per benefit,
    and the latest redemptions."""
    balances = benefits.remaining(session, user=user, customer_id=customer_id, now=now, settings=settings)
    history = benefits.history(session, user=user, customer_id=customer_id, limit=20)
    return {
        "customer_id": customer_id,
        "tier": balances[0].tier if balances else None,
        "year": svc.calendar_of(settings).to_local(now).year,
        "items": [
            {
                "benefit": b.benefit,
                "eligible": b.eligible,
                "quota": b.quota,
                "used": b.used,
                "remaining": b.remaining,
                "cost": b.cost,
            }
            for b in balances
        ],
        "redemptions": [_redemption_json(r) for r in history],
    }


@router.post(
    "/api/v1/customers/{customer_id}/redemptions", tags=["entitlements"], status_code=201, dependencies=CSRF
)
def redeem_api(
    customer_id: str, body: RedeemIn, session: DbSession, settings: AppSettings, user: Reader, now: Now
) -> dict[str, Any]:
    """Record a use of a benefit within this year's quota (409 over the quota, 422 outside the tier)."""
    redemption = benefits.redeem(
        session,
        user=user,
        customer_id=customer_id,
        benefit=body.benefit,
        now=now,
        settings=settings,
        quantity=body.quantity,
        note=body.note,
    )
    return _redemption_json(redemption)


@router.post("/api/v1/redemptions/{redemption_id}/cancel", tags=["entitlements"], dependencies=CSRF)
def cancel_redemption_api(
    redemption_id: RowId, body: CancelIn, session: DbSession, user: Reader, now: Now
) -> dict[str, Any]:
    """Cancel a redemption: its uses go back to the quota (409 when already cancelled)."""
    redemption = benefits.cancel(session, user=user, redemption_id=redemption_id, now=now, reason=body.reason)
    return _redemption_json(redemption)


# --- VIP appointments --------------------------------------------------------------------------------


def _appointment_json(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "customer_id": a.customer_id,
        "service": a.service,
        "slot_start": z(a.slot_start),
        "slot_end": z(a.slot_end),
        "status": a.status,
        "staff_id": a.staff_id,
        "note": a.note,
        "created_at": z(a.created_at),
        "created_by": a.created_by,
        "cancelled_at": z(a.cancelled_at),
    }


@router.get("/api/v1/appointments/slots", tags=["appointments"])
def slots_api(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ActingUser,
    service: appointments.VipService,
    day: Annotated[date, Query(description="A local date, YYYY-MM-DD.")],
) -> dict[str, Any]:
    """Every slot of a VIP service on a day with its capacity and free places (none on a day off)."""
    if not 2000 <= day.year <= 2200:
        raise Invalid(f"day {day}: out of range")
    calendar = calendar_of(request)
    slots = appointments.availability(session, service=service, day=day, settings=settings)
    items = [
        {
            "slot_start": z(s.slot_start),
            "local_start": f"{calendar.to_local(s.slot_start):%Y-%m-%dT%H:%M}",
            "capacity": s.capacity,
            "booked": s.booked,
            "free": s.free,
        }
        for s in slots
    ]
    return {"service": service.value, "day": day.isoformat(), "items": items, "total": len(items)}


@router.post("/api/v1/appointments", tags=["appointments"], status_code=201, dependencies=CSRF)
def book_api(
    request: Request, body: BookIn, session: DbSession, settings: AppSettings, user: Reader, now: Now
) -> dict[str, Any]:
    """Book a slot for a customer in the caller's scope (409 when the slot is full)."""
    appointment = appointments.book(
        session,
        user=user,
        customer_id=body.customer_id,
        service=body.service,
        slot_start=parse_instant(body.slot_start, calendar_of(request)),
        now=now,
        settings=settings,
        note=body.note,
    )
    return _appointment_json(appointment)


@router.post("/api/v1/appointments/{appointment_id}/cancel", tags=["appointments"], dependencies=CSRF)
def cancel_appointment_api(
    appointment_id: RowId, session: DbSession, user: Reader, now: Now
) -> dict[str, Any]:
    """Cancel a booking; the place goes back to the slot."""
    return _appointment_json(appointments.cancel(session, user=user, appointment_id=appointment_id, now=now))


@router.get("/api/v1/customers/{customer_id}/appointments", tags=["appointments"])
def customer_appointments_api(customer_id: str, session: DbSession, user: Reader, now: Now) -> dict[str, Any]:
    """The customer's bookings from now on, soonest first (404 outside the caller's scope)."""
    found = appointments.customer_appointments(session, user=user, customer_id=customer_id, since=now)
    items = [_appointment_json(a) for a in found]
    return {"customer_id": customer_id, "items": items, "total": len(items)}
