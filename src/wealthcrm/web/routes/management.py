"""Pages and API for team leads and branch managers: RM scorecards, workload and rebalancing, and the
monthly management report. RMs see their own scorecard (with their team's and the branch's as
benchmarks) and nothing else here.

- scorecards (:mod:`wealthcrm.scorecards.service`, scoped by its ``readable``): ``/scorecards``,
  ``/scorecards/rm/{staff_id}``, ``/api/v1/scorecards…``;
- workload (:mod:`wealthcrm.staff.workload`): ``/workload`` (leads and managers), a confirmation page
  before the proposal is applied through the reassignment service, ``/api/v1/workload…``;
- the monthly report (:mod:`wealthcrm.reports`): ``/reports/monthly`` and its downloads (HTML, PDF,
  XLSX in zh_CN and en), ``/api/v1/reports/monthly…``, for branch managers and compliance (it holds
  every team's RM scorecards).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.responses import FileResponse, RedirectResponse, Response

from wealthcrm.customers import reassign
from wealthcrm.errors import Invalid, NotFound
from wealthcrm.holdings.service import latest_month, month_range
from wealthcrm.reports import monthly
from wealthcrm.reports.document import Report
from wealthcrm.reports.files import FORMATS, MEDIA_TYPES, render
from wealthcrm.reports.html import CSS, JS, chart_json, render_body
from wealthcrm.reports.i18n import LANGS, Lang, report_dict, translator
from wealthcrm.reports.months import mno, month_of, parse_month
from wealthcrm.scorecards import service as scorecards
from wealthcrm.scorecards.metrics import METRICS, Group, Unit
from wealthcrm.scorecards.models import ScorecardLevel
from wealthcrm.staff import service as staff
from wealthcrm.staff import workload
from wealthcrm.vocab import Role
from wealthcrm.web.auth import SignedIn, check_csrf
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, TodayDate, require_role
from wealthcrm.web.format import format_cny, format_count, format_share
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render as render_page

router = make_router()

SCORECARD_ROLES = (Role.rm, Role.team_lead, Role.branch_manager, Role.auditor)
REPORT_ROLES = (Role.branch_manager, Role.auditor)
ScorecardUser = Annotated[SignedIn, Depends(require_role(*SCORECARD_ROLES))]
LeadUser = Annotated[SignedIn, Depends(require_role(Role.team_lead, Role.branch_manager))]
ReportUser = Annotated[SignedIn, Depends(require_role(*REPORT_ROLES))]
MonthParam = Annotated[str | None, Query(max_length=7, description="YYYY-MM; default: the latest.")]
TeamParam = Annotated[str | None, Query(max_length=32, description="Team id; default: the user's scope.")]
StaffId = Annotated[str, PathParam(max_length=32, description="Staff id of the RM.")]
LangParam = Annotated[str | None, Query(max_length=5, description="zh_CN or en; default: the page's.")]
GROUP_LABELS = {
    Group.book: N_("The book"),
    Group.retention: N_("Retention against the model"),
    Group.activity: N_("Activity"),
    Group.compliance: N_("Compliance"),
    Group.service: N_("Service"),
    Group.surveys: N_("Surveys"),
}
LEVEL_LABELS = {"rm": N_("Relationship manager"), "team": N_("Team"), "branch": N_("Branch")}
TIER_LABELS = {
    "mass": N_("Mass"),
    "gold": N_("Gold"),
    "sunflower": N_("Sunflower"),
    "diamond": N_("Diamond"),
    "private": N_("Private banking"),
}


def _month(text: str | None) -> date | None:
    return None if not text else parse_month(text)


def _lang(text: str | None, _: Translator) -> Lang:
    if text is None:
        return _.locale
    if text not in LANGS:
        raise Invalid(f"lang: {text!r} is not one of {', '.join(LANGS)}")
    return text


def figure_formatter(locale: str) -> Any:
    """How a scorecard figure is shown: by its metric's unit, in the page's language."""

    def show(value: float | None, key: str) -> str:
        if value is None:
            return "–"
        unit = METRICS[key].unit
        if unit is Unit.number:
            return format_count(round(value), locale)
        if unit is Unit.cny:
            return format_cny(value, locale)
        if unit is Unit.share:
            return format_share(value, locale)
        return f"{value:,.1f}" if unit is Unit.points else f"{value:,.2f}"

    return show


def _groups(_: Translator) -> list[tuple[Group, str, list[str]]]:
    """Each group of figures: its label and its metrics' keys, in METRICS order."""
    return [
        (g, _(label), [k for k, m in METRICS.items() if m.group is g]) for g, label in GROUP_LABELS.items()
    ]


