"""The public survey form, ``/s/<token>``: no login, only the one-time token of the customer's link.

- the page is in the questionnaire's languages: ``?lang=zh_CN|en`` (remembered in the ``lang``
  cookie), else the cookie, else the installation's default; the texts are the questionnaire's own;
- requests are rate-limited per client address and per token (``settings.surveys``); over the limit
  the answer is a 429 page with ``Retry-After``;
- the POST carries the session's CSRF token, as every form of the app does (:mod:`wealthcrm.web.auth`);
  an expired one re-shows the filled-in form instead of losing the answers;
- an unknown link is a 404 page, a used link or an ended survey a 410 page, a survey not open yet a
  409 page — always the survey's own friendly page, never an error page of the staff application.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from wealthcrm.config import SurveySettings
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, NotFound
from wealthcrm.surveys import responses
from wealthcrm.surveys.distribution import hash_token
from wealthcrm.surveys.questionnaire import LocalText, Questionnaire
from wealthcrm.surveys.responses import AnswersInvalid, TokenUnknown, TokenUsed, WaveEnded, WaveNotOpen
from wealthcrm.web.auth import CSRF_FIELD, csrf_token
from wealthcrm.web.deps import AppSettings, DbSession, TodayDate, client_ip
from wealthcrm.web.i18n import LANG_COOKIE, LOCALES, N_, Locale, Translator, choose_locale
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import static_url

router = make_router()
ONE_YEAR = 365 * 24 * 3600
NO_STORE = {"Cache-Control": "no-store"}

PROBLEM_TEXT = {
    "required": N_("Please answer this question."),
    "whole_number": N_("Please choose one of the answers."),
    "out_of_range": N_("Please choose one of the answers."),
    "option": N_("Please choose one of the answers."),
    "too_long": N_("Please shorten your answer to {n} characters."),
    "bad_character": N_("Your answer holds a character that cannot be stored."),
}
UNKNOWN_ITEM = N_("The form does not match this survey. Please reload the page and answer again.")
FORM_EXPIRED = N_(
    "The page was open for a long time, so your answers were not sent yet. Please submit again."
)
NOT_VALID = N_("This survey link is not valid")
NOT_VALID_TEXT = N_(
    "Please check that the whole link from your invitation was opened. "
    "If it was sent again, only the newest link works."
)
USED = N_("This survey has already been answered")
USED_TEXT = N_("Thank you: your answers have been received. Each invitation can be answered once.")
ENDED = N_("This survey has ended")
ENDED_TEXT = N_("Thank you for your interest: the survey no longer takes answers.")
NOT_OPEN = N_("This survey is not open yet")
NOT_OPEN_TEXT = N_("Please come back on {date}.")
TOO_MANY = N_("Too many requests")
TOO_MANY_TEXT = N_("Please wait {minutes} minutes and try again.")


# --- rate limits -------------------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds (a sliding log per key).

    In-process: each server process counts on its own, which is enough to stop one client hammering the
    form; keys whose hits have all expired are dropped when the table grows."""

    limit: int
    window: float
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count a hit; None when allowed, else the seconds until the key may try again."""
        at = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 10_000:
                for stale in [k for k, q in self._hits.items() if not q or q[-1] <= at - self.window]:
                    del self._hits[stale]
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - at
            hits.append(at)
            return None


@dataclass
class FormLimits:
    per_ip: RateLimiter
    per_token: RateLimiter

    @classmethod
    def of(cls, s: SurveySettings) -> FormLimits:
        return cls(
            RateLimiter(s.form_ip_requests, s.form_window_seconds),
            RateLimiter(s.form_token_requests, s.form_window_seconds),
        )


async def form_limits(request: Request, settings: AppSettings) -> FormLimits:
    """The app's limiters, made on first use (kept on ``app.state``, so each app counts on its own)."""
    limits: FormLimits | None = getattr(request.app.state, "survey_form_limits", None)
    if limits is None:
        limits = FormLimits.of(settings.surveys)
        request.app.state.survey_form_limits = limits
    return limits


Limits = Annotated[FormLimits, Depends(form_limits)]


