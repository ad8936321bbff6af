"""The VIP appointments page: a service's slots on a day with their free places, booking one for a
customer, the day's bookings (in the viewer's scope), cancelling; a full slot and other refusals shown
with the domain's message (never a 500); RMs book only for their own customers (404 otherwise);
auditors read only; every booking and cancellation audited."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.db import session_scope

from .conftest import TestClient, csrf_token
from .html import by_id, parse
from .service_fixtures import app, as_user

__all__ = ["app", "as_user"]  # the fixtures

#: Tuesday 1 December 2026, the day after the fixed clock (Monday 30 November, 10:00 in Beijing)
DAY = "2026-12-01"
PAGE = f"/service/appointments?service=special_counter&day={DAY}"


def _book(
    client: TestClient, customer: str, slot: str, service: str = "special_counter", **fields: str
) -> httpx.Response:
    return client.post(
        "/service/appointments",
        data={
            "customer_id": customer,
            "service": service,
            "slot_start": slot,
            "day": DAY,
            "csrf_token": csrf_token(client, "/service/standard"),
            **fields,
        },
        follow_redirects=False,
    )


def _cancel(client: TestClient, appointment_id: str) -> httpx.Response:
    return client.post(
        f"/service/appointments/{appointment_id}/cancel",
        data={
            "service": "special_counter",
            "day": DAY,
            "csrf_token": csrf_token(client, "/service/standard"),
        },
        follow_redirects=False,
    )


def _text(html: str, testid: str) -> str | None:
    node = parse(html).find(data_testid=testid)
    return None if node is None else node.text()


def _slot(html: str, local: str) -> list[str]:
    node = parse(html).find(data_slot=local)
    assert node is not None, local
    return [c.text() for c in node.children if not isinstance(c, str)]


def _bookings(html: str) -> list[list[str]]:
    return by_id(html, "bookings-table").table()[1:]


def test_slots_booking_and_cancelling(as_user: Callable[[str], TestClient], engine: Engine) -> None:
    desk = as_user("svc")
    page = desk.get(PAGE)
    assert page.status_code == 200
    slots = by_id(page.text, "slots-table").table()
    assert len(slots) == 1 + 16  # 09:00–17:00 in 30-minute slots
    assert slots[1] == ["09:00", "1", "0", "1", "09:00"]
    customers = [o.attrs.get("value") for o in by_id(page.text, "book-form").iter("option")]
    assert customers == ["", "C001"]  # the looked-up customer only
    assert _text(page.text, "no-bookings") == "当天没有预约。"

    booked = _book(desk, "C001", f"{DAY}T09:30", note="带家属")
    assert booked.status_code == 303
    assert (
        booked.headers["location"] == f"/service/appointments?service=special_counter&day={DAY}&done=booked"
    )
    after = desk.get(booked.headers["location"]).text
    assert _text(after, "message") == "预约成功。"
    assert _slot(after, f"{DAY}T09:30") == ["09:30", "1", "1", "已约满", "—"]  # capacity 1: now full
    rows = _bookings(after)
    assert rows == [["09:30–10:00", "专属柜台", "陈一 C001 · 138****5678", "已预约", "svc", "带家属", "取消"]]
    appointment_id = parse(after).find(data_customer="C001", data_status="booked").attrs["data-appointment"]  # type: ignore[union-attr]
    assert appointment_id is not None

    # the customer's RM sees the booking; a full slot cannot be booked: the domain's message, 409
    rm = as_user("rm01")
    assert _bookings(rm.get(PAGE).text)[0][:4] == [
        "09:30–10:00",
        "专属柜台",
        "陈一 C001 · 138****5678",
        "已预约",
    ]
    full = _book(rm, "C003", f"{DAY}T09:30")
    assert full.status_code == 409
    assert _text(full.text, "error") == "the slot is full (1 of 1)"
    same = _book(rm, "C001", f"{DAY}T09:30")
    assert (same.status_code, _text(same.text, "error")) == (409, "the customer already has this slot")

    cancelled = _cancel(desk, appointment_id)
    assert cancelled.headers["location"].endswith("&done=cancelled")
    again = desk.get(cancelled.headers["location"]).text
    assert _text(again, "message") == "预约已取消。"
    assert _slot(again, f"{DAY}T09:30") == ["09:30", "1", "0", "1", "09:30"]
    assert _bookings(again)[0][3] == "已取消"
    twice = _cancel(desk, appointment_id)
    assert (twice.status_code, _text(twice.text, "error")) == (
        409,
        f"appointment {appointment_id} is cancelled",
    )
    # the freed place is bookable again, by the RM for their other customer
    assert _book(rm, "C003", f"{DAY}T09:30").status_code == 303

    with session_scope(engine) as session:
        audited = session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.customer_id)
            .where(AuditEntry.action.in_(["appointment.book", "appointment.cancel"]))
            .order_by(AuditEntry.seq)
        ).all()
    assert [tuple(a) for a in audited] == [
        ("appointment.book", "svc", "C001"),
        ("appointment.cancel", "svc", "C001"),
        ("appointment.book", "rm01", "C003"),
    ]


def test_bad_input_is_a_4xx_with_the_message(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    odd = _book(desk, "C001", f"{DAY}T09:10")
    assert (odd.status_code, _text(odd.text, "error")) == (
        422,
        "2026-12-01 09:10 is not the start of a bookable slot",
    )
    past = _book(desk, "C001", "2026-11-30T09:30")
    assert (past.status_code, _text(past.text, "error")) == (422, "the slot has begun or passed")
    assert _text(_book(desk, "", f"{DAY}T09:30").text, "error") == "请选择客户。"
    assert _text(_book(desk, "C001", "").text, "error") == "请选择有空余名额的时段。"
    assert _book(desk, "C001", f"{DAY}T09:30", service="yacht").status_code == 422
    # a gold customer is below the VIP tier (the branch manager may book for anyone)
    gold = _book(as_user("boss"), "C002", f"{DAY}T10:00")
    assert (gold.status_code, _text(gold.text, "error")) == (
        422,
        "VIP appointments are for sunflower customers and above",
    )
    # a Saturday: no slots; bad days and services
    assert _text(desk.get("/service/appointments?service=lounge&day=2026-12-05").text, "no-slots")
    assert desk.get("/service/appointments?day=2026-13-01").status_code == 422
    assert desk.get("/service/appointments?day=0001-01-01").status_code == 422
    assert desk.get("/service/appointments?service=yacht").status_code == 422
    # defaults: the first service, today (Monday 30 November)
    today = desk.get("/service/appointments").text
    assert by_id(today, "slots-title").text() == "财富咨询 · 2026-11-30"
    assert _slot(today, "2026-11-30T09:30")[-1] == "—"  # begun already: not bookable


def test_rm_scope_and_read_only_roles(as_user: Callable[[str], TestClient]) -> None:
    # another RM's customer: 404, as for an unknown one, and nothing booked
    other = as_user("rm02")
    assert _book(other, "C001", f"{DAY}T11:00").status_code == 404
    assert _book(other, "C999", f"{DAY}T11:00").status_code == 404
    assert _book(as_user("svc"), "C004", f"{DAY}T11:00").status_code == 404  # not looked up
    rm = as_user("rm01")
    booked = _book(rm, "C001", f"{DAY}T11:00")
    assert booked.status_code == 303
    page = rm.get(PAGE).text
    appointment_id = parse(page).find(data_customer="C001").attrs["data-appointment"]  # type: ignore[union-attr]
    # the other RM neither sees nor cancels it
    assert _text(other.get(PAGE).text, "no-bookings") == "当天没有预约。"
    assert _cancel(other, str(appointment_id)).status_code == 404
    # auditors read the page and every booking, and act on nothing
    auditor = as_user("audit")
    seen = auditor.get(PAGE)
    assert seen.status_code == 200
    assert [r[2] for r in _bookings(seen.text)] == ["陈一 C001 · 138****5678"]
    assert 'name="slot_start"' not in seen.text and "/cancel" not in seen.text
    assert _book(auditor, "C001", f"{DAY}T11:30").status_code == 403
    assert _cancel(auditor, str(appointment_id)).status_code == 403
    assert as_user("analyst").get(PAGE).status_code == 403
    # the nav links the page for the desk, RMs and auditors
    assert 'href="/service/appointments"' in auditor.get("/service/standard").text
