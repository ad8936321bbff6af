"""VIP appointments: slots on the working calendar, who may book, capacity under concurrency."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Invalid
from wealthcrm.service import appointments as appt
from wealthcrm.service.appointments import VipService
from wealthcrm.service.models import Appointment, AppointmentSlot

from ..entitlements.test_entitlements import _race
from .data import CALENDAR, bj, make_settings, seed, who


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def test_slots_follow_the_calendar() -> None:
    # 09:00–17:00 in 30-minute slots: 16 a working day, none on a holiday, 16 on a make-up Saturday
    starts = appt.slot_starts(CALENDAR, date(2025, 9, 22), 30)
    assert (len(starts), starts[0], starts[-1]) == (16, bj(2025, 9, 22, 9), bj(2025, 9, 22, 16, 30))
    assert appt.slot_starts(CALENDAR, date(2025, 10, 2), 30) == []
    assert len(appt.slot_starts(CALENDAR, date(2025, 10, 11), 30)) == 16
    assert len(appt.slot_starts(CALENDAR, date(2025, 9, 22), 45)) == 10  # 8 h / 45 min = 10, rest unused


def test_booking_rules(session: Session, cfg: Settings) -> None:
    seed(session)
    now = bj(2025, 9, 22, 10)
    svc = who("svc")
    a = appt.book(
        session,
        user=svc,
        customer_id="C1",
        service=VipService.special_counter,
        slot_start=bj(2025, 9, 23, 10),
        now=now,
        settings=cfg,
    )
    assert (a.slot_end, a.status, a.created_by) == (bj(2025, 9, 23, 10, 30), "booked", "svc")
    with pytest.raises(Conflict, match="full"):  # one special-counter customer per slot: C2 is gold anyway
        appt.book(
            session,
            user=who("rm01"),
            customer_id="C5",
            service=VipService.special_counter,
            slot_start=bj(2025, 9, 23, 10),
            now=now,
            settings=cfg,
        )
    with pytest.raises(Invalid, match="sunflower customers and above"):
        appt.book(
            session,
            user=svc,
            customer_id="C2",
            service=VipService.lounge,
            slot_start=bj(2025, 9, 23, 10),
            now=now,
            settings=cfg,
        )
    with pytest.raises(Invalid, match="not the start of a bookable slot"):
        appt.book(
            session,
            user=svc,
            customer_id="C1",
            service=VipService.lounge,
            slot_start=bj(2025, 9, 23, 10, 10),
            now=now,
            settings=cfg,
        )
    with pytest.raises(Invalid, match="not the start"):  # a public holiday
        appt.book(
            session,
            user=svc,
            customer_id="C1",
            service=VipService.lounge,
            slot_start=bj(2025, 10, 2, 10),
            now=now,
            settings=cfg,
        )
    with pytest.raises(Invalid, match="begun or passed"):
        appt.book(
            session,
            user=svc,
            customer_id="C1",
            service=VipService.lounge,
            slot_start=bj(2025, 9, 22, 10),
            now=now,
            settings=cfg,
        )
    with pytest.raises(Invalid, match="30 days ahead"):
        appt.book(
            session,
            user=svc,
            customer_id="C1",
            service=VipService.lounge,
            slot_start=bj(2025, 10, 23, 10),
            now=now,
            settings=cfg,
        )
    appt.book(
        session,
        user=svc,
        customer_id="C1",
        service=VipService.lounge,
        slot_start=bj(2025, 9, 23, 10),
        now=now,
        settings=cfg,
    )
    with pytest.raises(Conflict, match="already has this slot"):
        appt.book(
            session,
            user=svc,
            customer_id="C1",
            service=VipService.lounge,
            slot_start=bj(2025, 9, 23, 10),
            now=now,
            settings=cfg,
        )
    # cancelling frees the place
    appt.cancel(session, user=svc, appointment_id=a.id, now=now)
    b = appt.book(
        session,
        user=who("rm01"),
        customer_id="C5",
        service=VipService.special_counter,
        slot_start=bj(2025, 9, 23, 10),
        now=now,
        settings=cfg,
    )
    day = appt.availability(session, service=VipService.special_counter, day=date(2025, 9, 23), settings=cfg)
    assert [(s.slot_start, s.booked, s.free) for s in day if s.booked] == [(bj(2025, 9, 23, 10), 1, 0)]
    assert [
        x.id for x in appt.customer_appointments(session, user=who("rm01"), customer_id="C5", since=now)
    ] == [b.id]


def test_concurrent_bookings_never_exceed_the_capacity(engine: Engine, tmp_path: Path) -> None:
    cfg = make_settings(tmp_path)
    with session_scope(engine) as s:
        seed(s)
    customers = ["C1", "C5", "C6", "C7", "C8", "C9"]
    slot = bj(2025, 9, 23, 14)

    def work(i: int) -> None:
        with session_scope(engine) as s:
            appt.book(
                s,
                user=who("rm01"),
                customer_id=customers[i],
                service=VipService.wealth_consultation,
                slot_start=slot,
                now=bj(2025, 9, 22, 10),
                settings=cfg,
            )

    ok, errors = _race(engine, len(customers), work)
    # two advisers per slot: six customers at once, two get it
    assert ok == 2
    assert len(errors) == 4 and all(isinstance(e, Conflict) for e in errors), errors
    with session_scope(engine) as s:
        assert s.scalar(select(AppointmentSlot.booked)) == 2
        assert len(s.scalars(select(Appointment)).all()) == 2