def _metrics(locale: str) -> list[dict[str, Any]]:
    return [
        {"key": k, "group": m.group.value, "label": m.label(locale), "definition": m.definition(locale)}
        for k, m in METRICS.items()
    ]


# --- scorecards -------------------------------------------------------------------------------------------


def _scorecards(session: DbSession, user: SignedIn, month: str | None) -> scorecards.Scorecards | None:
    wanted = _month(month)
    if wanted is None:
        stored = scorecards.months(session)
        if not stored:
            return None
        wanted = stored[0]
    return scorecards.get(session, month=wanted, user=user)


def _filter_team(found: scorecards.Scorecards, team_id: str | None) -> list[scorecards.ScorecardRow]:
    rows = found.rows
    if team_id is not None:
        if not any(r.level is ScorecardLevel.team and r.unit_id == team_id for r in rows):
            raise NotFound(f"no team {team_id!r} in the scorecards of {found.month:%Y-%m}")
        rows = [r for r in rows if r.team_id == team_id or r.level is ScorecardLevel.branch]
    order = {ScorecardLevel.rm: 0, ScorecardLevel.team: 1, ScorecardLevel.branch: 2}
    return sorted(rows, key=lambda r: (order[r.level], r.team_id or "", r.unit_id))


@router.get("/api/v1/scorecards/metrics", tags=["scorecards"])
def metrics_api(user: ScorecardUser, _: Gettext) -> dict[str, Any]:
    """Every scorecard figure: key, group, unit and its definition in the user's language."""
    return {"metrics": [m.to_dict() for m in METRICS.values()]}


@router.get("/api/v1/scorecards", tags=["scorecards"])
def scorecards_api(
    session: DbSession, user: ScorecardUser, month: MonthParam = None, team_id: TeamParam = None
) -> dict[str, Any]:
    """The month's scorecards the user may read: an RM their own with their team's and the branch's,
    a team lead the team's, a branch manager or compliance every one (``team_id`` narrows to a team)."""
    found = _scorecards(session, user, month)
    if found is None:
        raise NotFound("no scorecards yet: run `wealthcrm scorecard compute --month YYYY-MM`")
    rows = _filter_team(found, team_id)
    return found.to_dict() | {"rows": [r.to_dict() for r in rows]}


