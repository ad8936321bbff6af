"""Survey waves for staff: the list, creating a wave (with a preview of its segment), a wave's response
rate, issuing its links as a CSV for the mail merge, closing it; and the same under
``/api/v1/surveys``. Waves are run by branch managers, team leads and analysts and read by compliance
(:mod:`wealthcrm.surveys.distribution`, :mod:`wealthcrm.surveys.wave_stats`); every POST needs the
session's CSRF token (or a bearer token).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, DomainError, Invalid
from wealthcrm.surveys import distribution as waves
from wealthcrm.surveys import wave_stats as stats
from wealthcrm.surveys.distribution import (
    SAMPLE_MAX,
    SEED_MAX,
    TOKEN_ROLES,
    VIEW_ROLES,
    WAVE_ROLES,
    IssuedToken,
    Segment,
)
from wealthcrm.vocab import Stage, Tier
from wealthcrm.web import auth
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, RowId, TodayDate, require_role
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.overview import LABELS as TIER_LABELS
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import STAGE_LABELS

router = make_router()
CSRF = [Depends(auth.check_csrf)]
Reader = Annotated[SignedIn, Depends(require_role(*VIEW_ROLES))]
Runner = Annotated[SignedIn, Depends(require_role(*WAVE_ROLES))]
Issuer = Annotated[SignedIn, Depends(require_role(*TOKEN_ROLES))]
PAGE_SIZE = 25
DEFAULT_DAYS = 14
NO_CACHE = {"Cache-Control": "no-store"}
STATE_LABELS = {
    "scheduled": N_("Scheduled"),
    "open": N_("Open"),
    "ended": N_("Ended"),
    "closed": N_("Closed early"),
}
CSV_COLUMNS = ("wave_id", "customer_id", "rm_id", "link", "token", "closes_on")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _link(request: Request, token: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/s/{token}"


def _questionnaire(questionnaire_id: str) -> Any:
    found = waves.shipped_questionnaires().get(questionnaire_id)
    if found is None:
        raise Invalid(f"no questionnaire {questionnaire_id!r}")
    return found


# --- pages -------------------------------------------------------------------------------------------


@router.get("/surveys", include_in_schema=False)
def waves_page(
    request: Request,
    session: DbSession,
    user: Reader,
    on: TodayDate,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = stats.list_waves(session, user=user, today=on, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {
        "found": found,
        "page": page,
        "pages": pages,
        "state_labels": STATE_LABELS,
        "may_run": user.role in WAVE_ROLES,
    }
    return render(request, "surveys/waves.html", context)


def _form_context(session: Any, user: SignedIn, _: Translator, form: dict[str, Any]) -> dict[str, Any]:
    shipped = waves.shipped_questionnaires()
    return {
        "form": form,
        "questionnaires": [
            (q.id, (q.title.zh if _.locale == "zh_CN" else q.title.en) if q.title else q.id)
            for q in shipped.values()
        ],
        "tiers": [(t.value, _(TIER_LABELS[t.value])) for t in Tier],
        "stages": [(s.value, _(STAGE_LABELS[s.value])) for s in Stage],
        "rms": waves.rm_choices(session, user=user),
    }


@router.get("/surveys/waves/new", include_in_schema=False)
def new_wave_page(request: Request, session: DbSession, user: Runner, _: Gettext, on: TodayDate) -> Response:
    form = {
        "name": "",
        "questionnaire_id": next(iter(waves.shipped_questionnaires()), ""),
        "tiers": [],
        "stages": [],
        "rm_id": "",
        "sample_size": "",
        "seed": "",
        "opens_on": on.isoformat(),
        "closes_on": (on + timedelta(days=DEFAULT_DAYS)).isoformat(),
    }
    return render(request, "surveys/new_wave.html", _form_context(session, user, _, form))


def _int(text: str, name: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise Invalid(f"{name}: {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise Invalid(f"{name}: must be from {low} to {high:,}")
    return value


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def _segment(form: dict[str, Any]) -> Segment:
    try:
        tiers = tuple(Tier(t) for t in form["tiers"])
        stages = tuple(Stage(s) for s in form["stages"])
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return Segment(
        tiers=tiers,
        stages=stages,
        rm_id=form["rm_id"].strip() or None,
        sample_size=_int(form["sample_size"], "sample size", 1, SAMPLE_MAX),
        seed=_int(form["seed"], "seed", 0, SEED_MAX) or 0,
    )


@router.post("/surveys/waves/new", include_in_schema=False, dependencies=CSRF)
def create_wave_page(
    request: Request,
    session: DbSession,
    user: Runner,
    _: Gettext,
    on: TodayDate,
    action: Annotated[str, Form()] = "preview",
    name: Annotated[str, Form(max_length=200)] = "",
    questionnaire_id: Annotated[str, Form(max_length=40)] = "",
    tiers: Annotated[list[str] | None, Form()] = None,
    stages: Annotated[list[str] | None, Form()] = None,
    rm_id: Annotated[str, Form(max_length=32)] = "",
    sample_size: Annotated[str, Form(max_length=12)] = "",
    seed: Annotated[str, Form(max_length=12)] = "",
    opens_on: Annotated[str, Form(max_length=10)] = "",
    closes_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Preview the segment's size, or create the wave and go to it."""
    form = {
        "name": name,
        "questionnaire_id": questionnaire_id,
        "tiers": tiers or [],
        "stages": stages or [],
        "rm_id": rm_id,
        "sample_size": sample_size,
        "seed": seed,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    context = _form_context(session, user, _, form)
    try:
        segment = _segment(form)
        if action == "create":
            wave = waves.create_wave(
                session,
                user=user,
                name=name,
                questionnaire=_questionnaire(questionnaire_id),
                segment=segment,
                opens_on=_day(opens_on, "opens on"),
                closes_on=_day(closes_on, "closes on"),
                today=on,
                now=utcnow(),
            )
            return RedirectResponse(f"/surveys/waves/{wave.id}?created=1", status_code=303)
        context["preview"] = waves.preview(session, user=user, segment=segment)
    except DomainError as exc:
        context["error"] = _(str(exc))
        return render(request, "surveys/new_wave.html", context, 422)
    return render(request, "surveys/new_wave.html", context)


def _detail_page(
    request: Request,
    session: Any,
    user: SignedIn,
    _: Translator,
    settings: AppSettings,
    on: date,
    wave_id: int,
    **extra: Any,
) -> Response:
    status = extra.pop("status", 200)
    detail = stats.wave_detail(
        session, user=user, wave_id=wave_id, today=on, detractor_max=settings.alerts.detractor_max_score
    )
    context = {
        "wave": detail,
        "state_labels": STATE_LABELS,
        "tier_label": lambda code: _(TIER_LABELS.get(code) or code),
        "stage_label": lambda code: _(STAGE_LABELS.get(code) or code),
        **extra,
    }
    return render(request, "surveys/wave.html", context, status)


@router.get("/surveys/waves/{wave_id}", include_in_schema=False)
def wave_page(
    request: Request,
    wave_id: RowId,
    session: DbSession,
    user: Reader,
    _: Gettext,
    settings: AppSettings,
    on: TodayDate,
    created: bool = False,
    closed: bool = False,
) -> Response:
    done = N_("The wave was created.") if created else (N_("The wave was closed.") if closed else None)
    return _detail_page(request, session, user, _, settings, on, wave_id, done=done)


def tokens_csv(request: Request, wave_id: int, closes_on: date, issued: list[IssuedToken]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in issued:
        row = (wave_id, t.customer_id, t.rm_id, _link(request, t.token), t.token, closes_on.isoformat())
        writer.writerow([_cell(v) for v in row])
    headers = {
        **NO_CACHE,
        "Content-Disposition": f'attachment; filename="survey-wave-{wave_id}-links.csv"',
    }
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/surveys/waves/{wave_id}/tokens", include_in_schema=False, dependencies=CSRF)
def issue_tokens_page(
    request: Request,
    wave_id: RowId,
    session: DbSession,
    user: Issuer,
    _: Gettext,
    settings: AppSettings,
    on: TodayDate,
    reissue: Annotated[bool, Form()] = False,
) -> Response:
    """Issue the wave's links and download them once, as CSV (audited)."""
    try:
        issued = waves.issue_tokens(
            session, user=user, wave_id=wave_id, today=on, now=utcnow(), reissue=reissue
        )
    except Conflict as exc:
        return _detail_page(request, session, user, _, settings, on, wave_id, error=_(str(exc)), status=409)
    wave = waves.get_wave(session, user=user, wave_id=wave_id)
    return tokens_csv(request, wave_id, wave.closes_on, issued)


@router.post("/surveys/waves/{wave_id}/close", include_in_schema=False, dependencies=CSRF)
def close_wave_page(wave_id: RowId, session: DbSession, user: Runner) -> Response:
    waves.close_wave(session, user=user, wave_id=wave_id, now=utcnow())
    return RedirectResponse(f"/surveys/waves/{wave_id}?closed=1", status_code=303)


# --- /api/v1/surveys ---------------------------------------------------------------------------------


class WaveIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    questionnaire_id: str = Field("branch_default", max_length=40)
    tiers: list[Tier] = Field(default_factory=list, description="Any of these tiers (none: any tier).")
    stages: list[Stage] = Field(default_factory=list, description="Any of these lifecycle stages.")
    rm_id: str | None = Field(None, max_length=32, description="Only this RM's book.")
    sample_size: int | None = Field(None, ge=1, le=SAMPLE_MAX, description="A random sample of this many.")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="The sample's seed (same seed, same customers).")
    opens_on: date
    closes_on: date = Field(description="The last day answers are taken (inclusive).")


class TokensIn(BaseModel):
    reissue: bool = Field(False, description="Also replace unused tokens issued before (they stop working).")


def _detail_json(
    session: Any, user: SignedIn, wave_id: int, on: date, settings: AppSettings
) -> dict[str, Any]:
    detail = stats.wave_detail(
        session, user=user, wave_id=wave_id, today=on, detractor_max=settings.alerts.detractor_max_score
    )
    return detail.to_dict()


@router.get("/api/v1/surveys/waves", tags=["surveys"])
def waves_api(
    session: DbSession,
    user: Reader,
    on: TodayDate,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Survey waves with invitations in the caller's scope, newest first, with response counts."""
    found = stats.list_waves(session, user=user, today=on, limit=page_size, offset=(page - 1) * page_size)
    return {
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [r.to_dict() for r in found.rows],
    }


@router.post("/api/v1/surveys/waves", tags=["surveys"], status_code=201, dependencies=CSRF)
def create_wave_api(
    body: WaveIn, session: DbSession, user: Runner, on: TodayDate, settings: AppSettings
) -> dict[str, Any]:
    """Create a wave: one invitation per customer of the segment in the caller's scope (audited)."""
    segment = Segment(tuple(body.tiers), tuple(body.stages), body.rm_id, body.sample_size, body.seed)
    wave = waves.create_wave(
        session,
        user=user,
        name=body.name,
        questionnaire=_questionnaire(body.questionnaire_id),
        segment=segment,
        opens_on=body.opens_on,
        closes_on=body.closes_on,
        today=on,
        now=utcnow(),
    )
    return _detail_json(session, user, wave.id, on, settings)


@router.get("/api/v1/surveys/waves/{wave_id}", tags=["surveys"])
def wave_api(
    wave_id: RowId, session: DbSession, user: Reader, on: TodayDate, settings: AppSettings
) -> dict[str, Any]:
    """One wave: its segment, response rate (overall and by RM) and NPS so far, in the caller's scope."""
    return _detail_json(session, user, wave_id, on, settings)


@router.post("/api/v1/surveys/waves/{wave_id}/tokens", tags=["surveys"], dependencies=CSRF)
def tokens_api(
    request: Request,
    wave_id: RowId,
    session: DbSession,
    user: Issuer,
    on: TodayDate,
    body: TokensIn | None = None,
) -> dict[str, Any]:
    """Issue the links of the unanswered invitations in the caller's scope; returned once (audited)."""
    reissue = body is not None and body.reissue
    issued = waves.issue_tokens(session, user=user, wave_id=wave_id, today=on, now=utcnow(), reissue=reissue)
    return {
        "wave_id": wave_id,
        "count": len(issued),
        "items": [
            {
                "customer_id": t.customer_id,
                "rm_id": t.rm_id,
                "token": t.token,
                "link": _link(request, t.token),
            }
            for t in issued
        ],
    }


@router.post("/api/v1/surveys/waves/{wave_id}/close", tags=["surveys"], dependencies=CSRF)
def close_api(
    wave_id: RowId, session: DbSession, user: Runner, on: TodayDate, settings: AppSettings
) -> dict[str, Any]:
    """Stop the wave taking answers now (its creator or a branch manager; audited)."""
    waves.close_wave(session, user=user, wave_id=wave_id, now=utcnow())
    return _detail_json(session, user, wave_id, on, settings)
