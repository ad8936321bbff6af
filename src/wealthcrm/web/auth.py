"""Logging in: the session-cookie key, CSRF tokens, bearer tokens, and password checks with lockout.

The session is Starlette's signed cookie (``SessionMiddleware``); it holds the user's id and the
session's CSRF token, nothing else. The JSON API also takes ``Authorization: Bearer <token>``
(:mod:`wealthcrm.users.tokens`); such a request is authenticated by the token alone, never by a
cookie, so it needs no CSRF token: a browser does not add that header to a cross-site request.

The lockout counts wrong passwords on the user row, so it holds
across processes and restarts; the caller owns the transaction and commits the count.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.requests import Request

from wealthcrm.config import WebSettings
from wealthcrm.errors import DomainError, Forbidden, NotFound
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import Role
from wealthcrm.web.i18n import N_

SESSION_COOKIE = "wealthcrm_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FAILED = N_("The form has expired or did not come from this site. Reload the page and try again.")
LOGIN_FIRST = N_("Please log in first.")


class CsrfFailed(Forbidden):
    """A POST without the session's CSRF token."""


class LoginRequired(DomainError):
    """No (valid) login in this request: pages redirect to the login form, the API answers 401."""


def load_or_create_session_key(configured: SecretStr | None, data_dir: Path) -> str:
    """The configured secret, else the key in ``data_dir/session.key`` (created, mode 0600, on first use)."""
    if configured is not None:
        return configured.get_secret_value()
    path = data_dir / "session.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(os.urandom(32)).decode())
    return path.read_text().strip()


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def bearer_token(request: Request) -> str | None:
    """The token of an API request's ``Authorization: Bearer …`` header (pages never take one)."""
    path = request.url.path
    if not (path == "/api" or path.startswith("/api/")):
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def check_csrf(request: Request) -> None:
    """Raise :class:`CsrfFailed` unless the request carries the session's token (header or form field).

    API requests with a bearer token are exempt: they are authenticated by the token, not the cookie.
    """
    if bearer_token(request) is not None:
        return
    expected = request.session.get("csrf")
    sent: Any = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfFailed(CSRF_FAILED)


def start_session(session: dict[str, Any], user: User) -> None:
    """Log the user in: a fresh session (new CSRF token) holding only the user's id."""
    session.clear()
    session["uid"] = user.id
    csrf_token(session)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The logged-in user as a plain value: safe to use after the request's transaction has ended."""

    id: int
    username: str
    display_name: str
    role: Role
    staff_id: str | None

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(user.id, user.username, user.display_name or user.username, user.role, user.staff_id)


class Outcome(StrEnum):
    ok = "ok"
    wrong = "wrong"  # unknown user, inactive user or wrong password: one answer, so names are not revealed
    locked = "locked"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: Outcome
    user: User | None = None
    locked_until: datetime | None = None


@cache
def _dummy_hash() -> str:
    return users.hash_password(secrets.token_hex(16))


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def attempt_login(
    session: Session, *, username: str, password: str, settings: WebSettings, now: datetime
) -> LoginResult:
    """Check a password; count wrong ones and lock the account after ``lockout_attempts`` in a row.

    ``now`` is naive UTC, like the stored timestamps. A locked account is refused without checking
    the password. Nothing is committed here: the caller commits (also on failure, to keep the count).
    """
    try:
        user: User | None = users.get(session, username=username.strip().lower())
    except NotFound:
        user = None
    if user is None or not user.is_active:
        # Same work as a real check, so response times do not tell which names exist.
        users.check_password(User(password_hash=_dummy_hash()), password)
        return LoginResult(Outcome.wrong)
    if is_locked(user, now):
        return LoginResult(Outcome.locked, user, user.locked_until)
    if users.check_password(user, password):
        user.failed_logins = 0
        user.locked_until = None
        return LoginResult(Outcome.ok, user)
    # One UPDATE … RETURNING: it row-locks on PostgreSQL, so parallel guesses cannot lose counts.
    failed = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    if failed >= settings.lockout_attempts:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        return LoginResult(Outcome.locked, user, user.locked_until)
    return LoginResult(Outcome.wrong, user)
