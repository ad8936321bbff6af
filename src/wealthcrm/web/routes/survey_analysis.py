"""Survey analysis: the report of the stored answers (the customers in scope), as a page of the app, as
one HTML file and as an XLSX workbook, and the analysis as JSON.

For analysts, branch managers and team leads; a team lead's analysis covers the team's customers only
(:mod:`wealthcrm.surveys.report_data`). Downloads are audited. The report's chart script and style
sheet are served from here (``/surveys/analysis/assets/…``): they live with the report's templates,
which the command line uses too, and the app's content security policy wants them as files.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from wealthcrm import __version__
from wealthcrm.errors import NotFound
from wealthcrm.surveys import report as survey_report
from wealthcrm.surveys.customer import known_questionnaires
from wealthcrm.surveys.report_data import (
    AnalysisCache,
    StoredAnalysis,
    analyse_stored,
    pick_questionnaire,
    questionnaires_answered,
    record_download,
)
from wealthcrm.surveys.report_xlsx import xlsx_bytes
from wealthcrm.vocab import Role
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import DbSession, Gettext, TodayDate, require_role
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()

ANALYSIS_ROLES = (Role.analyst, Role.branch_manager, Role.team_lead)
AnalysisUser = Annotated[SignedIn, Depends(require_role(*ANALYSIS_ROLES))]
QuestionnaireParam = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Questionnaire id; default: the first one answered in your scope.",
    ),
]
MissingParam = Annotated[
    Literal["pairwise", "listwise"], Query(description="Missing answers: pairwise or listwise.")
]
ModelsParam = Annotated[bool, Query(description="Fit the CFA and the structural model (the slow part).")]
LangParam = Annotated[
    Literal["zh_CN", "en"] | None, Query(description="Language of the file; default: the page's.")
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cache(request: Request) -> AnalysisCache:
    """The app's analysis cache (created on first use: the app factory need not know about it)."""
    state = request.app.state
    cache: AnalysisCache | None = getattr(state, "survey_analysis_cache", None)
    if cache is None:
        cache = AnalysisCache()
        state.survey_analysis_cache = cache
    return cache


def _analysis(
    request: Request,
    session: Session,
    user: SignedIn,
    questionnaire: str | None,
    missing: str,
    models: bool,
) -> tuple[StoredAnalysis | None, dict[str, int], list[str]]:
    """The analysis (None without answers), respondents per questionnaire in scope, the known ids."""
    known = known_questionnaires(session)
    answered = questionnaires_answered(session, user=user)
    q = pick_questionnaire(known, list(answered), questionnaire)
    found = analyse_stored(
        session, user=user, questionnaire=q, missing=missing, models=models, cache=_cache(request)
    )
    return found, answered, sorted(set(known) | set(answered))


def _source(user: SignedIn, _: Any) -> str:
    if user.role is Role.team_lead:
        return str(_("Stored answers of your team's customers"))
    return str(_("Stored answers of the branch's customers"))


def _build(analysis: StoredAnalysis, locale: survey_report.Locale, source: str) -> survey_report.Report:
    return survey_report.build_report(
        analysis.result, analysis.questionnaire, locale=locale, profile=analysis.profile, source=source
    )


def _found(analysis: StoredAnalysis | None, questionnaire: str | None) -> StoredAnalysis:
    if analysis is None:
        raise NotFound(f"no stored answers to questionnaire {questionnaire or 'any'} in your scope")
    return analysis


@router.get("/api/v1/surveys/analysis", tags=["surveys"])
def analysis_api(
    request: Request,
    session: DbSession,
    user: AnalysisUser,
    questionnaire: QuestionnaireParam = None,
    missing: MissingParam = "pairwise",
    models: ModelsParam = True,
) -> dict[str, Any]:
    """The analysis of the stored answers in your scope (the JSON of `wealthcrm survey analyze`)."""
    analysis, _answered, _known = _analysis(request, session, user, questionnaire, missing, models)
    found = _found(analysis, questionnaire)
    return {"questionnaire": found.questionnaire.id, "profile": found.profile, "result": found.result}


@router.get("/surveys/analysis", include_in_schema=False)
def analysis_page(
    request: Request,
    session: DbSession,
    user: AnalysisUser,
    _: Gettext,
    questionnaire: QuestionnaireParam = None,
    missing: MissingParam = "pairwise",
    models: ModelsParam = True,
) -> Response:
    analysis, answered, known = _analysis(request, session, user, questionnaire, missing, models)
    context: dict[str, Any] = {
        "analysis": analysis,
        "answered": answered,
        "known": known,
        "missing": missing,
        "models": models,
        "team_only": user.role is Role.team_lead,
        "asset_version": __version__,
    }
    if analysis is not None:
        params = {
            "questionnaire": analysis.questionnaire.id,
            "missing": missing,
            "models": str(models).lower(),
        }
        context |= {
            "selected": analysis.questionnaire.id,
            "report_html": survey_report.render_fragment(_build(analysis, _.locale, _source(user, _))),
            "download_query": urlencode(params | {"lang": _.locale}),
        }
    else:
        context["selected"] = questionnaire or next(iter(answered), None)
    return render(request, "survey_analysis/page.html", context)


def _filename(analysis: StoredAnalysis, on: date, ext: str) -> str:
    return f"survey-{analysis.questionnaire.id}-{on.isoformat()}.{ext}"


@router.get("/surveys/analysis/report.{fmt}", include_in_schema=False)
def report_file(
    request: Request,
    session: DbSession,
    user: AnalysisUser,
    on: TodayDate,
    _: Gettext,
    fmt: Literal["html", "xlsx"],
    questionnaire: QuestionnaireParam = None,
    missing: MissingParam = "pairwise",
    models: ModelsParam = True,
    lang: LangParam = None,
) -> Response:
    """The report as one self-contained HTML file or as the XLSX workbook of its tables (audited)."""
    analysis = _found(_analysis(request, session, user, questionnaire, missing, models)[0], questionnaire)
    locale = lang or _.locale
    report = _build(analysis, locale, _source(user, survey_report.translator(locale)))
    if fmt == "html":
        content: str | bytes = survey_report.render_html(report)
        media_type = "text/html; charset=utf-8"
    else:
        content, media_type = xlsx_bytes(report), XLSX_TYPE
    record_download(session, actor=user, analysis=analysis, fmt=fmt, locale=locale)
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(analysis, on, fmt)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/surveys/analysis/assets/{name}", include_in_schema=False)
def report_asset(name: str) -> Response:
    """The report's chart script and style sheet (public, like the app's static files)."""
    if name not in survey_report.ASSETS:
        raise NotFound(f"no asset {name!r}")
    return Response(
        survey_report.asset(name),
        media_type=f"{survey_report.ASSETS[name]}; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )
