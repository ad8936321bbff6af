"""Dependencies of the routes: settings, the request's database session, the logged-in user, roles.

The logged-in user comes from the session cookie, or, on /api/v1, from an ``Authorization: Bearer``
token (:func:`current_user`).

The clock: :func:`utc_now` is now (naive UTC); :func:`current_date` is today in the branch's time zone
(``sla.time_zone``), not the server's, so a server run in UTC still turns the day at the branch's
midnight. Both are dependencies, so tests fix them with ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from wealthcrm.audit.access import REQUEST_INFO
from wealthcrm.config import Settings
from wealthcrm.db import session_scope, to_local, utcnow
from wealthcrm.errors import Forbidden
from wealthcrm.users import tokens
from wealthcrm.users.models import User
from wealthcrm.vocab import Role
from wealthcrm.web.auth import LOGIN_FIRST, LoginRequired, SignedIn, bearer_token, is_locked
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.templating import request_translator


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


TOKEN_INVALID = N_("The API token is unknown, expired or revoked.")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


#: the session of the request being served (:func:`db_session`), for :func:`end_transaction`
REQUEST_SESSION: ContextVar[Session | None] = ContextVar("wealthcrm_request_session", default=None)


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back when it raises.

    The session knows the request's path and client address, for audit entries written on it.

    A request goes to the thread pool once, for its route (``web.threads`` routes at a time per
    process, one by default; :mod:`wealthcrm.web.routing`), and its transaction ends there: the
    route's hand-over commits it, or rolls it back, in the same thread, right after the route
    (:func:`end_transaction`). The session connects on first use, inside the route, so a request
    holds a connection only while its route runs, never while it waits for its turn. Everything
    else runs on the event loop (``async``): the dependencies that do no I/O and the login check
    (:func:`current_user`). Nothing on the event loop waits for a lock a route holds: the route ends
    its transaction without the event loop. What is left here (end a transaction the route did not
    end, close the session) does no I/O after a route that was handed over.
    """
    session = Session(bind=request.app.state.engine, expire_on_commit=False)
    session.info[REQUEST_INFO] = {"path": request.url.path, "ip": client_ip(request)}
    token = REQUEST_SESSION.set(session)
    try:
        yield session
    except BaseException:
        if session.in_transaction():
            session.rollback()
        raise
    else:
        if session.in_transaction():
            session.commit()
    finally:
        REQUEST_SESSION.reset(token)
        session.close()


def end_transaction(*, commit: bool) -> None:
    """Commit (or roll back) the transaction of the request's session, if the request has one."""
    session = REQUEST_SESSION.get()
    if session is None:
        return
    if commit:
        session.commit()
    else:
        session.rollback()


async def utc_now() -> datetime:
    """Now, naive UTC (a dependency, so tests can fix the clock)."""
    return utcnow()


def branch_local(at: datetime, settings: Settings) -> datetime:
    """A naive UTC instant as the branch's naive local wall-clock time (``sla.time_zone``)."""
    return to_local(at, settings.sla.time_zone)


# scope="function": commit before the response is sent, so a client never sees unsaved work.
DbSession = Annotated[Session, Depends(db_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
Gettext = Annotated[Translator, Depends(request_translator)]
UtcNow = Annotated[datetime, Depends(utc_now)]


async def current_date(settings: AppSettings, now: UtcNow) -> date:
    """Today in the branch's time zone, ``sla.time_zone`` (a dependency, so tests can fix the date)."""
    return branch_local(now, settings).date()


TodayDate = Annotated[date, Depends(current_date)]


async def current_user(request: Request) -> SignedIn:
    """The logged-in, active, unlocked user; else :class:`LoginRequired` (login page or 401 JSON).

    An API request with a bearer token is that token's user (or 401), whatever cookie it carries.

    Read on the event loop, in a short transaction of its own (a primary-key read; a token's
    ``last_used_at`` is written at most every 5 minutes), so the request's session first connects in
    its route (:func:`db_session`).
    """
    token = bearer_token(request)
    now = utcnow()
    with session_scope(request.app.state.engine) as session:
        if token is not None:
            found = tokens.find(session, token=token, now=now)
            if found is None or is_locked(found[1], now):
                raise LoginRequired(TOKEN_INVALID)
            request.state.token_id = found[0].id
            bearer_user = SignedIn.of(found[1])
            request.state.user = bearer_user
            return bearer_user
        uid = request.session.get("uid")
        user = session.get(User, uid) if isinstance(uid, int) else None
        if user is None or not user.is_active or is_locked(user, now):
            if uid is not None:
                request.session.clear()
            raise LoginRequired(LOGIN_FIRST)
        signed_in = SignedIn.of(user)
    request.state.user = signed_in  # for the top bar, also on error pages after a rollback
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    """A dependency: the current user when their role is one of ``roles``, else :class:`Forbidden`."""
    allowed = frozenset(roles)

    async def check(user: CurrentUser) -> SignedIn:
        if user.role not in allowed:
            raise Forbidden(f"the {user.role.value} role may not see this")
        return user

    return check


#: a row id in a path: bounded to the database's INTEGER range, so an absurd id is a 422, not a 500
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Row id.")]
