"""Analysts see pseudonymised views: the Book, its API and CSV export with stable pseudonyms, the branch
pages; never a real name, customer number, national ID or mobile number (masked or not) in HTML, JSON or
CSV; no page or API of one identified customer."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.customers.pseudonym import pseudonymiser_for
from wealthcrm.db import session_scope
from wealthcrm.tasks.service import generate
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes import (
    admin,
    audit,
    auth,
    book,
    branch,
    health,
    overview,
    recommendations,
    tasks,
    team,
    workbench,
)

from ..customers.bookdata import MOBILE, NATIONAL_ID, ON, load_book
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse

#: the book in the default order (largest AUM at risk first)
ORDER = ["C003", "C004", "C001", "C005", "C002"]
#: everything that identifies a customer of the test branch: numbers, names, PII clear and masked
SECRETS = [
    *ORDER,
    "陈一",
    "刘二",
    "张三",
    "周四",
    "吴五",
    NATIONAL_ID,
    MOBILE,
    "110105********002X",
    "138****5678",
    "139****1111",
    "440301********1234",
    "139****0004",
    "5678",
    "1111",
]


#: the routers of the workbench (issue 5); the service desk's, surveys' and scorecards' are their own
WORKBENCH_ROUTERS = [
    m.router
    for m in (health, auth, overview, workbench, tasks, book, team, branch, audit, admin, recommendations)
]


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        generate(session, on=ON, settings=settings)
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: ON
    return application


@pytest.fixture
def analyst(client: TestClient) -> TestClient:
    assert log_in(client, "analyst").status_code == 303
    return client


def _clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (where, secret)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_book_api_and_export_carry_the_same_pseudonyms(analyst: TestClient, settings: Settings) -> None:
    p = pseudonymiser_for(settings)
    aliases = [p(c) for c in ORDER]
    api = analyst.get("/api/v1/customers").json()
    assert [(i["customer_id"], i["name"]) for i in api["items"]] == [(a, a) for a in aliases]
    assert api["items"][2]["tier"] == "sunflower" and api["items"][2]["aum_at_risk"] == 378_000.0
    _clean(json.dumps(api, ensure_ascii=False), "/api/v1/customers")
    exported = analyst.get("/api/v1/customers.csv")
    assert exported.status_code == 200
    rows = _csv(exported.text)
    assert [r["customer_id"] for r in rows] == aliases and [r["name"] for r in rows] == aliases
    assert {(r["national_id_masked"], r["mobile_masked"]) for r in rows} == {("", "")}
    _clean(exported.text, "customers.csv")
    page = analyst.get("/book")
    assert page.status_code == 200
    table = by_id(page.text, "book-table")
    assert [r[0] for r in table.table()[1:]] == aliases
    assert not [a for a in table.iter("a") if a.attrs.get("href", "").startswith("/customers/")]
    _clean(page.text, "/book")
    # the same pseudonyms in a second session: analysts join their exports on them
    again = TestClient(analyst.app)
    log_in(again, "analyst")
    assert [r["customer_id"] for r in _csv(again.get("/api/v1/customers.csv").text)] == aliases


def test_search_filters_and_orders_of_an_analyst(analyst: TestClient, settings: Settings) -> None:
    p = pseudonymiser_for(settings)
    found = analyst.get("/api/v1/customers", params={"q": p("C004")}).json()
    assert [i["customer_id"] for i in found["items"]] == [p("C004")]
    for text in ("周四", "C004", "c00"):  # names and real numbers find nothing
        assert analyst.get("/api/v1/customers", params={"q": text}).json()["total"] == 0
    page = analyst.get("/book", params={"q": p("C001").lower()}).text
    assert [r[0] for r in by_id(page, "book-table").table()[1:]] == [p("C001")]
    high = _csv(analyst.get("/api/v1/customers.csv", params={"risk": "high"}).text)
    assert [r["customer_id"] for r in high] == [p("C004"), p("C001")]
    for path in ("/api/v1/customers", "/api/v1/customers.csv", "/book"):
        refused = analyst.get(path, params={"sort": "name"})
        assert refused.status_code == 422 and "analysts cannot sort by name" in refused.text, path
        _clean(refused.text, path)
    sorts = [o.attrs["value"] for o in by_id(analyst.get("/book").text, "book-filters").iter("option")]
    assert "customer_id" in sorts and "name" not in sorts


def test_no_identified_customer_on_any_page_or_api(analyst: TestClient, app: FastAPI) -> None:
    for customer_id in [*ORDER, "C999"]:
        for path in (
            f"/customers/{customer_id}",
            f"/api/v1/customers/{customer_id}",
            f"/customers/{customer_id}/pii/mobile",
            f"/customers/{customer_id}/panels/tasks",
            f"/customers/{customer_id}/panels/recommendations",
            f"/api/v1/customers/{customer_id}/interactions",
            f"/api/v1/customers/{customer_id}/recommendations",
        ):
            response = analyst.get(path)
            assert response.status_code == 403, (path, response.status_code)
            echo = response.text.replace(quote(path, safe=""), "").replace(path, "")  # the link back here
            _clean(echo, path)
    for path in ("/today", "/api/v1/today", "/api/v1/alerts"):
        assert analyst.get(path).status_code == 403, path
    assert analyst.get("/api/v1/tasks").json()["total"] == 0
    # every other page and API of the workbench without a path parameter: nothing identifies a customer
    for router in WORKBENCH_ROUTERS:
        for route in router.routes:
            path = getattr(route, "path", "")
            if "GET" not in (getattr(route, "methods", None) or set()) or "{" in path:
                continue
            response = analyst.get(path)
            assert response.status_code < 500, path
            _clean(response.text, path)


def test_branch_pages_are_open_to_analysts(analyst: TestClient) -> None:
    for path in ("/", "/branch", "/api/v1/branch", "/api/v1/overview"):
        response = analyst.get(path)
        assert response.status_code == 200, path
        _clean(response.text, path)
    nav = parse(analyst.get("/book").text).find(**{"class": "mainnav"})
    assert nav is not None
    links = [a.attrs["href"] for a in nav.iter("a")]
    assert "/today" not in links and "/book" in links and "/branch" in links


def test_saved_views_of_an_analyst_keep_a_pseudonym(analyst: TestClient, settings: Settings) -> None:
    p = pseudonymiser_for(settings)
    token = csrf_token(analyst, "/book")
    saved = analyst.post(
        "/api/v1/saved-views",
        json={"name": "一位客户", "query": f"q={quote(p('C005'))}"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 201, saved.text
    view = analyst.get(f"/book?view={saved.json()['id']}")
    assert re.search(p("C005"), view.text)
    assert [r[0] for r in by_id(view.text, "book-table").table()[1:]] == [p("C005")]