def _retry_after(request: Request, limits: FormLimits, token: str) -> float | None:
    wait = limits.per_ip.hit(client_ip(request) or "unknown")
    if wait is None:
        wait = limits.per_token.hit(hash_token(token))
    return wait


# --- pages -------------------------------------------------------------------------------------------


def page_locale(request: Request, lang: str | None) -> Locale:
    if lang in LOCALES:
        return lang
    return choose_locale(request.cookies.get(LANG_COOKIE), request.app.state.settings.locale)


def render_public(
    request: Request,
    template: str,
    locale: Locale,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A public page (no staff top bar) in ``locale``; the chosen language is remembered."""
    translators: dict[str, Translator] = request.app.state.translators
    _ = translators[locale]
    page = {
        "_": _,
        "locale": locale,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request.session),
        "static": partial(static_url, request),
        "path": request.url.path,
        **context,
    }
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, template, page, status_code=status, headers={**NO_STORE, **(headers or {})}
    )
    if request.query_params.get("lang") == locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return response


def _message(
    request: Request,
    locale: Locale,
    status: int,
    title: str,
    text: str,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {"status": status, "title": title, "text": text, "q_title": None}
    return render_public(request, "surveys/public_message.html", locale, context, status, headers)


def _refusal(request: Request, locale: Locale, exc: Exception) -> Response:
    """The friendly page of a token that cannot be used."""
    _ = request.app.state.translators[locale]
    if isinstance(exc, TokenUsed):
        return _message(request, locale, 410, _(USED), _(USED_TEXT))
    if isinstance(exc, WaveEnded):
        return _message(request, locale, 410, _(ENDED), _(ENDED_TEXT))
    if isinstance(exc, WaveNotOpen):
        return _message(
            request, locale, 409, _(NOT_OPEN), _(NOT_OPEN_TEXT).format(date=exc.opens_on.isoformat())
        )
    return _message(request, locale, 404, _(NOT_VALID), _(NOT_VALID_TEXT))


def _too_many(request: Request, locale: Locale, wait: float) -> Response:
    _ = request.app.state.translators[locale]
    minutes = max(1, math.ceil(wait / 60))
    text = _(TOO_MANY_TEXT).format(minutes=minutes)
    return _message(request, locale, 429, _(TOO_MANY), text, {"Retry-After": str(math.ceil(wait))})


# --- the form's layout -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormItem:
    id: str
    kind: str  # likert, nps, single, multiple, text
    text: str
    required: bool
    points: list[tuple[str, str]]  # (value, label) of the radio buttons or check boxes


@dataclass(frozen=True, slots=True)
class FormSection:
    title: str
    items: list[FormItem]


def _local(text: LocalText | None, locale: Locale, fallback: str) -> str:
    if text is None:
        return fallback
    return text.zh if locale == "zh_CN" else text.en


def form_sections(q: Questionnaire, locale: Locale, _: Translator) -> list[FormSection]:
    """The questions in order: each dimension, the overall questions, other questions, about you."""
    items = q.item_map()
    required = set(responses.required_items(q))
    lang: Literal["zh", "en"] = "zh" if locale == "zh_CN" else "en"

    def item(item_id: str) -> FormItem:
        it = items[item_id]
        points: list[tuple[str, str]] = []
        if it.type in ("single", "multiple"):
            points = [(str(o.code), _local(o.label, locale, str(o.code))) for o in it.options]
        elif it.type in ("likert", "nps"):
            lo, hi = q.scale_of(item_id)
            labels = (it.scale or q.scale).labels.get(lang) if it.type == "likert" else None
            points = [(str(v), labels[v - lo] if labels else str(v)) for v in range(lo, hi + 1)]
        return FormItem(item_id, it.type, _local(it.text, locale, item_id), item_id in required, points)

    sections: list[FormSection] = []
    placed: set[str] = set()
    for d in q.dimensions:
        ids = [*d.items, *d.expectations.values()]
        sections.append(FormSection(_local(d.name, locale, d.id), [item(i) for i in ids]))
        placed.update(ids)
    overall = [*q.outcomes.satisfaction, *q.outcomes.loyalty, *([q.outcomes.nps] if q.outcomes.nps else [])]
    if overall:
        sections.append(FormSection(_("Overall"), [item(i) for i in overall]))
        placed.update(overall)
    others = [i.id for i in q.items if i.id not in placed and i.id not in q.profile]
    if others:
        sections.append(FormSection(_("Other questions"), [item(i) for i in others]))
    if q.profile:
        sections.append(FormSection(_("About you"), [item(i) for i in q.profile]))
    return sections


def _form(
    request: Request,
    locale: Locale,
    opened: responses.Opened,
    token: str,
    *,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    _ = request.app.state.translators[locale]
    q = opened.questionnaire
    sections = form_sections(q, locale, _)
    context = {
        "q_title": _local(q.title, locale, q.id),
        "sections": sections,
        "item_texts": {i.id: i.text for s in sections for i in s.items},
        "token": token,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "closes_on": opened.wave.closes_on,
        "text_max": responses.TEXT_MAX,
    }
    return render_public(request, "surveys/public_form.html", locale, context, status)


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The POSTed fields, every value of each (check boxes send several)."""
    form = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


Posted = Annotated[dict[str, list[str]], Depends(posted_form)]


@router.get("/s/thanks", include_in_schema=False)
def thanks(request: Request, lang: str | None = None) -> Response:
    """After a submission (its own URL, so reloading it sends nothing twice)."""
    locale = page_locale(request, lang)
    return render_public(request, "surveys/public_thanks.html", locale, {"q_title": None})


@router.get("/s/{token}", include_in_schema=False)
def survey_form(
    request: Request, token: str, session: DbSession, on: TodayDate, limits: Limits, lang: str | None = None
) -> Response:
    locale = page_locale(request, lang)
    wait = _retry_after(request, limits, token)
    if wait is not None:
        return _too_many(request, locale, wait)
    try:
        opened = responses.open_token(session, token=token, today=on)
    except (NotFound, Conflict) as exc:
        return _refusal(request, locale, exc)
    return _form(request, locale, opened, token)


@router.get("/s/{token}/{rest:path}", include_in_schema=False)
def survey_link_damaged(request: Request, token: str, rest: str, lang: str | None = None) -> Response:
    """A link with more after the token (mangled by a mail client): the friendly "not valid" page."""
    locale = page_locale(request, lang)
    return _refusal(request, locale, TokenUnknown("this survey link is not valid"))


@router.post("/s/{token}", include_in_schema=False)
def submit_survey(
    request: Request,
    token: str,
    session: DbSession,
    settings: AppSettings,
    on: TodayDate,
    limits: Limits,
    posted: Posted,
    lang: str | None = None,
) -> Response:
    locale = page_locale(request, lang)
    wait = _retry_after(request, limits, token)
    if wait is not None:
        return _too_many(request, locale, wait)
    _ = request.app.state.translators[locale]
    answers = {k: v for k, v in posted.items() if k != CSRF_FIELD}
    try:
        opened = responses.open_token(session, token=token, today=on)
        expected = request.session.get("csrf")
        sent = (posted.get(CSRF_FIELD) or [""])[0]
        if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            return _form(request, locale, opened, token, values=answers, message=_(FORM_EXPIRED), status=403)
        responses.submit(session, token=token, answers=answers, today=on, now=utcnow(), settings=settings)
    except AnswersInvalid as exc:
        errors: dict[str, str] = {}
        message = None
        for p in exc.problems:
            if p.code == "unknown" or p.code not in PROBLEM_TEXT:
                message = _(UNKNOWN_ITEM)
            else:
                errors.setdefault(p.item_id, _(PROBLEM_TEXT[p.code]).format(n=responses.TEXT_MAX))
        return _form(
            request, locale, opened, token, values=answers, errors=errors, message=message, status=422
        )
    except (NotFound, Conflict) as exc:
        return _refusal(request, locale, exc)
    return RedirectResponse(f"/s/thanks?lang={locale}", status_code=303, headers=NO_STORE)
