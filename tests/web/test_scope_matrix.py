"""Scope across the whole app: every role against every customer-scoped page, fragment and endpoint.

The routes are read from the app itself, so a route added later is covered without editing this
file. For each user and each customer of the workbench branch:

- a customer outside the user's scope answers exactly like a customer that does not exist (same
  status, same body once the id is swapped), so nothing tells them apart;
- a customer inside the scope is never a 404;
- every list, export and search returns only customers inside the scope.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.customers.pseudonym import pseudonymiser_for
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes import ROUTERS

from ..customers.test_scope import SCOPE
from ..customers.workbench import MOBILE, NATIONAL_ID, load_workbench
from .conftest import TestClient, log_in

CUSTOMERS = ["C001", "C002", "C003", "C004"]
MISSING = "C999"


@pytest.fixture
def app(engine: Engine, settings: Settings, tmp_path: Path) -> FastAPI:
    load_workbench(engine, settings, tmp_path / "branch")
    application = create_app(settings, engine)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


def customer_routes(app: FastAPI) -> list[str]:
    """Every GET path of the app with a ``{customer_id}`` parameter (and maybe a PII ``{field}``)."""
    paths = []
    # FastAPI keeps included routers as such (app.routes holds them lazily): walk the app's routers
    for route in (r for router in ROUTERS for r in router.routes):
        methods = getattr(route, "methods", None) or set()
        params = set(getattr(route, "param_convertors", {}))
        if "GET" in methods and "customer_id" in params and params <= {"customer_id", "field"}:
            paths.append(getattr(route, "path", ""))
    return sorted(paths)


def _same(a: Any, b: Any, customer: str) -> bool:
    """Equal once ``customer`` is written as the missing id (the 404 may quote the id asked for)."""
    return a.status_code == b.status_code and a.text.replace(customer, MISSING) == b.text


def test_the_matrix_covers_the_pages_fragments_and_api(app: FastAPI) -> None:
    routes = customer_routes(app)
    for expected in (
        "/customers/{customer_id}",
        "/customers/{customer_id}/panels/tasks",
        "/customers/{customer_id}/panels/recommendations",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/interactions",
        "/api/v1/customers/{customer_id}/recommendations",
    ):
        assert expected in routes


@pytest.mark.parametrize("username", sorted(SCOPE))
def test_out_of_scope_is_indistinguishable_from_missing(app: FastAPI, username: str) -> None:
    with TestClient(app) as client:
        assert log_in(client, username).status_code == 303
        for template in customer_routes(app):
            missing = client.get(template.format(customer_id=MISSING, field="mobile"))
            assert missing.status_code in (403, 404), (template, missing.status_code)
            for customer in CUSTOMERS:
                response = client.get(template.format(customer_id=customer, field="mobile"))
                assert response.status_code < 500, (template, customer)
                if customer in SCOPE[username]:
                    assert response.status_code != 404, (username, template, customer)
                else:
                    assert _same(response, missing, customer), (username, template, customer)
                assert NATIONAL_ID not in response.text and MOBILE not in response.text


def _ids(value: Any) -> set[str]:
    """Every ``customer_id`` anywhere in a JSON document."""
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


@pytest.mark.parametrize("username", sorted(SCOPE))
def test_lists_exports_and_search_hold_the_scope(app: FastAPI, username: str) -> None:
    allowed = set(SCOPE[username])
    if username == "analyst":  # pseudonymised views: the same customers, under their pseudonyms
        allowed = {pseudonymiser_for(app.state.settings)(c) for c in allowed}
    with TestClient(app) as client:
        assert log_in(client, username).status_code == 303
        for path in (
            "/api/v1/customers?page_size=500",
            "/api/v1/customers?q=C00",
            "/api/v1/customers?q=%E5%BC%A0",  # a name search (张)
            "/api/v1/today",
            "/api/v1/tasks?page_size=500",
        ):
            response = client.get(path)
            assert response.status_code in (200, 403), (path, response.status_code)
            if response.status_code == 200:
                assert _ids(response.json()) <= allowed, (username, path)
        export = client.get("/api/v1/customers.csv")
        assert export.status_code in (200, 403)
        if export.status_code == 200:
            rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
            assert {row["customer_id"] for row in rows} == allowed
            assert NATIONAL_ID not in export.text and MOBILE not in export.text
