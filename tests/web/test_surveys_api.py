"""``/api/v1/surveys``: waves listed, created, read, their links issued and the wave closed, paginated and
in the app's one error format."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import load_workbench
from .conftest import TestClient, csrf_token, log_in

TODAY = date(2026, 11, 28)
BODY = {
    "name": "Sunflower check",
    "tiers": ["sunflower"],
    "opens_on": TODAY.isoformat(),
    "closes_on": (TODAY + timedelta(days=7)).isoformat(),
}


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


def headers(client: TestClient, username: str) -> dict[str, str]:
    assert log_in(client, username).status_code == 303
    return {"X-CSRF-Token": csrf_token(client, "/surveys" if username != "rm01" else "/today")}


def test_create_read_list_issue_close(client: TestClient) -> None:
    h = headers(client, "boss")
    created = client.post("/api/v1/surveys/waves", json=BODY, headers=h)
    assert created.status_code == 201, created.text
    wave = created.json()
    assert {
        k: wave[k] for k in ("name", "questionnaire_id", "state", "invited", "answered", "response_rate")
    } == {
        "name": "Sunflower check",
        "questionnaire_id": "branch_default",
        "state": "open",
        "invited": 2,
        "answered": 0,
        "response_rate": 0.0,
    }
    assert wave["segment"] == {
        "tiers": ["sunflower"],
        "stages": [],
        "rm_id": None,
        "sample_size": None,
        "seed": 0,
    }
    assert wave["segment_month"] == "2026-10-01"
    assert wave["by_rm"] == [
        {"rm_id": "S001", "rm_name": "王经理", "invited": 1, "answered": 0, "response_rate": 0.0},
        {"rm_id": "S004", "rm_name": "赵经理", "invited": 1, "answered": 0, "response_rate": 0.0},
    ]
    second = client.post("/api/v1/surveys/waves", json=BODY | {"name": "Second", "sample_size": 1}, headers=h)
    assert second.status_code == 201 and second.json()["invited"] == 1
    listed = client.get("/api/v1/surveys/waves?page=2&page_size=1").json()
    assert (listed["page"], listed["page_size"], listed["total"]) == (2, 1, 2)
    assert [w["id"] for w in listed["items"]] == [wave["id"]]
    assert client.get(f"/api/v1/surveys/waves/{wave['id']}").json()["id"] == wave["id"]
    issued = client.post(f"/api/v1/surveys/waves/{wave['id']}/tokens", json={}, headers=h)
    assert issued.status_code == 200
    body = issued.json()
    assert (body["count"], [i["customer_id"] for i in body["items"]]) == (2, ["C001", "C004"])
    assert body["items"][0]["link"].endswith("/s/" + body["items"][0]["token"])
    assert client.get(body["items"][0]["link"].replace("http://testserver", "")).status_code == 200
    again = client.post(f"/api/v1/surveys/waves/{wave['id']}/tokens", json={}, headers=h)
    assert again.status_code == 409 and "already has a token" in again.json()["error"]["message"]
    closed = client.post(f"/api/v1/surveys/waves/{wave['id']}/close", headers=h)
    assert (closed.status_code, closed.json()["status"], closed.json()["state"]) == (200, "closed", "closed")


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"closes_on": "2026-11-01"}, 422, "before it opens"),
        ({"tiers": ["platinum"]}, 422, "tiers.0"),
        ({"questionnaire_id": "nope"}, 422, "no questionnaire 'nope'"),
        ({"sample_size": 0}, 422, "sample_size"),
        ({"name": ""}, 422, "name"),
        ({"rm_id": "S999"}, 422, "no RM 'S999'"),
    ],
)
def test_errors_come_in_one_format(
    client: TestClient, change: dict[str, object], status: int, words: str
) -> None:
    h = headers(client, "boss")
    response = client.post("/api/v1/surveys/waves", json=BODY | change, headers=h)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status and words in error["message"]


def test_roles_scope_and_csrf(client: TestClient) -> None:
    h = headers(client, "boss")
    wave_id = client.post("/api/v1/surveys/waves", json=BODY, headers=h).json()["id"]
    assert client.post("/api/v1/surveys/waves", json=BODY).status_code == 403  # no CSRF token
    assert client.get("/api/v1/surveys/waves/999").json() == {
        "error": {"status": 404, "message": "no survey wave 999"}
    }
    client.post("/logout", data={"csrf_token": h["X-CSRF-Token"]})
    rm = headers(client, "rm01")
    assert client.get("/api/v1/surveys/waves").status_code == 403
    assert client.post("/api/v1/surveys/waves", json=BODY, headers=rm).status_code == 403
    client.post("/logout", data={"csrf_token": rm["X-CSRF-Token"]})
    lead = headers(client, "lead")
    mine = client.get(f"/api/v1/surveys/waves/{wave_id}").json()
    assert (mine["invited"], [r["rm_id"] for r in mine["by_rm"]]) == (1, ["S001"])
    assert client.post(f"/api/v1/surveys/waves/{wave_id}/close", headers=lead).status_code == 403
    client.post("/logout", data={"csrf_token": lead["X-CSRF-Token"]})
    analyst = headers(client, "analyst")
    assert client.get(f"/api/v1/surveys/waves/{wave_id}").json()["invited"] == 2
    refused = client.post(f"/api/v1/surveys/waves/{wave_id}/tokens", headers=analyst)
    assert refused.status_code == 403  # the links name customers: analysts see pseudonyms only
    client.post("/logout", data={"csrf_token": analyst["X-CSRF-Token"]})
    assert client.get("/api/v1/surveys/waves").status_code == 401
