"""An imported service request on the desk: the bank's file gives Beijing time, the database holds UTC,
the page shows Beijing time again and the SLA clock counts on the same clock as the desk's requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from wealthcrm.db import session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.service.models import ServiceRequest

from ..ingest.factories import write_folder
from .conftest import TestClient
from .html import parse
from .service_fixtures import app, as_user

__all__ = ["app", "as_user"]  # the fixtures

#: as the bank's service system exports it: local (Beijing) wall-clock times
R9 = {
    "request_id": "R9",
    "customer_id": "C001",
    "request_type": "transaction_problem",
    "channel": "phone",
    "priority": "",
    "root_cause": "",
    "staff_id": "S003",
    "opened_at": "2026-11-02 09:30",
    "acknowledged_at": "2026-11-02 09:45",
    "due_at": "2026-11-30 11:00",  # an hour after the clock of these tests (Monday 30 November 10:00)
    "resolved_at": "",
    "status": "in_progress",
    "rating": "",
}


def _import(app: FastAPI, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "extract", {"service_requests": [R9]})
    import_path(app.state.engine, folder, settings=app.state.settings, today=date(2026, 11, 28))


def test_an_imported_request_is_stored_in_utc_and_shown_in_local_time(
    app: FastAPI, as_user: Callable[[str], TestClient], tmp_path: Path
) -> None:
    _import(app, tmp_path)
    with session_scope(app.state.engine) as session:
        stored = session.execute(
            select(ServiceRequest.opened_at, ServiceRequest.acknowledged_at, ServiceRequest.due_at).where(
                ServiceRequest.request_id == "R9"
            )
        ).one()
    assert tuple(stored) == (
        datetime(2026, 11, 2, 1, 30),
        datetime(2026, 11, 2, 1, 45),
        datetime(2026, 11, 30, 3, 0),
    )

    desk = as_user("svc")
    body = desk.get("/api/v1/service-requests/R9").json()
    assert (body["opened_at"], body["acknowledged_at"], body["priority"]) == (
        "2026-11-02T01:30:00Z",
        "2026-11-02T01:45:00Z",
        "normal",
    )
    # the SLA standing at the tests' clock, Monday 10:00 in Beijing (service_fixtures.NOW): one business
    # hour left, not the 7 h a due time read as 11:00 UTC (19:00 in Beijing) would leave
    assert {k: body["sla"][k] for k in ("due_at", "breached", "remaining_hours", "paused")} == {
        "due_at": "2026-11-30T03:00:00Z",
        "breached": False,
        "remaining_hours": 1.0,
        "paused": False,
    }
    page = desk.get("/service/requests/R9").text
    doc = parse(page)
    assert "2026-11-02 09:30" in page and "2026-11-02 01:30" not in page
    due = doc.find(data_testid="due")
    assert due is not None and due.text() == "2026-11-30 11:00"
    sla = doc.find(data_testid="sla")
    assert sla is not None and sla.attrs["data-breached"] == "false" and "1.0" in sla.text()
    queue = desk.get("/service").text
    row = parse(queue).find(data_request="R9")
    assert row is not None
    cells = [td.text() for td in row.iter("td")]
    assert cells[3:5] == ["2026-11-02 09:30", "2026-11-30 11:00"]  # opened, due
