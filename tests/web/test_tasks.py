"""Tasks and contacts on the web: Today's row actions (htmx fragments and plain posts), Customer 360's
tasks panel, and the JSON API — for every role, with CSRF on every POST and 409 on a stale version."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.config import Settings, SlaSettings
from wealthcrm.db import session_scope
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.service import generate
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date, utc_now
from wealthcrm.web.routes.tasks import local_now

from ..customers.workbench import load_workbench
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 18, 0)
HTMX = {"HX-Request": "true"}
#: username → how many open tasks they see (see tests/tasks/test_service.py for which)
TOTALS = {"rm01": 5, "rm02": 3, "lead": 5, "boss": 8, "audit": 8, "analyst": 0, "admin1": 8, "svc": 0}


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        generate(session, on=TODAY, settings=settings)
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    application.dependency_overrides[local_now] = lambda: NOW
    return application


def task_id(app: FastAPI, key: str) -> int:
    with session_scope(app.state.engine) as session:
        found = session.scalar(select(Task.id).where(Task.source_key == key))
    assert found is not None, key
    return found


def signed_in(client: TestClient, username: str) -> str:
    """Log in and return the session's CSRF token."""
    log_in(client, username)
    return csrf_token(client, "/today")


def error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert body["error"]["status"] == response.status_code
    return response.status_code, body["error"]["message"]


# --- the API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", sorted(TOTALS))
def test_the_task_list_api_holds_the_scope(client: TestClient, username: str) -> None:
    log_in(client, username)
    body = client.get("/api/v1/tasks").json()
    assert (body["page"], body["page_size"], body["total"], len(body["items"])) == (
        1,
        50,
        TOTALS[username],
        TOTALS[username],
    )


def test_the_task_list_api_items_filters_and_pages(client: TestClient) -> None:
    log_in(client, "rm01")
    items = client.get("/api/v1/tasks").json()["items"]
    assert [(i["kind"], i["customer_id"], i["priority_amount"]) for i in items] == [
        ("retention", "C003", 720_000.0),
        ("cadence", "C003", 720_000.0),
        ("retention", "C001", 378_000.0),
        ("survey_recovery", "C001", 378_000.0),
        ("cadence", "C001", 378_000.0),
    ]
    first = items[0]
    assert {
        k: first[k] for k in ("status", "customer_name", "assignee_id", "due_on", "version", "overdue")
    } == {
        "status": "open",
        "customer_name": "张三",
        "assignee_id": "S001",
        "due_on": "2026-11-28",
        "version": 1,
        "overdue": False,
    }
    assert first["reason"] == {
        "zh_CN": "风险资产 72.00 万元（流失概率 12.0%）",
        "en": "AUM at risk ¥720,000 (probability of loss 12.0%)",
    }
    assert (
        items[4]["reason"]["en"] == "No contact for 56 days: Sunflower customers are contacted every 30 days"
    )

    def kinds(**params: Any) -> list[str]:
        response = client.get("/api/v1/tasks", params=params)
        assert response.status_code == 200, response.text
        return [i["kind"] for i in response.json()["items"]]

    assert kinds(kind=["cadence", "survey_recovery"]) == ["cadence", "survey_recovery", "cadence"]
    assert kinds(customer_id="C003") == ["retention", "cadence"]
    assert kinds(page=2, page_size=2) == ["retention", "survey_recovery"]
    assert kinds(status="done") == []
    assert kinds(assignee="S004") == []  # another RM's list: nothing of it is in rm01's scope
    for bad in ({"kind": "lunch"}, {"status": "later"}, {"page": 0}, {"page_size": 501}):
        response = client.get("/api/v1/tasks", params=bad)
        assert response.status_code == 422 and response.json()["error"]["status"] == 422


