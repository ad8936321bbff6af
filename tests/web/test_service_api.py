"""The service API (/api/v1): requests with their SLA, history, transitions and optimistic locking, the
rating at closure; notifications; entitlements with quotas; VIP appointments; the complaint register;
the dashboards and the standard; and every list holding the caller's scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from wealthcrm.db import session_scope
from wealthcrm.service import service as svc

from ..customers.test_scope import SCOPE
from ..customers.workbench import MOBILE, NATIONAL_ID
from .conftest import TestClient, csrf_token
from .service_fixtures import NOW, app, as_user

__all__ = ["app", "as_user"]  # the fixtures


def _post(client: TestClient, path: str, body: dict[str, Any], method: str = "POST") -> Any:
    headers = {"X-CSRF-Token": csrf_token(client, "/notifications")}
    return client.request(method, path, json=body, headers=headers)


def _complaint(client: TestClient, customer: str = "C001") -> dict[str, Any]:
    response = _post(
        client,
        "/api/v1/service-requests",
        {"customer_id": customer, "request_type": "complaint", "channel": "phone", "summary": "费用扣错"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "customer_id" and isinstance(item, str):
                found.add(item)
            else:
                found |= _ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids(item)
    return found


def test_a_request_through_the_api(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    created = _complaint(desk)
    rid = created["request_id"]
    keys = ("customer_id", "request_type", "status", "version", "sla_tier", "priority")
    assert {k: created[k] for k in keys} == {
        "customer_id": "C001",
        "request_type": "complaint",
        "status": "new",
        "version": 1,
        "sla_tier": "sunflower",
        "priority": "high",  # none given: sunflower's normal, one step up for a complaint
    }
    assert created["sla"] == {
        "acknowledge_due_at": "2026-11-30T04:00:00Z",  # Monday 12:00 in Beijing
        "due_at": "2026-12-02T02:00:00Z",  # Wednesday 10:00
        "acknowledged_late": False,
        "breached": False,
        "remaining_hours": 16.0,
        "paused": False,
        "paused_hours": 0.0,
    }
    assert created["allowed_actions"] == ["acknowledge", "resolve"]
    assert [e["kind"] for e in created["events"]] == ["created"]
    assert NATIONAL_ID not in str(created) and MOBILE not in str(created)

    path = f"/api/v1/service-requests/{rid}"
    moved = _post(desk, f"{path}/transitions", {"action": "acknowledge", "version": 1})
    assert (moved.status_code, moved.json()["status"], moved.json()["version"]) == (200, "acknowledged", 2)
    # two staff saw version 2; the first change wins, the second is refused and changes nothing
    first = _post(desk, path, {"version": 2, "priority": "urgent", "root_cause": "fees"}, method="PATCH")
    assert (first.status_code, first.json()["priority"], first.json()["version"]) == (200, "urgent", 3)
    second = _post(desk, path, {"version": 2, "summary": "别的"}, method="PATCH")
    assert second.status_code == 409
    assert second.json()["error"]["message"].startswith(f"service request {rid} was changed by someone else")
    assert desk.get(path).json()["summary"] == "费用扣错"
    cleared = _post(desk, path, {"version": 3, "root_cause": None}, method="PATCH")
    assert (cleared.json()["root_cause"], cleared.json()["priority"]) == (None, "urgent")

    early = _post(desk, f"{path}/transitions", {"action": "resolve", "version": 4, "rating": 5})
    assert early.status_code == 422
    assert early.json()["error"]["message"] == "the customer rates the service when the request is closed"
    wrong = _post(desk, f"{path}/transitions", {"action": "close", "version": 4, "rating": 5})
    assert wrong.json()["error"] == {
        "status": 422,
        "message": "cannot close a request that is acknowledged; allowed: resolve, start, wait",
    }
    resolved = _post(desk, f"{path}/transitions", {"action": "resolve", "version": 4, "root_cause": "fees"})
    assert resolved.json()["status"] == "resolved"
    closed = _post(desk, f"{path}/transitions", {"action": "close", "version": 5, "rating": 4})
    body = closed.json()
    assert (body["status"], body["rating"], body["sla"]["breached"], body["allowed_actions"]) == (
        "closed",
        4,
        False,
        ["reopen"],
    )
    assert [(e["kind"], e["action"]) for e in body["events"]] == [
        ("created", None),
        ("transition", "acknowledge"),
        ("update", None),
        ("update", None),
        ("transition", "resolve"),
        ("transition", "close"),
    ]
    out_of_range = _post(desk, f"{path}/transitions", {"action": "reopen", "version": 6, "rating": 9})
    assert out_of_range.status_code == 422

    # scope: another RM's customer, an unknown id, an auditor reading, an auditor acting
    assert as_user("rm02").get(path).status_code == 404
    assert desk.get("/api/v1/service-requests/NOPE").status_code == 404
    auditor = as_user("audit")
    assert auditor.get(path).json()["status"] == "closed"
    refused = _post(auditor, f"{path}/transitions", {"action": "reopen", "version": 6})
    assert refused.status_code == 403
    listed = as_user("rm01").get("/api/v1/service-requests?status=closed&type=complaint").json()
    # urgent first, though R1 (high) was due two months earlier
    assert [(i["request_id"], i["status"]) for i in listed["items"]] == [(rid, "closed"), ("R1", "closed")]
    customer = as_user("rm01").get("/api/v1/customers/C001/service-requests?page_size=1").json()
    assert (customer["total"], customer["page_size"], len(customer["items"])) == (3, 1, 1)


def test_notifications_api(as_user: Callable[[str], TestClient], app: FastAPI) -> None:
    desk = as_user("svc")
    rid = _complaint(desk)["request_id"]
    with session_scope(app.state.engine) as session:
        svc.escalate_due(session, now=NOW + timedelta(hours=3), settings=app.state.settings)
    found = desk.get("/api/v1/notifications").json()
    assert (found["total"], found["unread"]) == (1, 1)
    note = found["items"][0]
    assert (note["code"], note["params"]["request_id"], note["params"]["step"]) == (
        "service.escalation",
        rid,
        1,
    )
    assert note["text"]["en"] == (
        f"{rid} (Complaint, customer C001) missed its acknowledgement due time 2026-11-30 12:00: "
        "escalation step 1, to the assignee"
    )
    read = _post(desk, f"/api/v1/notifications/{note['id']}/read", {})
    assert read.json()["read_at"] == "2026-11-30T02:00:00Z"
    assert desk.get("/api/v1/notifications?unread=true").json()["items"] == []
    assert _post(as_user("rm01"), f"/api/v1/notifications/{note['id']}/read", {}).status_code == 404


def test_entitlements_with_quotas(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    catalogue = desk.get("/api/v1/customers/C001/entitlements").json()
    assert (catalogue["tier"], catalogue["year"]) == ("sunflower", 2026)
    assert [(i["benefit"], i["quota"], i["remaining"]) for i in catalogue["items"]] == [
        ("airport_lounge", 2, 2),
        ("airport_vip_lane", 0, 0),
        ("health_checkup", 1, 1),
        ("priority_queue", None, None),
        ("fee_waiver", None, None),
    ]
    taken = _post(desk, "/api/v1/customers/C001/redemptions", {"benefit": "airport_lounge", "quantity": 2})
    assert taken.status_code == 201 and (taken.json()["cost"], taken.json()["tier"]) == (300.0, "sunflower")
    over = _post(desk, "/api/v1/customers/C001/redemptions", {"benefit": "airport_lounge"})
    assert over.status_code == 409
    assert (
        over.json()["error"]["message"]
        == "benefit airport_lounge: 2 of 2 uses taken in 2026; 0 left, 1 asked"
    )
    not_in_tier = _post(desk, "/api/v1/customers/C001/redemptions", {"benefit": "airport_vip_lane"})
    assert not_in_tier.status_code == 422
    unknown = _post(desk, "/api/v1/customers/C001/redemptions", {"benefit": "yacht"})
    assert unknown.status_code == 422
    outside = _post(desk, "/api/v1/customers/C004/redemptions", {"benefit": "fee_waiver"})
    assert outside.status_code == 404
    cancelled = _post(desk, f"/api/v1/redemptions/{taken.json()['id']}/cancel", {"reason": "录入错误"})
    assert cancelled.json()["cancelled_at"] == "2026-11-30T02:00:00Z"
    again = desk.get("/api/v1/customers/C001/entitlements").json()
    assert again["items"][0]["remaining"] == 2
    assert [r["benefit"] for r in again["redemptions"]] == ["airport_lounge"]
    assert as_user("analyst").get("/api/v1/customers/C001/entitlements").status_code == 403


def test_vip_appointments(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    slots = desk.get("/api/v1/appointments/slots?service=special_counter&day=2026-12-01").json()
    assert (slots["total"], slots["items"][0]) == (
        16,
        {"slot_start": "2026-12-01T01:00:00Z", "local_start": "2026-12-01T09:00", "capacity": 1, "booked": 0,
         "free": 1},
    )  # fmt: skip
    assert (
        desk.get("/api/v1/appointments/slots?service=lounge&day=2026-12-05").json()["total"] == 0
    )  # Saturday
    booked = _post(
        desk,
        "/api/v1/appointments",
        {"customer_id": "C001", "service": "special_counter", "slot_start": "2026-12-01T09:30"},
    )
    assert booked.status_code == 201, booked.text
    assert (booked.json()["slot_start"], booked.json()["slot_end"]) == (
        "2026-12-01T01:30:00Z",
        "2026-12-01T02:00:00Z",
    )
    full = _post(
        as_user("rm01"),
        "/api/v1/appointments",
        {"customer_id": "C001", "service": "special_counter", "slot_start": "2026-12-01T01:30:00+00:00"},
    )
    assert full.status_code == 409  # the same slot, given in UTC: one place only
    odd = _post(
        desk,
        "/api/v1/appointments",
        {"customer_id": "C001", "service": "lounge", "slot_start": "2026-12-01T09:10"},
    )
    assert odd.status_code == 422
    listed = as_user("rm01").get("/api/v1/customers/C001/appointments").json()
    assert [(a["service"], a["status"]) for a in listed["items"]] == [("special_counter", "booked")]
    cancelled = _post(desk, f"/api/v1/appointments/{booked.json()['id']}/cancel", {})
    assert cancelled.json()["status"] == "cancelled"
    free = desk.get("/api/v1/appointments/slots?service=special_counter&day=2026-12-01").json()["items"][1]
    assert free["free"] == 1
    assert desk.get("/api/v1/appointments/slots?service=lounge&day=0001-01-01").status_code == 422
    assert as_user("audit").get("/api/v1/appointments/slots?service=lounge&day=2026-12-01").status_code == 403


def test_register_dashboard_and_standard(as_user: Callable[[str], TestClient]) -> None:
    rid = _complaint(as_user("svc"))["request_id"]
    auditor = as_user("audit")
    register = auditor.get("/api/v1/complaints?from=2026-11").json()
    assert register["total"] == 1
    item = register["items"][0]
    assert {k: item[k] for k in ("request_id", "customer_name_masked", "mobile_masked", "within_sla")} == {
        "request_id": rid,
        "customer_name_masked": "陈*",
        "mobile_masked": "138****5678",
        "within_sla": None,
    }
    everything = auditor.get("/api/v1/complaints").json()
    assert [i["request_id"] for i in everything["items"]] == [rid, "R1"]
    assert auditor.get("/api/v1/complaints?root_cause=fees").json()["total"] == 1
    assert auditor.get("/api/v1/complaints?from=2026-13").status_code == 422
    assert as_user("rm01").get("/api/v1/complaints").status_code == 403

    board = as_user("boss").get("/api/v1/service/dashboard?from=2026-10&to=2026-11").json()
    assert (board["start"], board["end"], board["now"]) == ("2026-10", "2026-11", "2026-11-30T02:00:00Z")
    assert board["sla"]["total"] == {
        "key": "all",
        "requests": 3,
        "met": 0,
        "breached": 1,
        "pending": 2,
        "rated": 1,
        "avg_rating": 2.0,
        "compliance": 0.0,
    }
    assert board["backlog"]["open"] == 2 and board["backlog"]["by_status"]["new"] == 2
    assert [(a["request_type"], a["open"], a["buckets"]) for a in board["backlog"]["ageing"]] == [
        ("inquiry", 1, {"under_1": 0, "1_3": 0, "3_5": 0, "5_plus": 1}),  # R2: since 20 November
        ("complaint", 1, {"under_1": 1, "1_3": 0, "3_5": 0, "5_plus": 0}),
    ]
    assert [(m["month"], m["opened"]) for m in board["complaints"]] == [("2026-10", 1), ("2026-11", 1)]
    lead = as_user("lead").get("/api/v1/service/dashboard").json()
    assert lead["sla"]["total"]["requests"] == 3  # all of C001 is the lead's team's
    assert as_user("rm02").get("/api/v1/service/dashboard").status_code == 403
    assert as_user("boss").get("/api/v1/service/dashboard?from=2020-01&to=2026-11").status_code == 422

    standard = as_user("rm01").get("/api/v1/service/standard").json()
    sunflower = next(s for s in standard["segments"] if s["segment"] == "sunflower")
    assert (
        sunflower["default_priority"],
        sunflower["complaint_priority"],
        sunflower["cadence_days"],
        sunflower["resolve_hours"]["complaint"],
    ) == ("normal", "high", 30, 16.0)
    assert {s["segment"]: s["default_priority"] for s in standard["segments"]} == {
        "mass": "normal", "gold": "normal", "gold_prospect": "normal", "sunflower": "normal",
        "diamond": "high", "private": "high",
    }  # fmt: skip
    assert [s["segment"] for s in standard["segments"]] == [
        "mass", "gold", "gold_prospect", "sunflower", "diamond", "private",
    ]  # fmt: skip


def test_every_list_holds_the_callers_scope(as_user: Callable[[str], TestClient]) -> None:
    _complaint(as_user("svc"))
    _complaint(as_user("rm02"), customer="C004")
    for username, allowed in SCOPE.items():
        client = as_user(username)
        for path in (
            "/api/v1/service-requests?page_size=500",
            "/api/v1/service-requests?status=new",
            "/api/v1/notifications",
            "/api/v1/complaints?page_size=500",
        ):
            response = client.get(path)
            assert response.status_code in (200, 403), (username, path)
            if response.status_code == 200:
                ids = _ids(response.json())
                # service staff also see what is assigned to them (the desk's own complaint for C001)
                extra = {"C001"} if username == "svc" else set()
                assert ids <= set(allowed) | extra, (username, path, ids)
        assert NATIONAL_ID not in client.get("/api/v1/service-requests").text


def test_analysts_see_no_identified_customer(as_user: Callable[[str], TestClient]) -> None:
    rid = _complaint(as_user("svc"))["request_id"]
    analyst = as_user("analyst")
    for path in (
        "/api/v1/service-requests",
        f"/api/v1/service-requests/{rid}",
        "/api/v1/service-requests/NOPE",
        "/api/v1/customers/C001/service-requests",
        "/api/v1/customers/C001/entitlements",
        "/api/v1/customers/C001/appointments",
        "/api/v1/complaints",
        f"/service/requests/{rid}",
    ):
        assert analyst.get(path).status_code == 403, path
    refused = _post(
        analyst, f"/api/v1/service-requests/{rid}/transitions", {"action": "resolve", "version": 1}
    )
    assert refused.status_code == 403
    board = analyst.get("/api/v1/service/dashboard")
    assert board.status_code == 200 and board.json()["sla"]["total"]["requests"] == 3
    for secret in ("陈一", "C001", "138****5678", rid):
        assert secret not in board.text
