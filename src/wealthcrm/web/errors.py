"""The one place where errors become responses: a clean page, or JSON under /api; never a traceback.

Domain exceptions (:mod:`wealthcrm.errors`) map to statuses here; their messages are shown as they
are (translated when the catalog knows them).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from wealthcrm.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from wealthcrm.web.auth import LoginRequired
from wealthcrm.web.i18n import N_
from wealthcrm.web.templating import render

log = logging.getLogger(__name__)

STATUS = [(NotFound, 404), (Forbidden, 403), (Invalid, 422), (Conflict, 409), (DomainError, 400)]
TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Conflict"),
    422: N_("Invalid input"),
    500: N_("Something went wrong"),
}
BAD_VALUE = N_(
    "A value cannot be stored or searched: it holds a NUL character, or a number or date is out of range."
)
SERVER_ERROR = N_("An unexpected error occurred. It has been logged; please try again later.")


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def status_of(exc: DomainError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_response(request: Request, status: int, message: str) -> Response:
    if is_api(request):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    title = TITLES.get(status, TITLES[400] if status < 500 else TITLES[500])
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status)


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


async def _login_required(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return error_response(request, 401, str(exc))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(request, status_of(exc), str(exc))


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 422, _describe(exc))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _bad_value(request: Request, exc: Exception) -> Response:
    # The database refused a value (SQLSTATE class 22: NUL in text, numeric or date overflow): bad
    # input that slipped past validation, so a 422, not a 500. Logged to close the gap at the edge.
    log.warning("the database refused a value on %s: %s", request.url.path, str(exc).splitlines()[0])
    return error_response(request, 422, BAD_VALUE)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this response, so the server logs it with its traceback.
    try:
        return error_response(request, 500, SERVER_ERROR)
    except Exception:  # the page itself failed (a broken template?): plain text, still no traceback
        log.exception("the error page failed too")
        return PlainTextResponse(SERVER_ERROR, status_code=500)


def install(app: FastAPI) -> None:
    handlers: dict[Any, Any] = {
        LoginRequired: _login_required,
        DomainError: _domain,
        RequestValidationError: _validation,
        StarletteHTTPException: _http,
        DataError: _bad_value,
        Exception: _unexpected,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