def test_completing_through_the_api(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    tid = task_id(app, "retention:C003@2026-10")
    url = f"/api/v1/tasks/{tid}/complete"
    body = {"outcome": "retained", "note": "客户追加存款", "version": 1}
    assert error(client.post(url, json=body)) == (
        403,
        "The form has expired or did not come from this site. Reload the page and try again.",
    )
    done = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.text
    assert {k: done.json()[k] for k in ("status", "outcome", "outcome_note", "version")} == {
        "status": "done",
        "outcome": "retained",
        "outcome_note": "客户追加存款",
        "version": 2,
    }
    stale = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert error(stale) == (
        409,
        f"task {tid} was changed by someone else (version 2, not 1): reload and try again",
    )
    again = client.post(url, json=body | {"version": 2}, headers={"X-CSRF-Token": token})
    assert error(again) == (409, f"task {tid} is already done")
    reopened = client.post(
        f"/api/v1/tasks/{tid}/reopen", json={"version": 2}, headers={"X-CSRF-Token": token}
    )
    assert (reopened.status_code, reopened.json()["status"], reopened.json()["version"]) == (200, "open", 3)
    for bad in (
        {"outcome": "great", "version": 3},
        {"outcome": "retained"},
        {"outcome": "retained", "version": 3, "extra": 1},
        {"outcome": "retained", "version": 0},
        {"outcome": "retained", "version": 3, "note": "x" * 2001},
    ):
        response = client.post(url, json=bad, headers={"X-CSRF-Token": token})
        assert response.status_code == 422, (bad, response.text)
    assert (
        client.post("/api/v1/tasks/999999/complete", json=body, headers={"X-CSRF-Token": token}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("rm01", 200),
        ("lead", 200),
        ("rm02", 404),
        ("svc", 404),
        ("boss", 403),
        ("audit", 403),
        ("analyst", 404),  # pseudonymised views only: no identified customer's task
    ],
)
def test_who_may_complete_rm01s_task(client: TestClient, app: FastAPI, username: str, status: int) -> None:
    token = signed_in(client, username)
    tid = task_id(app, "cadence:C001@2026-11-02")
    response = client.post(
        f"/api/v1/tasks/{tid}/complete",
        json={"outcome": "contacted", "version": 1},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json()["error"]["message"] == f"no task {tid}"  # as if there were none


def test_snoozing_through_the_api(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm02")
    tid = task_id(app, "cadence:C004@never")
    url = f"/api/v1/tasks/{tid}/snooze"
    headers = {"X-CSRF-Token": token}
    past = client.post(url, json={"until": "2026-11-28", "version": 1}, headers=headers)
    assert error(past) == (422, "snooze until 2026-11-28: the date must be after today (2026-11-28)")
    assert client.post(url, json={"until": "tomorrow", "version": 1}, headers=headers).status_code == 422
    ok = client.post(url, json={"until": "2026-12-01", "version": 1}, headers=headers)
    assert (ok.status_code, ok.json()["status"], ok.json()["snoozed_until"]) == (200, "snoozed", "2026-12-01")
    assert error(client.post(url, json={"until": "2026-12-02", "version": 1}, headers=headers))[0] == 409
    listed = client.get("/api/v1/tasks").json()["items"]
    assert tid not in [i["id"] for i in listed]
    assert [i["id"] for i in client.get("/api/v1/tasks", params={"status": "snoozed"}).json()["items"]] == [
        tid
    ]


def test_logging_a_contact_through_the_api(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    headers = {"X-CSRF-Token": token}
    tid = task_id(app, "retention:C001@2026-10")
    url = "/api/v1/customers/C001/interactions"
    body = {
        "channel": "visit",
        "purpose": "retention",
        "outcome": "retained",
        "notes": "上门拜访，客户同意续作",
        "occurred_at": "2026-11-27T15:00:00",
        "follow_up_on": "2026-12-10",
        "task_id": tid,
        "task_version": 1,
    }
    assert client.post(url, json=body).status_code == 403  # no CSRF token
    created = client.post(url, json=body, headers=headers)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["interaction_id"].startswith("APP-")
    assert out["task"] == {"id": tid, "status": "done", "outcome": "retained", "version": 2}
    assert out["task_closed"] is True and len(out["cadence_closed"]) == 1
    assert out["follow_up_task_id"] is not None
    page = client.get(url).json()
    assert (page["total"], page["items"][0]["interaction_id"], page["items"][0]["logged_in_app"]) == (
        2,
        out["interaction_id"],
        True,
    )
    assert page["items"][0]["follow_up_on"] == "2026-12-10" and page["items"][1]["logged_in_app"] is False
    follow = client.get(f"/api/v1/tasks/{out['follow_up_task_id']}").json()
    assert (follow["kind"], follow["due_on"], follow["reason"]["en"]) == (
        "follow_up",
        "2026-12-10",
        "Follow-up of the contact on 2026-11-27: 上门拜访，客户同意续作",
    )
    stale = client.post(url, json=body, headers=headers)
    assert stale.status_code == 409
    bad_cases = [
        ({"channel": "pigeon"}, 422),
        ({"occurred_at": "2026-11-30T09:00:00"}, 422),  # in the future
        ({"follow_up_on": "2026-11-01"}, 422),
        ({"task_id": None, "task_version": None, "notes": "x" * 2001}, 422),
        ({"task_id": task_id(app, "retention:C003@2026-10"), "task_version": 1}, 422),  # another customer
    ]
    for change, status in bad_cases:
        response = client.post(url, json=body | change, headers=headers)
        assert response.status_code == status, (change, response.text)
    assert client.post("/api/v1/customers/C004/interactions", json=body, headers=headers).status_code == 404
    assert client.get("/api/v1/customers/C004/interactions").status_code == 404


def test_a_contact_time_with_an_offset_is_stored_in_the_branchs_wall_clock(client: TestClient) -> None:
    token = signed_in(client, "rm01")
    url = "/api/v1/customers/C001/interactions"
    body = {
        "channel": "phone",
        "purpose": "care",
        "outcome": "reached",
        "occurred_at": "2026-11-28T02:00:00+00:00",
    }
    created = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    assert created.json()["occurred_at"] == "2026-11-28T10:00:00"  # Asia/Shanghai, whatever the server's zone
    latest = client.get(url).json()["items"][0]
    assert (latest["interaction_id"], latest["occurred_at"]) == (
        created.json()["interaction_id"],
        "2026-11-28T10:00:00",
    )
    new_york = body | {"occurred_at": "2026-11-27T21:30:00-05:00"}  # 02:30 UTC on the 28th
    assert client.post(url, json=new_york, headers={"X-CSRF-Token": token}).json()["occurred_at"] == (
        "2026-11-28T10:30:00"
    )


def test_today_is_the_branchs_date_not_the_servers(branch: Engine, settings: Settings) -> None:
    late = datetime(2026, 11, 28, 20, 0)  # 20:00 UTC: 04:00 on Sunday 29 November in Shanghai
    assert asyncio.run(current_date(settings, late)) == date(2026, 11, 29)
    london = settings.model_copy(update={"sla": SlaSettings(time_zone="Europe/London")})
    assert asyncio.run(current_date(london, late)) == date(2026, 11, 28)

    application = create_app(settings, branch)
    application.dependency_overrides[utc_now] = lambda: late  # the clock alone: today and now follow
    with TestClient(application) as client:
        token = signed_in(client, "rm01")
        url = "/api/v1/customers/C001/interactions"
        body = {
            "channel": "phone",
            "purpose": "care",
            "outcome": "reached",
            "occurred_at": "2026-11-29T03:30",
        }
        headers = {"X-CSRF-Token": token}
        # 03:30 on the 29th is in the past in Shanghai; a follow-up on the 28th is before today
        assert (
            client.post(url, json=body | {"follow_up_on": "2026-11-28"}, headers=headers).status_code == 422
        )
        created = client.post(url, json=body | {"follow_up_on": "2026-11-29"}, headers=headers)
        assert created.status_code == 201, created.text
        assert client.post(
            url, json=body | {"occurred_at": "2026-11-29T05:00"}, headers=headers
        ).status_code == (
            422  # an hour after the branch's now: in the future
        )


def test_the_api_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/customers/C001/interactions").status_code == 401
    assert client.post(
        "/api/v1/tasks/1/complete", json={"outcome": "retained", "version": 1}
    ).status_code in (401, 403)


# --- Today's row actions -----------------------------------------------------------------------------


def form(token: str, **values: Any) -> dict[str, Any]:
    return {"csrf_token": token} | values


def test_done_from_today_swaps_the_row(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    tid = task_id(app, "retention:C003@2026-10")
    url = f"/tasks/{tid}/complete"
    assert client.post(url, data={"outcome": "retained", "version": "1"}, headers=HTMX).status_code == 403
    done = client.post(url, data=form(token, outcome="retained", version="1"), headers=HTMX)
    assert done.status_code == 200
    body = parse(done.text).find(id=f"task-{tid}")
    assert body is not None and body.attrs["data-status"] == "done"
    assert body.text().startswith("✓ 任务完成：已挽留")
    # the stale row's form: the row comes back with the message, in place
    stale = client.post(url, data=form(token, outcome="retained", version="1"), headers=HTMX)
    assert stale.status_code == 200
    assert "changed by someone else" in by_id(stale.text, f"task-{tid}").text()
    # without htmx: the error page with its status
    assert client.post(url, data=form(token, outcome="retained", version="1")).status_code == 409
    undo = client.post(f"/tasks/{tid}/reopen", data=form(token, version="2"), headers=HTMX)
    row = by_id(undo.text, f"task-{tid}")
    assert row.attrs["data-version"] == "3" and "data-status" not in row.attrs
    # a plain form post works too and lands back on Today
    plain = client.post(url, data=form(token, outcome="lost", version="3"), follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (303, "/today")
    assert [t["id"] for t in client.get("/api/v1/tasks").json()["items"]].count(tid) == 0


def test_snooze_from_today(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    tid = task_id(app, "cadence:C003@never")
    bad = client.post(f"/tasks/{tid}/snooze", data=form(token, days="5", version="1"), headers=HTMX)
    assert "请选择1天、3天或7天。" in by_id(bad.text, f"task-{tid}").text()
    ok = client.post(f"/tasks/{tid}/snooze", data=form(token, days="3", version="1"), headers=HTMX)
    assert by_id(ok.text, f"task-{tid}").text().startswith("✓ 已推迟至 2026-12-01")


def test_log_contact_from_today(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    client.get("/lang/en")
    tid = task_id(app, "retention:C001@2026-10")
    page = client.get(f"/tasks/{tid}/contact-form")
    fields = parse(page.text).find(data_testid="contact-form")
    assert fields is not None
    selected = {
        s.attrs["name"]: [o.attrs["value"] for o in s.iter("option") if "selected" in o.attrs]
        for s in fields.iter("select")
    }
    assert selected == {"channel": [], "purpose": ["retention"], "outcome": ["reached"]}
    values = {
        "channel": "phone",
        "purpose": "retention",
        "outcome": "no_answer",
        "occurred_at": "2026-11-28T09:00",
        "follow_up_on": "",
        "notes": "",
        "task_version": "1",
    }
    missed = client.post(f"/tasks/{tid}/contact", data=form(token, **values), headers=HTMX)
    row = by_id(missed.text, f"task-{tid}")
    assert "Contact logged; the task stays open (the customer was not reached)." in row.text()
    assert row.attrs["data-version"] == "1"
    past = client.post(
        f"/tasks/{tid}/contact", data=form(token, **(values | {"follow_up_on": "2026-11-01"})), headers=HTMX
    )
    again = by_id(past.text, f"task-{tid}")
    assert "The follow-up date is in the past." in again.text()
    assert parse(past.text).find(data_testid="contact-form") is not None  # the form stays open with it
    reached = client.post(
        f"/tasks/{tid}/contact", data=form(token, **(values | {"outcome": "retained"})), headers=HTMX
    )
    assert by_id(reached.text, f"task-{tid}").text().startswith("✓ Contact logged. Task done: Retained")


# --- Customer 360's panel ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "rows", "form_shown"),
    [("rm01", 3, True), ("lead", 3, True), ("boss", 3, False), ("audit", 3, False), ("rm02", None, False)],
)
def test_the_tasks_panel(client: TestClient, username: str, rows: int | None, form_shown: bool) -> None:
    log_in(client, username)
    response = client.get("/customers/C001/panels/tasks")
    if rows is None:
        assert response.status_code == 404
        return
    table = by_id(response.text, "customer-tasks")
    assert [r[2] for r in table.table()[1:] if len(r) > 1] == [
        "挽留 今日到期",
        "问卷贬损者 今日到期",
        "例行联系 今日到期",
    ]
    assert (parse(response.text).find(data_testid="contact-form") is not None) == form_shown


def test_logging_from_the_panel_updates_the_timeline(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "rm01")
    tid = task_id(app, "survey_recovery:SV1")
    values = {
        "channel": "wechat",
        "purpose": "complaint_followup",
        "outcome": "reached",
        "occurred_at": "2026-11-28T08:30",
        "follow_up_on": "2026-12-01",
        "notes": "已致歉，客户接受",
        "task_id": str(tid),
    }
    response = client.post("/customers/C001/interactions", data=form(token, **values), headers=HTMX)
    assert response.status_code == 200
    assert (
        by_id(response.text, "tasks-panel").find(data_testid="panel-message").text()
        == "已记录联系，任务完成：已联系"
    )
    contacts = by_id(response.text, "contacts")
    assert contacts.attrs["hx-swap-oob"] == "true"
    assert contacts.find(id="interactions-table").table()[1] == [
        "2026-11-28 08:30",
        "王经理",
        "微信",
        "投诉回访",
        "已联系上",
        "系统内记录 已致歉，客户接受 2026-12-01 跟进",
    ]
    # the panel now lists the follow-up; the survey and cadence tasks are done
    panel = by_id(response.text, "customer-tasks").table()
    assert [r[2] for r in panel[1:] if len(r) > 1] == ["挽留 今日到期", "跟进 2026-12-01"]
    page = client.get("/customers/C001").text
    assert by_id(page, "interactions-table").table()[1][0] == "2026-11-28 08:30"
    bad = client.post(
        "/customers/C001/interactions", data=form(token, **(values | {"channel": "fax"})), headers=HTMX
    )
    problems = [n.text() for n in by_id(bad.text, "tasks-panel").iter("p") if n.attrs.get("role") == "alert"]
    assert problems == ["渠道: 'fax'"]
    assert (
        client.post("/customers/C004/interactions", data=form(token, **values), headers=HTMX).status_code
        == 404
    )
    plain = client.post("/customers/C001/interactions", data=form(token, **values), follow_redirects=False)
    assert plain.status_code == 409  # the survey task was worked above: no htmx, so the error page
