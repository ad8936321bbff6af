"""The service pages: the desk logs a complaint for a looked-up customer, the RM finds it on Today and in
"My requests", the request is worked through its states (htmx panel, stale versions refused), the
complaint register (masked, exported, audited), notifications with the top bar's count, the service
standard and the dashboards."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from html import unescape

from fastapi import FastAPI
from sqlalchemy import select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.db import session_scope
from wealthcrm.service import service as svc

from ..customers.workbench import MOBILE, NATIONAL_ID
from .conftest import TestClient, csrf_token
from .html import by_id, parse
from .service_fixtures import HTMX, NOW, app, as_user

__all__ = ["app", "as_user"]  # the fixtures


def _log_complaint(client: TestClient, customer: str = "C001") -> str:
    response = client.post(
        "/service/requests",
        data={
            "customer_id": customer,
            "request_type": "complaint",
            "channel": "branch",
            "priority": "high",
            "summary": "理财赎回到账延迟，客户很不满意",
            "csrf_token": csrf_token(client, "/service"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/service/requests/") and location.endswith("?created=1")
    return location.split("/")[-1].split("?")[0]


def _act(client: TestClient, rid: str, action: str, version: int, **fields: str) -> str:
    token = csrf_token(client, f"/service/requests/{rid}")
    response = client.post(
        f"/service/requests/{rid}/transition",
        data={"action": action, "version": str(version), "csrf_token": token, **fields},
        headers=HTMX,
    )
    assert response.status_code == 200, response.text
    return response.text


def test_the_desk_logs_a_complaint_and_the_rm_sees_it(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    page = desk.get("/service")
    assert page.status_code == 200
    options = [o.attrs.get("value") for o in by_id(page.text, "new-request").iter("option")]
    assert "C001" in options and "C004" not in options  # only looked-up customers
    rid = _log_complaint(desk)
    detail = desk.get(f"/service/requests/{rid}")
    doc = parse(detail.text)
    state = doc.find(data_testid="state")
    assert state is not None and state.text() == "新建"
    # sunflower complaint opened Monday 10:00: resolve within 16 business hours → Wednesday 10:00
    due = doc.find(data_testid="due")
    assert due is not None and due.text() == "2026-12-02 10:00"
    assert NATIONAL_ID not in detail.text and MOBILE not in detail.text
    queue = by_id(desk.get("/service").text, "queue-table").table()
    assert queue[1][:4] == [f"{rid} 高", "陈一 C001 · 138****5678", "投诉", "新建"]

    rm = as_user("rm01")
    today = rm.get("/today").text
    rows = [
        (n.attrs.get("data-customer"), n.attrs.get("data-kind"))
        for n in parse(today).iter("tbody")
        if "data-task" in n.attrs
    ]
    assert ("C001", "service_followup") in rows
    assert f"投诉 {rid} 自 2026-11-30 起未结" in today
    mine = by_id(rm.get("/service/mine").text, "queue-table").table()
    assert [r[0] for r in mine[1:]] == [f"{rid} 高", "R2"]  # soonest due first
    other = as_user("rm02")
    assert "queue-table" not in other.get("/service/mine").text
    assert other.get(f"/service/requests/{rid}").status_code == 404


def test_a_request_logged_without_a_priority_gets_the_standards(
    as_user: Callable[[str], TestClient],
) -> None:
    desk = as_user("svc")
    form = by_id(desk.get("/service").text, "new-request")
    chosen = [
        (o.attrs.get("value"), o.text())
        for o in form.iter("option")
        if "selected" in o.attrs and o.parent is not None and o.parent.attrs.get("name") == "priority"
    ]
    assert chosen == [("", "按服务标准")]
    response = desk.post(
        "/service/requests",
        data={
            "customer_id": "C001",
            "request_type": "inquiry",
            "channel": "branch",
            "priority": "",
            "summary": "咨询理财到期",
            "csrf_token": csrf_token(desk, "/service"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    inquiry = response.headers["location"].split("/")[-1].split("?")[0]
    complaint = (
        desk.post(
            "/service/requests",
            data={
                "customer_id": "C001",
                "request_type": "complaint",
                "channel": "branch",
                "csrf_token": csrf_token(desk, "/service"),
            },
            follow_redirects=False,
        )
        .headers["location"]
        .split("/")[-1]
        .split("?")[0]
    )
    # C001 is sunflower: normal, and a complaint one step up
    queue = by_id(desk.get("/service").text, "queue-table").table()
    # high first; then by due time: the inquiry by Tuesday 10:00, R2 by Wednesday 18:00
    assert [r[0] for r in queue[1:]] == [f"{complaint} 高", inquiry, "R2"]


def test_a_request_is_worked_through_its_states(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    rid = _log_complaint(desk)
    panel = _act(desk, rid, "acknowledge", 1)
    assert 'data-status="acknowledged"' in panel and "已完成：受理" in panel
    _act(desk, rid, "start", 2)
    panel = _act(desk, rid, "resolve", 3, root_cause="transfer_delay", note="已加急处理")
    assert 'data-status="resolved"' in panel
    # a stale version (someone else resolved it first) comes back with the message, nothing changes
    stale = _act(desk, rid, "close", 3, rating="5")
    assert 'data-testid="error"' in stale and "被他人修改" not in stale  # the domain's message, as it is
    assert 'data-status="resolved"' in stale and "version 4, not 3" in stale
    panel = _act(desk, rid, "close", 4, rating="5")
    doc = parse(panel)
    assert doc.find(data_testid="rating") is not None and doc.find(data_testid="rating").text() == "5"  # type: ignore[union-attr]
    events = by_id(panel, "events-table").table()
    assert [r[1] for r in events[1:]] == [
        "登记受理",
        "受理 → 已受理",
        "开始处理 → 处理中",
        "解决 → 已解决",
        "结案并评分 → 已结案",
    ]
    # without htmx: a stale version is the 409 page
    token = csrf_token(desk, f"/service/requests/{rid}")
    response = desk.post(
        f"/service/requests/{rid}/transition",
        data={"action": "reopen", "version": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 409


def test_updates_and_bad_input(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    rid = _log_complaint(desk)
    token = csrf_token(desk, f"/service/requests/{rid}")
    response = desk.post(
        f"/service/requests/{rid}/update",
        data={
            "version": "1",
            "priority": "urgent",
            "root_cause": "fees",
            "assignee_id": "S003",
            "summary": "改",
            "csrf_token": token,
        },
        headers=HTMX,
    )
    assert response.status_code == 200 and "修改已保存。" in response.text
    assert 'data-version="2"' in response.text
    bad = desk.post(
        f"/service/requests/{rid}/transition",
        data={"action": "fly", "version": "2", "csrf_token": token},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    missing = desk.post(
        "/service/requests",
        data={"customer_id": "", "request_type": "complaint", "channel": "branch", "csrf_token": token},
    )
    assert missing.status_code == 422 and "请选择客户。" in missing.text
    outside = desk.post(
        "/service/requests",
        data={"customer_id": "C004", "request_type": "complaint", "channel": "branch", "csrf_token": token},
    )
    assert outside.status_code == 422 and "no customer 'C004'" in unescape(outside.text)


def test_the_complaint_register_is_masked_read_only_and_exported(
    as_user: Callable[[str], TestClient], app: FastAPI
) -> None:
    rid = _log_complaint(as_user("svc"))
    auditor = as_user("audit")
    page = auditor.get("/service/complaints")
    assert page.status_code == 200
    rows = by_id(page.text, "register-table").table()
    assert rows[1][:4] == [rid, "陈* C001 · 138****5678", "金葵花", "新建"]
    assert "陈一" not in page.text
    assert "data-action" not in page.text  # nothing to act on
    export = auditor.get("/api/v1/complaints.csv?from=2026-11&to=2026-11")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [
        (r["request_id"], r["customer_name_masked"], r["mobile_masked"], r["status"]) for r in records
    ] == [(rid, "陈*", "138****5678", "new")]
    assert NATIONAL_ID not in export.text and MOBILE not in export.text
    empty = auditor.get("/api/v1/complaints.csv?from=2026-09&to=2026-09")
    assert empty.content.decode("utf-8-sig").splitlines()[1:] == []
    with session_scope(app.state.engine) as session:
        exports = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "complaint_register.export")
            .order_by(AuditEntry.seq)
        ).all()
        assert [(e.actor, e.details["rows"]) for e in exports] == [("audit", 1), ("audit", 0)]
    assert as_user("rm01").get("/service/complaints").status_code == 403
    assert auditor.get("/service/complaints?from=2026-13").status_code == 422


def test_notifications_and_the_count_in_the_top_bar(
    as_user: Callable[[str], TestClient], app: FastAPI
) -> None:
    desk = as_user("svc")
    rid = _log_complaint(desk)
    assert 'data-count="0"' in desk.get("/notifications/badge").text
    with session_scope(app.state.engine) as session:
        # Tuesday 10:00: the acknowledgement (due Monday 12:00) is 6 business hours late
        fired = svc.escalate_due(session, now=NOW + timedelta(days=1), settings=app.state.settings)
        assert (fired.requests, fired.steps) == (1, 2)  # steps 1 and 2 (6 business hours late)
    badge = desk.get("/notifications/badge").text
    assert parse(badge).find(data_testid="unread-count").text() == "1"  # type: ignore[union-attr]
    page = desk.get("/notifications").text
    table = by_id(page, "notifications-table").table()
    assert table[1][1] == f"{rid}（投诉，客户 C001）超过受理时限 2026-11-30 12:00：第 1 级升级，通知经办人"
    note_id = parse(page).find(data_read="false").attrs["data-notification"]  # type: ignore[union-attr]
    token = csrf_token(desk, "/notifications")
    row = desk.post(f"/notifications/{note_id}/read", data={"csrf_token": token}, headers=HTMX)
    assert row.status_code == 200 and 'data-read="true"' in row.text
    assert 'data-count="0"' in desk.get("/notifications/badge").text
    # the RM's team lead got step 2 (and the lead's page says so, in English too)
    lead = as_user("lead")
    lead.get("/lang/en?next=/notifications")
    assert "escalation step 2, to the team lead" in lead.get("/notifications").text
    assert as_user("rm02").post(f"/notifications/{note_id}/read", data={"csrf_token": token}).status_code in (
        403,
        404,
    )


def test_the_service_standard_comes_from_the_settings(as_user: Callable[[str], TestClient]) -> None:
    page = as_user("svc").get("/service/standard").text
    levels = by_id(page, "levels-table").table()
    assert [r[0] for r in levels[1:]] == ["大众", "金卡", "金卡潜力客户", "金葵花", "钻石", "私人银行"]
    assert levels[0][2] == "默认优先级"
    # the default priority (sla.default_priority), a complaint's one step higher
    assert [r[2] for r in levels[1:]] == [
        "普通 · 投诉：高",
        "普通 · 投诉：高",
        "普通 · 投诉：高",
        "普通 · 投诉：高 · 优先排队",
        "高 · 投诉：紧急 · 优先排队",
        "高 · 投诉：紧急 · 优先排队",
    ]
    assert levels[4][3:] == ["每 30 天至少接触一次", "是"]
    assert levels[3][3] == "每 90 天至少接触一次"
    assert parse(page).find(data_segment="private") is not None
    private = parse(page).find(data_priority="high", data_complaint_priority="urgent")
    assert private is not None
    assert "服务台先处理紧急请求" in page
    sla = by_id(page, "sla-table").table()
    assert sla[3] == ["投诉", "4 / 40", "2 / 40", "2 / 40", "2 / 16", "1 / 16", "1 / 8"]
    benefits = by_id(page, "benefits-table").table()
    assert benefits[1] == ["机场贵宾厅", "—", "—", "—", "2", "6", "12"]


def test_the_dashboard_counts_what_happened(as_user: Callable[[str], TestClient], app: FastAPI) -> None:
    desk = as_user("svc")
    rid = _log_complaint(desk)
    _act(desk, rid, "resolve", 1, root_cause="transfer_delay")
    _act(desk, rid, "close", 2, rating="4")
    boss = as_user("boss")
    page = boss.get("/service/dashboard")
    assert page.status_code == 200
    # the default period (June to November) holds the imported R1 (October, resolved late, rated 2) and
    # R2 (an inquiry, open, not due yet) besides today's complaint (resolved in time, rated 4)
    assert by_id(page.text, "sla-type-table").table()[1:] == [
        ["咨询", "1", "0", "0", "1", "—", "—"],
        ["投诉", "2", "1", "1", "0", "50.0%", "3.00"],
    ]
    assert by_id(page.text, "sla-tier-table").table()[1:] == [
        ["金葵花", "1", "1", "0", "0", "100.0%", "4.00"],
        ["—", "2", "0", "1", "1", "0.0%", "2.00"],  # imported without the tier whose SLA applied
    ]
    assert by_id(page.text, "sla-team-table").table()[1:] == [
        ["财富一组", "3", "1", "1", "1", "50.0%", "3.00"]
    ]
    complaints = by_id(page.text, "complaints-table").table()
    assert complaints[-2:] == [
        ["2026-10", "1", "1", "0", "0", "2.00"],
        ["2026-11", "1", "1", "1", "0", "4.00"],
    ]
    assert by_id(page.text, "causes-table").table()[1:] == [
        ["收费", "1", "1", "0"],
        ["转账延迟", "1", "1", "1"],
    ]
    kpis = {n.attrs["data-kpi"]: n.text() for n in parse(page.text).iter("div") if "data-kpi" in n.attrs}
    assert (kpis["requests"], kpis["compliance"], kpis["backlog"], kpis["complaints"]) == (
        "新增请求 3",
        "时效达标率 50.0%",
        "当前未结 1",
        "新增投诉 2",
    )
    november = boss.get("/service/dashboard?from=2026-11&to=2026-11")
    assert by_id(november.text, "sla-type-table").table()[1:] == [
        ["咨询", "1", "0", "0", "1", "—", "—"],
        ["投诉", "1", "1", "0", "0", "100.0%", "4.00"],
    ]
    assert 'id="service-data"' in page.text
    assert as_user("rm01").get("/service/dashboard").status_code == 403
    lead = as_user("lead").get("/service/dashboard?from=2026-06&to=2026-11")
    assert lead.status_code == 200
    assert as_user("audit").get("/service/dashboard?from=2026-11&to=2026-01").status_code == 422
