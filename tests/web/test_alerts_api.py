"""GET /api/v1/alerts: the caller's customers' alerts, filtered and paginated, in Today's order."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.web import create_app

from ..customers.workbench import load_workbench
from .conftest import TestClient, log_in


@pytest.fixture
def app(engine: Engine, settings: Settings, tmp_path: Path) -> FastAPI:
    load_workbench(engine, settings, tmp_path / "branch")
    return create_app(settings, engine)


Row = tuple[str, str, str]  # customer, alert type, severity


def _alerts(client: TestClient, username: str, query: str = "") -> list[Row]:
    assert log_in(client, username).status_code == 303
    body = client.get(f"/api/v1/alerts{query}").json()
    assert body["total"] == len(body["items"]) or "page_size=1" in query
    return [(a["customer_id"], a["alert_type"], a["severity"]) for a in body["items"]]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("rm01", [("C001", "large_outflow", "high")]),
        ("lead", [("C002", "watch", "high"), ("C001", "large_outflow", "high")]),
        ("rm02", [("C004", "payroll_stopped", "medium")]),
        ("svc", []),
    ],
)
def test_open_alerts_stay_in_scope(
    client: TestClient, username: str, expected: list[tuple[str, str, str]]
) -> None:
    assert _alerts(client, username) == expected


def test_the_manager_filters_and_pages(client: TestClient) -> None:
    assert _alerts(client, "boss") == [
        ("C002", "watch", "high"),
        ("C001", "large_outflow", "high"),
        ("C004", "payroll_stopped", "medium"),
    ]
    assert _alerts(client, "boss", "?severity=medium") == [("C004", "payroll_stopped", "medium")]
    assert _alerts(client, "boss", "?status=closed") == [("C001", "near_threshold", "low")]
    assert _alerts(client, "boss", "?customer_id=C001&status=closed") == [("C001", "near_threshold", "low")]
    second = client.get("/api/v1/alerts?page=2&page_size=1").json()
    assert (second["total"], [a["customer_id"] for a in second["items"]]) == (3, ["C001"])
    assert client.get("/api/v1/alerts?alert_type=nonsense").status_code == 422


def test_another_rms_customer_gives_an_empty_page(client: TestClient) -> None:
    assert _alerts(client, "rm01", "?customer_id=C004") == []
