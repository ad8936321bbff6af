"""Logging in and out: sessions, CSRF, lockout, redirects; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, update

from wealthcrm.config import Settings, WebSettings
from wealthcrm.db import session_scope, utcnow
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.web.auth import SESSION_COOKIE, Outcome, attempt_login, load_or_create_session_key

from .branch import PASSWORD
from .conftest import TestClient, csrf_token, log_in
from .html import parse


def _user(engine: Engine, username: str) -> User:
    with session_scope(engine) as session:
        return users.get(session, username=username)


def test_login_sets_a_signed_httponly_lax_cookie_and_shows_the_user(client: TestClient) -> None:
    response = log_in(client, "boss")
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "Max-Age=28800" in cookie  # web.session_max_age_minutes = 480
    assert "secure" not in cookie.lower()  # web.cookie_secure = False
    page = parse(client.get("/").text)
    user = page.find(data_testid="user")
    assert user is not None and user.text() == "boss 支行行长"


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client: TestClient) -> None:
    first = client.get("/?month=2026-09", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/login?next=%2F%3Fmonth%3D2026-09")
    form = parse(client.get(first.headers["location"]).text)
    next_field = form.find(name="next")
    assert next_field is not None and next_field.attrs["value"] == "/?month=2026-09"
    token = csrf_token(client)
    data = {"username": "boss", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data={**data, "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"
    client.cookies.clear()
    token = csrf_token(client)
    data["csrf_token"] = token
    response = client.post("/login", data={**data, "next": "/?month=2026-09"}, follow_redirects=False)
    assert response.headers["location"] == "/?month=2026-09"


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient, branch: Engine) -> None:
    for username, password in [("boss", "wrong password"), ("nobody", PASSWORD)]:
        response = log_in(client, username, password)
        assert response.status_code == 401
        error = parse(response.text).find(data_testid="login-error")
        assert error is not None and error.text() == "用户名或密码错误。"
    assert _user(branch, "boss").failed_logins == 1  # committed although the login failed
    assert client.get("/api/v1/overview").status_code == 401


def test_five_wrong_passwords_lock_the_account_for_15_minutes(client: TestClient, branch: Engine) -> None:
    for attempt in range(1, 5):
        assert log_in(client, "lead", "wrong password").status_code == 401
        assert _user(branch, "lead").failed_logins == attempt
    response = log_in(client, "lead", "wrong password")
    error = parse(response.text).find(data_testid="login-error")
    assert error is not None and error.text() == "密码错误次数过多，账户已锁定，请 15 分钟后再试。"
    locked = _user(branch, "lead")
    assert locked.locked_until is not None
    assert timedelta(minutes=14) < locked.locked_until - utcnow() <= timedelta(minutes=15)

    # Even the right password is refused while locked.
    response = log_in(client, "lead", PASSWORD)
    assert response.status_code == 401 and "账户已锁定" in response.text

    # After the lock ends the right password works and the count starts again.
    with session_scope(branch) as session:
        session.execute(
            update(User).where(User.username == "lead").values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert log_in(client, "lead", PASSWORD).status_code == 303
    after = _user(branch, "lead")
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_a_session_of_a_user_locked_meanwhile_ends(client: TestClient, branch: Engine) -> None:
    assert log_in(client, "boss").status_code == 303
    with session_scope(branch) as session:
        session.execute(
            update(User).where(User.username == "boss").values(locked_until=utcnow() + timedelta(minutes=5))
        )
    assert client.get("/api/v1/overview").status_code == 401


def test_an_inactive_user_cannot_log_in(client: TestClient, branch: Engine) -> None:
    with session_scope(branch) as session:
        session.execute(update(User).where(User.username == "boss").values(is_active=False))
    assert log_in(client, "boss").status_code == 401


def test_lockout_counts_in_the_database(branch: Engine) -> None:
    web = WebSettings(lockout_attempts=2, lockout_minutes=30)
    now = utcnow()
    with session_scope(branch) as session:
        first = attempt_login(session, username="rm01", password="nope", settings=web, now=now)
        second = attempt_login(session, username="rm01", password="nope", settings=web, now=now)
        third = attempt_login(session, username="RM01 ", password=PASSWORD, settings=web, now=now)
    assert [first.outcome, second.outcome, third.outcome] == [Outcome.wrong, Outcome.locked, Outcome.locked]
    assert second.locked_until == now + timedelta(minutes=30)
    with session_scope(branch) as session:
        later = now + timedelta(minutes=31)
        ok = attempt_login(session, username="rm01", password=PASSWORD, settings=web, now=later)
    assert ok.outcome is Outcome.ok and ok.user is not None and ok.user.username == "rm01"


@pytest.mark.parametrize("token", [None, "forged"])
def test_login_without_the_csrf_token_is_refused(client: TestClient, token: str | None) -> None:
    csrf_token(client)  # the session has a token; the form below does not carry it
    data = {"username": "boss", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    page = parse(response.text)
    error = page.find(data_testid="error")
    assert error is not None and "表单已过期或并非来自本系统" in error.text()
    assert client.get("/", follow_redirects=False).status_code == 303  # not logged in


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    assert log_in(client, "boss").status_code == 303
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/api/v1/overview").status_code == 200
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.get("/api/v1/overview").status_code == 401


def test_the_csrf_token_may_come_in_a_header(client: TestClient) -> None:
    assert log_in(client, "boss").status_code == 303
    token = csrf_token(client, "/")
    response = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_a_new_login_gets_a_new_csrf_token(client: TestClient) -> None:
    before = csrf_token(client)
    assert log_in(client, "boss").status_code == 303
    assert csrf_token(client, "/") != before


def test_pages_redirect_to_login_and_the_api_answers_401(client: TestClient) -> None:
    page = client.get("/", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2F")
    api = client.get("/api/v1/overview")
    assert api.status_code == 401
    assert api.json() == {"error": {"status": 401, "message": "Please log in first."}}


def test_a_logged_in_user_skips_the_login_form(client: TestClient) -> None:
    assert log_in(client, "boss").status_code == 303
    response = client.get("/login", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/")


def test_a_forged_session_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "eyJ1aWQiOiAxfQ==.forged.signature")
    assert client.get("/api/v1/overview").status_code == 401


def test_session_key_is_created_once_with_mode_600(tmp_path: Path) -> None:
    key = load_or_create_session_key(None, tmp_path / "data")
    path = tmp_path / "data" / "session.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_session_key(None, tmp_path / "data") == key and len(key) == 44
    assert load_or_create_session_key(SecretStr("configured"), tmp_path / "other") == "configured"
    assert not (tmp_path / "other").exists()


def test_session_settings_have_documented_defaults() -> None:
    web = Settings(data_dir=Path("unused")).web
    assert (web.session_secret, web.session_max_age_minutes) == (None, 480)
    assert (web.lockout_attempts, web.lockout_minutes, web.cookie_secure) == (5, 15, False)
