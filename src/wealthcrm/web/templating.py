"""Jinja2 pages: every template gets the translator ``_``, the user, the CSRF token and formatters."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from wealthcrm import __version__
from wealthcrm.web.auth import CSRF_FIELD, csrf_token
from wealthcrm.web.format import format_cny, format_count, format_share
from wealthcrm.web.i18n import LANG_COOKIE, ROLE_LABELS, Translator, choose_locale

WEB_DIR = Path(__file__).parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATE_DIR)  # autoescape is on
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    # `tojson` keeps the order of keys (Jinja sorts them by default): the page embeds the API's document.
    templates.env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return templates


def translator(request: Request) -> Translator:
    """The request's language: the ``lang`` cookie, else the installation's default locale."""
    state = request.app.state
    locale = choose_locale(request.cookies.get(LANG_COOKIE), state.settings.locale)
    translators: dict[str, Translator] = state.translators
    return translators[locale]


async def request_translator(request: Request) -> Translator:
    """:func:`translator` as a dependency (``async``: it does no I/O, so it need not go to a thread)."""
    return translator(request)


def static_url(request: Request, path: str) -> str:
    """A static file's URL, versioned so browsers fetch it again after an upgrade."""
    return f"{request.scope.get('root_path', '')}/static/{path}?v={__version__}"


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page in the request's language; the top bar shows ``request.state.user`` when logged in."""
    _ = translator(request)
    locale = _.locale
    page: dict[str, Any] = {
        "_": _,
        "locale": locale,
        "user": getattr(request.state, "user", None),
        "role_labels": ROLE_LABELS,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request.session),
        "static": partial(static_url, request),
        "cny": partial(format_cny, locale=locale),
        "count": partial(format_count, locale=locale),
        "share": partial(format_share, locale=locale),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, page, status_code=status_code)
