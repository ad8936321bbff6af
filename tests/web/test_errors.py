"""One handler maps domain errors to statuses: a clean page, or JSON under /api; never a traceback."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError

from wealthcrm import __version__
from wealthcrm.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from wealthcrm.web.deps import CurrentUser
from wealthcrm.web.errors import BAD_VALUE

from .conftest import TestClient, log_in
from .html import parse

ERRORS: dict[str, tuple[Exception, int, str]] = {
    "not-found": (NotFound("no customer 'C9'"), 404, "未找到"),
    "forbidden": (Forbidden("not yours"), 403, "无权访问"),
    "invalid": (Invalid("amount: must be positive"), 422, "输入有误"),
    "conflict": (Conflict("user 'x' already exists"), 409, "数据冲突"),
    "domain": (DomainError("cannot do that now"), 400, "请求有误"),
    "bad-value": (DataError("SELECT", {}, ValueError("text fields cannot contain NUL")), 422, "输入有误"),
    "bug": (ZeroDivisionError("division by zero"), 500, "系统出错"),
}


@pytest.fixture
def failing(app: FastAPI) -> TestClient:
    """The app with routes that raise each error, as a page and under /api."""

    def boom(kind: str, user: CurrentUser) -> None:
        raise ERRORS[kind][0]

    app.add_api_route("/boom/{kind}", boom)
    app.add_api_route("/api/v1/boom/{kind}", boom)
    client = TestClient(app, raise_server_exceptions=False)
    log_in(client, "boss")
    return client


def _shown(kind: str, exc: Exception) -> str:
    """The message the user reads: the domain error's own; for a refused value, never the SQL."""
    return BAD_VALUE if kind == "bad-value" else str(exc)


@pytest.mark.parametrize("kind", list(ERRORS))
def test_errors_become_json_under_api(failing: TestClient, kind: str) -> None:
    exc, status, _title = ERRORS[kind]
    response = failing.get(f"/api/v1/boom/{kind}")
    assert response.status_code == status
    message = (
        _shown(kind, exc)
        if status < 500
        else ("An unexpected error occurred. It has been logged; please try again later.")
    )
    assert response.json() == {"error": {"status": status, "message": message}}
    assert "SELECT" not in response.text


@pytest.mark.parametrize("kind", list(ERRORS))
def test_errors_become_a_page(failing: TestClient, kind: str) -> None:
    exc, status, title = ERRORS[kind]
    response = failing.get(f"/boom/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    error = parse(response.text).find(data_testid="error")
    assert error is not None and error.text().startswith(f"{status} {title}")
    assert "Traceback" not in response.text and "ZeroDivisionError" not in response.text
    if status < 500 and kind != "bad-value":
        assert _shown(kind, exc) in error.text()
    assert "SELECT" not in response.text


def test_unknown_paths_and_methods(client: TestClient) -> None:
    assert client.get("/api/v1/nothing").json() == {"error": {"status": 404, "message": "Not Found"}}
    page = client.get("/nothing")
    assert page.status_code == 404 and "未找到" in page.text
    wrong_method = client.delete("/api/v1/overview")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": {"status": 405, "message": "Method Not Allowed"}}


def test_health_needs_no_login(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "version": __version__})
