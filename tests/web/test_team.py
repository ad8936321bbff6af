"""The Team page and its APIs: who sees which team, the coverage table, reassignment and departure."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.db import session_scope
from wealthcrm.staff.models import Staff
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import StaffStatus, TaskKind
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.bookdata import load_book
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


def _client(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    log_in(client, username)
    return client


def _books(engine: Engine) -> dict[str, str | None]:
    with session_scope(engine) as session:
        return dict(session.execute(select(Customer.customer_id, Customer.rm_id)).all())


def test_who_may_see_which_team(app: FastAPI) -> None:
    for username in ("rm01", "rm02", "svc", "audit", "analyst", "admin1"):
        client = _client(app, username)
        assert client.get("/team").status_code == 403, username
        assert client.get("/api/v1/team").status_code == 403, username
        headers = {"X-CSRF-Token": csrf_token(client, "/today")}
        body = {"customer_ids": ["C001"], "to_staff_id": "S005", "note": "n"}
        assert client.post("/api/v1/customers/reassign", json=body, headers=headers).status_code == 403
    lead = _client(app, "lead")
    api = lead.get("/api/v1/team").json()
    assert (api["team"], [t["team_id"] for t in api["teams"]]) == (
        {"team_id": "T01", "name": "财富一组"},
        ["T01"],
    )
    assert [r["staff_id"] for r in api["rms"]] == ["S001", "S002", "S005"]
    assert [t["staff_id"] for t in api["targets"]] == ["S001", "S002", "S005"]
    assert lead.get("/api/v1/team", params={"team_id": "T02"}).status_code == 404
    assert lead.get("/team", params={"team_id": "T02"}).status_code == 404
    boss = _client(app, "boss")
    t02 = boss.get("/api/v1/team", params={"team_id": "T02"}).json()
    assert [r["staff_id"] for r in t02["rms"]] == ["S004", "S006"]
    assert [t["staff_id"] for t in t02["targets"]] == ["S001", "S002", "S004", "S005", "S006"]  # branch-wide


def test_the_coverage_table_in_chinese(app: FastAPI) -> None:
    html = _client(app, "lead").get("/team").text
    table = by_id(html, "coverage-table").table()
    assert table[0] == [
        "客户经理", "客户数", "金葵花及以上", "管理资产 (AUM)", "风险资产", "未处理高级预警",
        "30 天内已联系", "联系逾期", "待办任务", "逾期任务", "操作",
    ]  # fmt: skip
    assert table[1:] == [
        [
            "王经理 S001",
            "2",
            "2",
            "690.00 万元",
            "109.80 万元",
            "1",
            "1",
            "2 位中 1 位",
            "2",
            "1",
            "重新分配",
        ],
        ["李主管 S002", "0", "0", "0 元", "0 元", "0", "0", "0 位中 0 位", "0", "0", "重新分配"],
        ["孙经理 S005", "1", "1", "80.00 万元", "4.00 万元", "0", "1", "1 位中 0 位", "0", "0", "重新分配"],
        ["合计", "3", "3", "770.00 万元", "113.80 万元", "1", "2", "3 位中 1 位", "2", "1", ""],
    ]
    assert parse(html).find(id="team-pick") is None  # one team: nothing to pick
    assert "周四" not in html and "赵经理" not in html  # team T02


def test_the_manager_picks_a_team_and_an_rm(app: FastAPI) -> None:
    boss = _client(app, "boss")
    html = boss.get("/team", params={"team_id": "T02", "rm": "S004"}).text
    assert [o.attrs["value"] for o in by_id(html, "team-pick").iter("option")] == ["T01", "T02"]
    assert [r[1].split()[-1] for r in by_id(html, "selection-table").table()[1:]] == ["C004"]
    targets = [o.attrs["value"] for o in by_id(html, "to-staff").iter("option")]
    assert targets == ["S001", "S002", "S005", "S006"]  # every active RM but S004 itself
    assert parse(html).find(id="departure-form") is not None
    # an RM of another team selected: no selection list
    lead = _client(app, "lead").get("/team", params={"rm": "S004"}).text
    assert parse(lead).find(id="selection-table") is None and "周四" not in lead


def test_reassign_through_the_api(app: FastAPI, branch: Engine) -> None:
    lead = _client(app, "lead")
    headers = {"X-CSRF-Token": csrf_token(lead, "/team")}
    bad = [
        ({"customer_ids": ["C004"], "to_staff_id": "S005", "note": "n"}, 404, "no customer 'C004'"),
        ({"customer_ids": ["C001"], "to_staff_id": "S006", "note": "n"}, 403, "not in your team"),
        ({"customer_ids": ["C001"], "to_staff_id": "S007", "note": "n"}, 422, "S007 is not active"),
        ({"customer_ids": ["C001"], "to_staff_id": "S999", "note": "n"}, 404, "no staff member"),
        ({"customer_ids": [], "to_staff_id": "S005", "note": "n"}, 422, "customer_ids"),
        ({"customer_ids": ["C001"], "to_staff_id": "S005", "note": " "}, 422, "handover note"),
    ]
    for body, status, message in bad:
        response = lead.post("/api/v1/customers/reassign", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert message in response.json()["error"]["message"]
    assert lead.post("/api/v1/customers/reassign", json=bad[0][0]).status_code == 403  # no CSRF token
    before = _books(branch)
    assert before["C001"] == "S001"
    ok = lead.post(
        "/api/v1/customers/reassign",
        json={"customer_ids": ["C001", "C003"], "to_staff_id": "S005", "note": "请尽快电话问候"},
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["moved"] == 2
    assert [(i["customer_id"], i["from_staff_id"], i["to_staff_id"]) for i in ok.json()["items"]] == [
        ("C001", "S001", "S005"),
        ("C003", "S001", "S005"),
    ]
    assert _books(branch) == before | {"C001": "S005", "C003": "S005"}
    with session_scope(branch) as session:
        tasks = session.execute(
            select(Task.customer_id, Task.assignee_id, Task.note, Task.due_on)
            .where(Task.kind == TaskKind.handover)
            .order_by(Task.customer_id)
        ).all()
        assert [tuple(t) for t in tasks] == [
            ("C001", "S005", "请尽快电话问候", date(2026, 12, 5)),
            ("C003", "S005", "请尽快电话问候", date(2026, 12, 5)),
        ]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "lead")).all()
        assert actions.count("customer.reassign") == 2 and actions.count("task.create") == 2
    # the rm who had them no longer sees them; the new one does
    rm01 = _client(app, "rm01")
    assert rm01.get("/api/v1/customers").json()["total"] == 0
    rm05 = _client(app, "rm05")
    assert [c["customer_id"] for c in rm05.get("/api/v1/customers").json()["items"]] == [
        "C003",
        "C001",
        "C005",
    ]


def test_reassign_and_departure_through_the_page(app: FastAPI, branch: Engine) -> None:
    boss = _client(app, "boss")
    token = csrf_token(boss, "/team?rm=S001")
    moved = boss.post(
        "/team/reassign",
        data={
            "csrf_token": token,
            "team_id": "T01",
            "rm": "S001",
            "customer_id": ["C003"],
            "to_staff_id": "S004",
            "note": "交接",
        },
        follow_redirects=False,
    )
    assert (moved.status_code, moved.headers["location"]) == (303, "/team?team_id=T01&rm=S001&moved=1")
    page = boss.get(moved.headers["location"]).text
    assert by_id(page, "selection-table").table()[1:][0][1] == "陈一 C001"
    assert parse(page).find(data_testid="moved") is not None
    none_chosen = boss.post(
        "/team/reassign",
        data={"csrf_token": token, "team_id": "T01", "to_staff_id": "S004", "note": "交接"},
    )
    assert none_chosen.status_code == 422
    left = boss.post(
        "/team/departure",
        data={
            "csrf_token": token,
            "team_id": "T01",
            "staff_id": "S001",
            "to_staff_id": ["S005", "S006"],
            "left_on": "2026-11-30",
            "note": "王经理离职",
        },
        follow_redirects=False,
    )
    assert (left.status_code, left.headers["location"]) == (303, "/team?team_id=T01&handed_over=1")
    assert _books(branch)["C001"] == "S005"
    with session_scope(branch) as session:
        s001 = session.get(Staff, "S001")
        assert s001 is not None and (s001.status, s001.left_on) == (StaffStatus.left, date(2026, 11, 30))
        rows = session.execute(
            select(Reassignment.customer_id, Reassignment.to_staff_id, Reassignment.departure).order_by(
                Reassignment.id
            )
        ).all()
        assert [tuple(r) for r in rows] == [("C003", "S004", False), ("C001", "S005", True)]
    html = boss.get("/team").text
    assert [r[0].split()[-1] for r in by_id(html, "coverage-table").table()[1:-1]] == ["S002", "S005"]
    again = boss.post(
        "/team/departure",
        data={"csrf_token": token, "team_id": "T01", "staff_id": "S001", "to_staff_id": "S005", "note": "x"},
    )
    assert again.status_code == 409


def test_departure_through_the_api(app: FastAPI, branch: Engine) -> None:
    lead = _client(app, "lead")
    headers = {"X-CSRF-Token": csrf_token(lead, "/team")}
    assert (
        lead.post(
            "/api/v1/staff/S004/departure", json={"to_staff_ids": ["S001"], "note": "n"}, headers=headers
        ).status_code
        == 404
    )  # another team's RM
    response = lead.post(
        "/api/v1/staff/S005/departure", json={"to_staff_ids": ["S001"], "note": "孙经理调岗"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("staff_id", "left_on", "moved", "per_target")} == {
        "staff_id": "S005",
        "left_on": "2026-11-28",
        "moved": 1,
        "per_target": {"S001": 1},
    }
    assert _books(branch)["C005"] == "S001"
