"""The Book page and its APIs: scope for every role, filters, paging, saved views and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers.pseudonym import pseudonymiser_for
from wealthcrm.db import session_scope
from wealthcrm.web import book as book_view
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.bookdata import MOBILE, NATIONAL_ID, load_book
from ..customers.test_book import SCOPE
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


def _rows(html: str) -> list[list[str]]:
    table = parse(html).find(id="book-table")
    return [] if table is None else table.table()[1:]


def _page_ids(html: str) -> list[str]:
    return [row[0].split()[-1] for row in _rows(html)]


def _csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_every_role_sees_its_book_on_page_api_search_and_csv(app: FastAPI, settings: Settings) -> None:
    for username, customers in SCOPE.items():
        client = TestClient(app)
        log_in(client, username)
        # analysts see pseudonyms and find nobody by name (tests/web/test_analyst.py)
        alias = pseudonymiser_for(settings) if username == "analyst" else str
        expected = [alias(c) for c in customers]
        api = client.get("/api/v1/customers").json()
        assert (api["total"], [c["customer_id"] for c in api["items"]]) == (len(expected), expected), username
        searched = client.get("/api/v1/customers", params={"q": "周四"}).json()["items"]
        found = [c for c in customers if c == "C004" and username != "analyst"]
        assert [c["customer_id"] for c in searched] == found, username
        page = client.get("/book")
        exported = client.get("/api/v1/customers.csv")
        if username == "svc":  # service staff have no book: no page, no export
            assert (page.status_code, exported.status_code) == (403, 403)
            continue
        assert page.status_code == 200, username
        assert _page_ids(page.text) == expected, username
        assert [r["customer_id"] for r in _csv(exported.text)] == expected, username
        if "C004" not in expected:
            assert "周四" not in page.text and "周四" not in exported.text


def test_the_page_of_an_rm_in_chinese(client: TestClient) -> None:
    log_in(client, "rm01")
    html = client.get("/book").text
    assert _rows(html) == [
        [
            "张三 C003",
            "王经理",
            "钻石",
            "考察期",
            "600.00 万元",
            "12.0%",
            "72.00 万元",
            "2026-11-20 8 天前",
            "0",
        ],
        [
            "陈一 C001",
            "王经理",
            "金葵花",
            "退化期",
            "90.00 万元",
            "42.0%",
            "37.80 万元",
            "2026-10-03 56 天前",
            "1",
        ],
    ]
    assert parse(html).find(name="rm") is None  # one book: no RM filter
    assert by_id(html, "book-title").text() == "2 位客户"
    assert NATIONAL_ID not in html and MOBILE not in html


def test_the_page_filters_sorts_and_pages_in_english(client: TestClient) -> None:
    log_in(client, "boss")
    client.get("/lang/en")
    html = client.get(
        "/book", params={"tier": "sunflower", "no_contact_days": "30", "aum_min": "", "q": ""}
    ).text
    assert _page_ids(html) == ["C004", "C001"]
    assert _rows(html)[0][1:] == [
        "赵经理", "Sunflower", "Mature", "¥2,000,000", "30.0%", "¥600,000", "2026-10-29 30 days ago", "1",
    ]  # fmt: skip
    assert (
        by_id(html, "export-csv").attrs["href"] == "/api/v1/customers.csv?tier=sunflower&no_contact_days=30"
    )
    never = client.get("/book", params={"risk": "unscored"}).text
    assert _rows(never) == [["刘二 C002", "李主管", "Gold", "Churned", "¥0", "Not scored", "—", "Never", "1"]]
    by_contact = client.get("/book", params={"sort": "last_contact"}).text
    assert _page_ids(by_contact) == ["C002", "C001", "C004", "C005", "C003"]
    rm_options = [
        o.attrs["value"]
        for o in by_id(html, "book-filters").iter("option")
        if o.parent and o.parent.attrs.get("name") == "rm"
    ]
    assert rm_options == ["", "S001", "S002", "S004", "S005", "S006", "S007"]
    bad = client.get("/book", params={"aum_min": "5", "aum_max": "1"})
    assert bad.status_code == 422 and "aum_min" in bad.text


def test_the_page_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(book_view, "PAGE_SIZE", 2)
    log_in(client, "boss")
    first = client.get("/book", params={"sort": "customer_id"}).text
    assert _page_ids(first) == ["C001", "C002"]
    pager = by_id(first, "pager")
    assert pager.text().startswith("第 1–2 位，共 5 位")
    assert pager.find(rel="prev") is None
    next_link = pager.find(rel="next")
    assert next_link is not None and next_link.attrs["href"] == "/book?sort=customer_id&page=2"
    last = client.get("/book", params={"sort": "customer_id", "page": "3"}).text
    assert _page_ids(last) == ["C005"]
    assert by_id(last, "pager").find(rel="next") is None


def test_the_list_api_filters(client: TestClient) -> None:
    log_in(client, "boss")

    def ids(**params: object) -> list[str]:
        response = client.get("/api/v1/customers", params=params)
        assert response.status_code == 200, response.text
        return [c["customer_id"] for c in response.json()["items"]]

    assert ids(risk=["high", "medium"]) == ["C003", "C004", "C001"]
    assert ids(aum_min=800_000, aum_max=2_000_000) == ["C004", "C001", "C005"]
    assert ids(no_contact_days=60) == ["C002"]
    assert ids(rm="S001", sort="aum", direction="asc") == ["C001", "C003"]
    assert ids(tier=["sunflower", "diamond"], stage="mature") == ["C004", "C005"]
    body = client.get("/api/v1/customers", params={"tier": "sunflower", "risk": "high"}).json()
    assert body["filter"] == {"tier": ["sunflower"], "risk": ["high"]}
    c001 = body["items"][1]
    assert (c001["last_contact_at"], c001["days_since_contact"], c001["open_alerts"], c001["risk_band"]) == (
        "2026-10-03T10:30:00", 56, 1, "high",
    )  # fmt: skip
    for bad in ({"risk": "huge"}, {"no_contact_days": 0}, {"aum_min": -1}, {"aum_min": 2, "aum_max": 1}):
        response = client.get("/api/v1/customers", params=bad)
        assert response.status_code == 422 and response.json()["error"]["status"] == 422, bad


def test_the_csv_export_is_masked_streamed_and_audited(client: TestClient, branch: Engine) -> None:
    log_in(client, "lead")
    response = client.get("/api/v1/customers.csv", params={"tier": "sunflower", "sort": "aum"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="book-2026-10.csv"'
    rows = _csv(response.text)
    assert [(r["customer_id"], r["aum"], r["national_id_masked"], r["mobile_masked"]) for r in rows] == [
        ("C001", "900000.00", "110105********002X", "138****5678"),
        ("C005", "800000.00", "310101********5555", "137****0005"),
    ]
    assert NATIONAL_ID not in response.text and MOBILE not in response.text
    with session_scope(branch) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "book.export")).one()
        assert (entry.actor, entry.actor_role, entry.entity) == ("lead", "team_lead", "customers")
        assert entry.details["filter"] == {"tier": ["sunflower"], "sort": "aum"}
        assert (entry.details["rows"], entry.details["month"]) == (2, "2026-10-01")
        assert NATIONAL_ID not in str(entry.details)


def test_saved_views_per_user_on_api_and_page(app: FastAPI) -> None:
    rm01, boss = TestClient(app), TestClient(app)
    log_in(rm01, "rm01")
    log_in(boss, "boss")
    token = csrf_token(rm01, "/book")
    headers = {"X-CSRF-Token": token}
    made = rm01.post(
        "/api/v1/saved-views",
        json={"name": "高风险金葵花", "query": "tier=sunflower&risk=high"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    view_id = made.json()["id"]
    assert (made.json()["name"], made.json()["query"]) == ("高风险金葵花", "tier=sunflower&risk=high")
    assert (
        rm01.post("/api/v1/saved-views", json={"name": "x", "query": ""}).status_code == 403
    )  # no CSRF token
    dup = rm01.post("/api/v1/saved-views", json={"name": "高风险金葵花", "query": ""}, headers=headers)
    assert dup.status_code == 409
    bad = rm01.post(
        "/api/v1/saved-views", json={"name": "坏", "query": "tier=gold&colour=red"}, headers=headers
    )
    assert bad.status_code == 422 and "colour" in bad.json()["error"]["message"]
    assert [v["name"] for v in rm01.get("/api/v1/saved-views").json()["items"]] == ["高风险金葵花"]
    assert boss.get("/api/v1/saved-views").json() == {"items": [], "total": 0}
    boss_headers = {"X-CSRF-Token": csrf_token(boss, "/book")}
    assert boss.delete(f"/api/v1/saved-views/{view_id}", headers=boss_headers).status_code == 404
    assert boss.get(f"/book?view={view_id}").status_code == 404

    # the page lists them; applying one opens the Book with its query
    html = rm01.get("/book").text
    assert [a.text() for a in by_id(html, "saved-views").iter("a")] == ["高风险金葵花"]
    applied = rm01.get(f"/book?view={view_id}", follow_redirects=False)
    assert (applied.status_code, applied.headers["location"]) == (303, "/book?tier=sunflower&risk=high")
    assert _page_ids(rm01.get(applied.headers["location"]).text) == ["C001"]
    # the page's form saves the filter shown
    saved = rm01.post(
        "/book/views",
        data={"name": "没联系", "query": "no_contact_days=30", "csrf_token": token},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/book?no_contact_days=30")
    assert [v["name"] for v in rm01.get("/api/v1/saved-views").json()["items"]] == ["没联系", "高风险金葵花"]
    gone = rm01.delete(f"/api/v1/saved-views/{view_id}", headers=headers)
    assert gone.status_code == 204
    deleted = rm01.post(f"/book/views/{view_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 404
    assert [v["name"] for v in rm01.get("/api/v1/saved-views").json()["items"]] == ["没联系"]
    svc = TestClient(app)
    log_in(svc, "svc")
    assert svc.get("/api/v1/saved-views").status_code == 403


def test_the_book_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/customers.csv").status_code == 401
    assert client.get("/api/v1/saved-views").status_code == 401
    page = client.get("/book", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fbook")