@router.get("/api/v1/scorecards/rm/{staff_id}", tags=["scorecards"])
def rm_history_api(
    session: DbSession,
    user: ScorecardUser,
    staff_id: StaffId,
    month: MonthParam = None,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> dict[str, Any]:
    """One RM's figures month by month up to ``month`` (an RM may ask only for their own)."""
    found = _scorecards(session, user, month)
    if found is None:
        raise NotFound("no scorecards yet: run `wealthcrm scorecard compute --month YYYY-MM`")
    found.rm(staff_id)  # NotFound when the RM is outside what the user may read
    history = scorecards.history(
        session, user=user, level=ScorecardLevel.rm, unit_id=staff_id, until=found.month, months=months
    )
    return {"staff_id": staff_id, "history": [{"month": f"{m:%Y-%m}", "figures": f} for m, f in history]}


@router.get("/scorecards", include_in_schema=False)
def scorecards_page(
    request: Request,
    session: DbSession,
    user: ScorecardUser,
    _: Gettext,
    month: MonthParam = None,
    team_id: TeamParam = None,
) -> Response:
    found = _scorecards(session, user, month)
    context: dict[str, Any] = {
        "found": found,
        "months": [f"{m:%Y-%m}" for m in scorecards.months(session)],
        "metrics": _metrics(_.locale),
        "show": figure_formatter(_.locale),
        "groups": [
            (g, _(label), [k for k, m in METRICS.items() if m.group is g])
            for g, label in GROUP_LABELS.items()
        ],
        "level_label": lambda level: _(LEVEL_LABELS[level.value]),
        "team_id": team_id,
    }
    if found is not None and user.role is Role.rm:
        own = [r for r in found.rows if r.level is ScorecardLevel.rm and r.unit_id == user.staff_id]
        if not own:
            raise NotFound(f"no scorecard of yours in {found.month:%Y-%m}")
        context |= {"own": own[0], "benchmarks": [r for r in found.rows if r.level is not ScorecardLevel.rm]}
        return render_page(request, "management/scorecard_rm.html", context)
    if found is not None:
        context |= {"rows": _filter_team(found, team_id), "teams": found.teams}
    return render_page(request, "management/scorecards.html", context)


@router.get("/scorecards/rm/{staff_id}", include_in_schema=False)
def rm_scorecard_page(
    request: Request,
    session: DbSession,
    user: ScorecardUser,
    _: Gettext,
    staff_id: StaffId,
    month: MonthParam = None,
) -> Response:
    found = _scorecards(session, user, month)
    if found is None:
        raise NotFound("no scorecards yet")
    own = found.rm(staff_id)  # NotFound outside the reader's scope: scorecards.get read only those
    team = [r for r in found.rows if r.level is ScorecardLevel.team and r.unit_id == own.team_id]
    branch = [r for r in found.rows if r.level is ScorecardLevel.branch]
    history = scorecards.history(
        session, user=user, level=ScorecardLevel.rm, unit_id=staff_id, until=found.month, months=12
    )
    context = {
        "found": found,
        "own": own,
        "benchmarks": team + branch,
        "history": history,
        "months": [f"{m:%Y-%m}" for m in scorecards.months(session)],
        "metrics": _metrics(_.locale),
        "show": figure_formatter(_.locale),
        "groups": [
            (g, _(label), [k for k, m in METRICS.items() if m.group is g])
            for g, label in GROUP_LABELS.items()
        ],
        "level_label": lambda level: _(LEVEL_LABELS[level.value]),
    }
    return render_page(request, "management/scorecard_rm.html", context)


# --- workload ---------------------------------------------------------------------------------------------


class ApplyIn(BaseModel):
    team_id: str | None = Field(None, max_length=32, description="The team; none: the branch (managers).")
    digest: str = Field(max_length=64, description="The digest of the proposal as shown.")
    note: str = Field(max_length=reassign.MAX_NOTE, description="The handover note for the new RMs.")


@router.get("/api/v1/workload", tags=["workload"])
def workload_api(
    session: DbSession, settings: AppSettings, user: LeadUser, team_id: TeamParam = None
) -> dict[str, Any]:
    """Customers per RM and tier against the targets, and the rebalancing proposal (moves, before and
    after, excess without room, the digest to apply it with)."""
    return workload.proposal(session, user=user, team_id=team_id, settings=settings).to_dict()


@router.post("/api/v1/workload/apply", tags=["workload"], dependencies=[Depends(check_csrf)])
def workload_apply_api(
    session: DbSession, settings: AppSettings, user: LeadUser, on: TodayDate, body: ApplyIn
) -> dict[str, Any]:
    """Apply the proposal with ``digest`` (409 when it has changed): handover task, audit entry each."""
    moved = workload.apply_proposal(
        session, user=user, team_id=body.team_id, digest=body.digest, note=body.note, on=on, settings=settings
    )
    return {"moved": len(moved), "items": [m.to_dict() for m in moved]}


@router.get("/api/v1/workload/departures", tags=["workload"])
def departures_api(
    session: DbSession, settings: AppSettings, user: LeadUser, team_id: TeamParam = None
) -> dict[str, Any]:
    """Customers handed over when RMs left, lost within 3 and 6 months, against the branch's base rate."""
    scope, _ = workload.scoped_rms(session, user=user, team_id=team_id)
    return workload.departure_outcomes(session, settings=settings, team_id=scope).to_dict()


def _workload_context(
    session: DbSession, settings: AppSettings, user: SignedIn, _: Translator, team_id: str | None
) -> dict[str, Any]:
    found = workload.proposal(session, user=user, team_id=team_id, settings=settings)
    names = {r.staff_id: r.name for r in found.before}
    return {
        "found": found,
        "names": names,
        "tiers": [(t, _(TIER_LABELS[t])) for t, n in found.targets.items() if n > 0],
        "teams": staff.teams_for(session, user=user),
        "is_manager": user.role is Role.branch_manager,
        "after": {r.staff_id: r for r in found.after},
        "tier_label": lambda t: _(TIER_LABELS.get(t or "", N_("Not scored"))),
    }


@router.get("/workload", include_in_schema=False)
def workload_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: LeadUser,
    _: Gettext,
    team_id: TeamParam = None,
) -> Response:
    context = _workload_context(session, settings, user, _, team_id or None)
    outcomes = workload.departure_outcomes(session, settings=settings, team_id=context["found"].team_id)
    context |= {"outcomes": outcomes, "moved": request.query_params.get("moved", "")}
    return render_page(request, "management/workload.html", context)


