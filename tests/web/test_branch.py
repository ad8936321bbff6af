"""The Branch page and its API: exact numbers of each view on hand-made history, roles, the cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.ingest.models import ImportRun
from wealthcrm.web import branch as view
from wealthcrm.web import create_app

from ..customers.bookdata import add_history, load_book
from .conftest import TestClient, log_in
from .html import by_id, parse

ZERO_ROW = {"mass": 0, "gold": 0, "sunflower": 0, "diamond": 0, "private": 0, "gone": 0}


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    add_history(engine)
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    return create_app(settings, branch)


def _client(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    log_in(client, username)
    return client


def _trend(month: str, customers: int, **values: float) -> dict[str, Any]:
    zero = {
        "customer_loss": 0,
        "customer_loss_aum": 0.0,
        "asset_loss_events": 0,
        "asset_loss_amount": 0.0,
        "upgrades": 0,
        "downgrades": 0,
    }
    return {"month": month, "customers": customers} | zero | values


def test_the_api_numbers(app: FastAPI) -> None:
    body = _client(app, "boss").get("/api/v1/branch").json()
    assert (body["month"], body["from"]) == ("2026-10-01", "2026-05-01")  # the first month of data
    counts = body["migration"]["counts"]
    assert counts["sunflower"] == ZERO_ROW | {"sunflower": 3, "gold": 1}  # C006 lost; C001, C004, C005 kept
    assert counts["new"] == ZERO_ROW | {"gold": 1, "diamond": 1}  # C002 (from Sep), C003 (Oct)
    assert all(counts[t] == ZERO_ROW for t in ("mass", "gold", "diamond", "private"))
    assert body["trends"] == [
        _trend("2026-05", 4),
        _trend("2026-06", 4),
        _trend("2026-07", 4),
        _trend("2026-08", 4, asset_loss_events=1, asset_loss_amount=500_000.0),  # C006 against May
        _trend("2026-09", 5, customer_loss=1, customer_loss_aum=100_000.0, downgrades=1),  # C006 to gold
        _trend("2026-10", 6, asset_loss_events=1, asset_loss_amount=700_000.0),  # C001 against Jul
    ]
    tier = {c["label"]: c for c in body["retention"]["tier"]}
    assert list(tier) == ["sunflower", "diamond"]
    sunflower = tier["sunflower"]
    assert (sunflower["customers"], sunflower["losses"], sunflower["median_months"]) == (4, 1, None)
    assert sunflower["survival"] == [1.0, 1.0, 1.0, 1.0, 0.75, 0.75]
    assert sunflower["at_risk"] == [4, 4, 4, 4, 4, 3]
    assert {c["label"]: (c["name"], c["customers"], c["losses"]) for c in body["retention"]["rm"]} == {
        "S001": ("王经理", 2, 0),
        "S004": ("赵经理", 1, 0),
        "S005": ("孙经理", 1, 0),
        "S006": ("钱经理", 1, 1),
    }
    assert [(c["label"], c["customers"]) for c in body["retention"]["cohort"]] == [
        ("2015", 1), ("2018", 1), ("2019", 1), ("2020", 1), ("2026", 1),
    ]  # fmt: skip
    assert body["alerts"] == [
        {"alert_type": "large_outflow", "open": 1, "recent": 1},
        {"alert_type": "near_threshold", "open": 0, "recent": 1},
        {"alert_type": "watch", "open": 1, "recent": 1},
        {"alert_type": "payroll_stopped", "open": 1, "recent": 1},
    ]
    grid = body["value_potential"]
    assert grid["total"] == {"customers": 6, "aum": 9_800_000.0}
    assert sum(grid["cells"]["sunflower"][p]["customers"] for p in ("low", "medium", "high")) == 3
    assert body["segments"] is None and "too few customers" in body["segments_note"]


def test_the_period_and_bad_months(app: FastAPI) -> None:
    boss = _client(app, "boss")
    body = boss.get("/api/v1/branch", params={"month": "2026-09", "from": "2026-08"}).json()
    assert [t["month"] for t in body["trends"]] == ["2026-08", "2026-09"]
    assert body["migration"]["counts"]["sunflower"] == ZERO_ROW | {"sunflower": 3, "gold": 1}
    assert body["migration"]["counts"]["new"] == ZERO_ROW | {"gold": 1}
    for params, status in (
        ({"month": "2026-13"}, 422),
        ({"month": "2026-09", "from": "2026-10"}, 422),
        ({"month": "2025-01"}, 404),
    ):
        response = boss.get("/api/v1/branch", params=params)
        assert response.status_code == status, params
        assert response.json()["error"]["status"] == status


def test_roles(app: FastAPI) -> None:
    for username in ("boss", "lead", "analyst", "audit", "admin1"):
        client = _client(app, username)
        assert client.get("/branch").status_code == 200, username
        assert client.get("/api/v1/branch").status_code == 200, username
    for username in ("rm01", "svc"):
        client = _client(app, username)
        assert client.get("/branch").status_code == 403, username
        assert client.get("/api/v1/branch").status_code == 403, username
    assert TestClient(app).get("/api/v1/branch").status_code == 401


def test_the_page_in_english(app: FastAPI) -> None:
    client = _client(app, "lead")
    client.get("/lang/en")
    html = client.get("/branch").text
    assert by_id(html, "trend-table").table()[-2:] == [
        ["2026-09", "5", "1", "¥100,000", "0", "¥0", "0", "1"],
        ["2026-10", "6", "0", "¥0", "1", "¥700,000", "0", "0"],
    ]
    assert by_id(html, "migration-table").table()[3] == ["Sunflower", "0", "1", "3", "0", "0", "0"]
    assert by_id(html, "alerts-table").table()[1:] == [
        ["Large outflow", "1", "1"],
        ["Near the tier threshold", "0", "1"],
        ["On watch", "1", "1"],
        ["Payroll credit stopped", "1", "1"],
    ]
    assert by_id(html, "retention-tier").table()[1:] == [
        ["Sunflower", "4", "1", "not reached"],
        ["Diamond", "1", "0", "not reached"],
    ]
    assert parse(html).find(data_testid="no-segments") is not None
    # the charts read the API's document from the page (no inline script)
    embedded = json.loads(by_id(html, "branch-data").text())
    assert embedded == client.get("/api/v1/branch").json()
    assert "<script>" not in html


def test_months_are_computed_once_until_the_data_change(app: FastAPI, branch: Engine) -> None:
    client = _client(app, "boss")
    client.get("/api/v1/branch")
    client.get("/branch", params={"from": "2026-08"})
    cache = view.cache_of(app.state)
    assert cache.computed == 1
    client.get("/api/v1/branch", params={"month": "2026-09"})
    assert cache.computed == 2
    with session_scope(branch) as session:  # a new import: the next request computes afresh
        now = datetime.now(UTC).replace(tzinfo=None)
        session.add(ImportRun(started_at=now, finished_at=now, actor="test", source="x", files={}, rows=0))
    client.get("/api/v1/branch")
    assert cache.computed == 3
