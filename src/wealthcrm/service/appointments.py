"""VIP appointments (预约): wealth consultations, the lounge, the special counter, in slots of business hours.

A slot is ``appointments.slot_minutes`` long and starts at the opening time or a whole number of slots
after it, on a working day, ending by closing time. Each service has a capacity per slot
(``appointments.<service>_capacity``). :func:`book` locks the slot's counter row
(:func:`~wealthcrm.service.counters.locked_counter`) before it checks the capacity, so concurrent
bookings cannot over-fill a slot; a full slot is :class:`Conflict`. Only customers whose benefit tier
(with the downgrade grace period) is ``appointments.min_tier`` or above may book. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import scope_filter
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.counters import locked_counter
from wealthcrm.service.models import Appointment, AppointmentSlot
from wealthcrm.service.service import ACTING_ROLES, Staffer, calendar_of
from wealthcrm.service.tiers import customer_tier
from wealthcrm.vocab import Role


class VipService(StrEnum):
    wealth_consultation = "wealth_consultation"
    lounge = "lounge"
    special_counter = "special_counter"


class AppointmentStatus(StrEnum):
    booked = "booked"
    cancelled = "cancelled"


def slot_starts(calendar: WorkingCalendar, day: date, slot_minutes: int) -> list[datetime]:
    """The slot starts of a local ``day`` (naive UTC), none on a day off."""
    if not calendar.is_working_day(day):
        return []
    step = timedelta(minutes=slot_minutes)
    cursor = datetime.combine(day, calendar.start)
    closing = datetime.combine(day, calendar.end)
    out = []
    while cursor + step <= closing:
        out.append(calendar.to_utc(cursor))
        cursor += step
    return out


def check_slot(calendar: WorkingCalendar, slot_start: datetime, slot_minutes: int) -> None:
    local = calendar.to_local(slot_start)
    if slot_start.replace(tzinfo=None) not in slot_starts(calendar, local.date(), slot_minutes):
        raise Invalid(f"{local:%Y-%m-%d %H:%M} is not the start of a bookable slot")


@dataclass(frozen=True, slots=True)
class SlotAvailability:
    slot_start: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


def availability(
    session: Session, *, service: VipService, day: date, settings: Settings
) -> list[SlotAvailability]:
    """Every slot of ``service`` on a local ``day`` with its capacity and bookings."""
    calendar = calendar_of(settings)
    starts = slot_starts(calendar, day, settings.appointments.slot_minutes)
    if not starts:
        return []
    booked = dict(
        session.execute(
            select(AppointmentSlot.slot_start, AppointmentSlot.booked).where(
                AppointmentSlot.service == service.value,
                AppointmentSlot.slot_start >= starts[0],
                AppointmentSlot.slot_start <= starts[-1],
            )
        ).all()
    )
    capacity = settings.appointments.capacity(service.value)
    return [SlotAvailability(s, capacity, int(booked.get(s, 0))) for s in starts]


def book(
    session: Session,
    *,
    user: Staffer,
    customer_id: str,
    service: VipService,
    slot_start: datetime,
    now: datetime,
    settings: Settings,
    note: str | None = None,
) -> Appointment:
    """Book a slot for a customer in ``user``'s scope; audited as ``appointment.book``."""
    get_customer(session, user=user, customer_id=customer_id)
    if Role(user.role) not in ACTING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not book appointments")
    s = settings.appointments
    calendar = calendar_of(settings)
    check_slot(calendar, slot_start, s.slot_minutes)
    if slot_start <= now:
        raise Invalid("the slot has begun or passed")
    if calendar.local_date(slot_start) > calendar.local_date(now) + timedelta(days=s.max_days_ahead):
        raise Invalid(f"slots can be booked up to {s.max_days_ahead} days ahead")
    tier = customer_tier(
        session,
        customer_id=customer_id,
        on=calendar.local_date(now),
        grace_months=settings.entitlements.grace_months,
    )
    if tier is None or tier.rank < s.min_tier.rank:
        raise Invalid(f"VIP appointments are for {s.min_tier.value} customers and above")
    slot = locked_counter(session, AppointmentSlot, service=service.value, slot_start=slot_start)
    same = session.scalar(
        select(Appointment.id).where(
            Appointment.customer_id == customer_id,
            Appointment.service == service.value,
            Appointment.slot_start == slot_start,
            Appointment.status == AppointmentStatus.booked.value,
        )
    )
    if same is not None:
        raise Conflict("the customer already has this slot")
    capacity = s.capacity(service.value)
    if slot.booked >= capacity:
        raise Conflict(f"the slot is full ({slot.booked} of {capacity})")
    slot.booked += 1
    appointment = Appointment(
        customer_id=customer_id,
        service=service.value,
        slot_start=slot_start,
        slot_end=slot_start + timedelta(minutes=s.slot_minutes),
        status=AppointmentStatus.booked.value,
        staff_id=user.staff_id,
        note=(note or "").strip() or None,
        created_at=now,
        created_by=user.username,
        cancelled_at=None,
    )
    session.add(appointment)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="appointment.book",
        entity="appointment",
        entity_id=appointment.id,
        customer_id=customer_id,
        details={"service": service.value, "slot_start": slot_start.isoformat(), "booked": slot.booked},
        at=now,
    )
    return appointment


def cancel(session: Session, *, user: Staffer, appointment_id: int, now: datetime) -> Appointment:
    """Cancel a booking; the place goes back to the slot. Audited as ``appointment.cancel``."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    try:
        get_customer(session, user=user, customer_id=appointment.customer_id)
    except NotFound:
        raise NotFound(f"no appointment {appointment_id}") from None
    if Role(user.role) not in ACTING_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not cancel appointments")
    if appointment.status != AppointmentStatus.booked.value:
        raise Conflict(f"appointment {appointment_id} is {appointment.status}")
    slot = locked_counter(
        session, AppointmentSlot, service=appointment.service, slot_start=appointment.slot_start
    )
    slot.booked = max(slot.booked - 1, 0)
    appointment.status = AppointmentStatus.cancelled.value
    appointment.cancelled_at = now
    session.flush()
    audit.record(
        session,
        actor=user,
        action="appointment.cancel",
        entity="appointment",
        entity_id=appointment.id,
        customer_id=appointment.customer_id,
        details={"service": appointment.service, "slot_start": appointment.slot_start.isoformat()},
        at=now,
    )
    return appointment


def customer_appointments(
    session: Session, *, user: Staffer, customer_id: str, since: datetime
) -> list[Appointment]:
    """The customer's bookings from ``since`` on, soonest first."""
    get_customer(session, user=user, customer_id=customer_id)
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.customer_id == customer_id, Appointment.slot_end > since)
            .order_by(Appointment.slot_start, Appointment.id)
        )
    )


def day_bookings(session: Session, *, user: Staffer, start: datetime, end: datetime) -> list[Any]:
    """The bookings with a slot starting in [start, end) of the customers in ``user``'s scope, with the
    customer's name and masked mobile (rows of Appointment, name, mobile_masked), by slot and service."""
    return list(
        session.execute(
            select(Appointment, Customer.name, Customer.mobile_masked)
            .join(Customer, Customer.customer_id == Appointment.customer_id)
            .where(Appointment.slot_start >= start, Appointment.slot_start < end, scope_filter(user))
            .order_by(Appointment.slot_start, Appointment.service, Appointment.id)
        ).all()
    )