@router.get("/workload/confirm", include_in_schema=False)
def workload_confirm_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: LeadUser,
    _: Gettext,
    digest: Annotated[str, Query(max_length=64)],
    team_id: TeamParam = None,
) -> Response:
    context = _workload_context(session, settings, user, _, team_id or None)
    context["stale"] = digest != context["found"].digest
    return render_page(request, "management/workload_confirm.html", context)


@router.post("/workload/apply", include_in_schema=False, dependencies=[Depends(check_csrf)])
def workload_apply_form(
    session: DbSession,
    settings: AppSettings,
    user: LeadUser,
    on: TodayDate,
    digest: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=reassign.MAX_NOTE)],
    confirm: Annotated[str | None, Form(max_length=3)] = None,
    team_id: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    if confirm != "yes":
        raise Invalid("confirm: tick the box to confirm the moves")
    moved = workload.apply_proposal(
        session, user=user, team_id=team_id or None, digest=digest, note=note, on=on, settings=settings
    )
    params = {"moved": len(moved)} | ({"team_id": team_id} if team_id else {})
    return RedirectResponse(f"/workload?{urlencode(params)}", status_code=303)


# --- the monthly report -----------------------------------------------------------------------------------


def _report(session: DbSession, settings: AppSettings, month: str | None) -> Report:
    wanted = _month(month) or latest_month(session)
    if wanted is None:
        raise NotFound("no AUM data yet: import the bank's files first")
    return monthly.build(session, month=wanted, settings=settings)


def _download(report: Report, lang: Lang, filename: str) -> Response:
    stem, _, fmt = filename.partition(".")
    if stem != "report" or fmt not in FORMATS:
        raise NotFound(f"no file {filename!r}: report.html, report.pdf or report.xlsx")
    name = f"monthly-report-{report.month:%Y-%m}-{lang}.{fmt}"
    return Response(
        render(report, translator(lang), fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/api/v1/reports/monthly", tags=["reports"])
def monthly_api(
    session: DbSession,
    settings: AppSettings,
    user: ReportUser,
    _: Gettext,
    month: MonthParam = None,
    lang: LangParam = None,
) -> dict[str, Any]:
    """The monthly management report as JSON: every section's figures, tables (raw numbers), charts and
    definitions, the words in ``lang``."""
    return report_dict(_report(session, settings, month), translator(_lang(lang, _)))


@router.get("/api/v1/reports/monthly/{month}/{filename}", tags=["reports"])
@router.get("/reports/monthly/{month}/{filename}", include_in_schema=False)
def monthly_file_api(
    session: DbSession,
    settings: AppSettings,
    user: ReportUser,
    _: Gettext,
    month: str,
    filename: str,
    lang: LangParam = None,
) -> Response:
    """The report as a file: ``report.html`` (self-contained), ``report.pdf`` or ``report.xlsx`` (the
    page's download links and the API are one route)."""
    return _download(_report(session, settings, month), _lang(lang, _), filename)


@router.get("/reports/assets/{name}", include_in_schema=False)
def report_asset(name: str) -> Response:
    """The report's own stylesheet and chart script (the web page links what the file inlines)."""
    files: dict[str, tuple[Path, str]] = {
        "report.css": (CSS, "text/css"),
        "report.js": (JS, "text/javascript"),
    }
    if name not in files:
        raise NotFound(f"no asset {name!r}")
    path, media = files[name]
    return FileResponse(path, media_type=media)


@router.get("/reports/monthly", include_in_schema=False)
def monthly_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ReportUser,
    _: Gettext,
    month: MonthParam = None,
) -> Response:
    report = _report(session, settings, month)
    tr = translator(_.locale)
    found = month_range(session)
    months = []
    if found is not None:
        first, last = found
        months = [f"{month_of(n):%Y-%m}" for n in range(mno(last), max(mno(first), mno(last) - 35) - 1, -1)]
    context = {
        "report": report,
        "body": render_body(report, tr),
        "charts": chart_json(report, tr),
        "months": months,
        "month": f"{report.month:%Y-%m}",
        "langs": [("zh_CN", "中文"), ("en", "English")],
        "formats": [("pdf", "PDF"), ("xlsx", "XLSX"), ("html", "HTML")],
    }
    return render_page(request, "management/report.html", context)
