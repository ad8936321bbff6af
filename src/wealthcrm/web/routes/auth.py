"""Logging in and out, choosing the language, and API tokens (``/api/v1/auth/token``)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from wealthcrm.audit.service import record
from wealthcrm.db import utcnow
from wealthcrm.errors import Invalid
from wealthcrm.users import tokens
from wealthcrm.web import auth
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, client_ip
from wealthcrm.web.i18n import LANG_COOKIE, LOCALES, N_
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()

WRONG = N_("Wrong user name or password.")
LOCKED = N_("Too many wrong passwords: this account is locked. Try again in {minutes} minutes.")
ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """A path on this site to go to after logging in ("/" for anything else: no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    if isinstance(request.session.get("uid"), int):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": "", "error": None})


def _refusal(result: auth.LoginResult, now: datetime, _: Gettext) -> str:
    if result.outcome is auth.Outcome.locked and result.locked_until is not None:
        return _(LOCKED).format(minutes=math.ceil((result.locked_until - now).total_seconds() / 60))
    return _(WRONG)


@router.post("/login", dependencies=[Depends(auth.check_csrf)], include_in_schema=False)
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    _: Gettext,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    now = utcnow()
    result = auth.attempt_login(session, username=username, password=password, settings=settings.web, now=now)
    if result.outcome is auth.Outcome.ok and result.user is not None:
        auth.start_session(request.session, result.user)
        return RedirectResponse(safe_next(next), status_code=303)
    error = _refusal(result, now, _)
    # The session (DbSession) commits the failed-login count when this returns.
    context = {"next": safe_next(next), "username": username, "error": error}
    return render(request, "login.html", context, status_code=401)


@router.post("/logout", dependencies=[Depends(auth.check_csrf)], include_in_schema=False)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{locale}", include_in_schema=False)
def choose_language(locale: str, next: str | None = None) -> Response:
    """Remember the language in the ``lang`` cookie and go back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return response


class TokenRequest(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    name: str | None = Field(None, max_length=100, description="What the token is for (shown to admins).")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str


@router.post(
    "/api/v1/auth/token",
    tags=["auth"],
    response_model=TokenResponse,
    responses={401: {"description": "Wrong user name or password, or the account is locked."}},
)
def issue_token(
    body: TokenRequest, request: Request, session: DbSession, settings: AppSettings, _: Gettext
) -> Response:
    """Exchange a user name and password for a bearer token (``Authorization: Bearer …``).

    Wrong passwords count towards the same lockout as the login form. The token is shown only here;
    the server keeps its SHA-256. It lasts ``security.api_token_hours``.
    """
    now = utcnow()
    result = auth.attempt_login(
        session, username=body.username, password=body.password, settings=settings.web, now=now
    )
    if result.outcome is not auth.Outcome.ok or result.user is None:
        # a response, not an exception: the failed-login count must commit
        message = _refusal(result, now, _)
        return JSONResponse({"error": {"status": 401, "message": message}}, status_code=401)
    issued = tokens.issue(
        session, user=result.user, now=now, hours=settings.security.api_token_hours, name=body.name
    )
    record(
        session,
        actor=result.user,
        action="token.issue",
        entity="api_token",
        entity_id=issued.token_id,
        details={"name": body.name, "expires_at": issued.expires_at.isoformat()},
        ip=client_ip(request),
    )
    payload = TokenResponse(access_token=issued.token, expires_at=issued.expires_at.isoformat() + "Z")
    return JSONResponse(payload.model_dump(), headers={"Cache-Control": "no-store"})


@router.delete("/api/v1/auth/token", tags=["auth"], status_code=204)
def revoke_token(request: Request, session: DbSession, user: CurrentUser) -> Response:
    """Revoke the bearer token this request is made with (log out of the API)."""
    token_id = getattr(request.state, "token_id", None)
    if not isinstance(token_id, int):
        raise Invalid("send the token to revoke in the Authorization: Bearer header")
    tokens.revoke(session, token_id=token_id, now=utcnow())
    record(
        session,
        actor=user,
        action="token.revoke",
        entity="api_token",
        entity_id=token_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)
