"""Logging in and out, and choosing the language."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from wealthcrm.web import auth
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, utcnow
from wealthcrm.web.i18n import LANG_COOKIE, LOCALES, N_
from wealthcrm.web.templating import render

router = APIRouter(include_in_schema=False)

WRONG = N_("Wrong user name or password.")
LOCKED = N_("Too many wrong passwords: this account is locked. Try again in {minutes} minutes.")
ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """A path on this site to go to after logging in ("/" for anything else: no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if isinstance(request.session.get("uid"), int):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/login", dependencies=[Depends(auth.check_csrf)])
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
    if result.outcome is auth.Outcome.locked and result.locked_until is not None:
        error = _(LOCKED).format(minutes=math.ceil((result.locked_until - now).total_seconds() / 60))
    else:
        error = _(WRONG)
    # The session (DbSession) commits the failed-login count when this returns.
    context = {"next": safe_next(next), "username": username, "error": error}
    return render(request, "login.html", context, status_code=401)


@router.post("/logout", dependencies=[Depends(auth.check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{locale}")
def choose_language(locale: str, next: str | None = None) -> Response:
    """Remember the language in the ``lang`` cookie and go back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return response
