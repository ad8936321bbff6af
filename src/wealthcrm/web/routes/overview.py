"""The home page (the branch overview for managers) and its JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from wealthcrm.errors import NotFound
from wealthcrm.vocab import Role
from wealthcrm.web import overview as view
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, require_role
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()

#: Roles that see branch-wide aggregates. An RM sees only their own book (the workbench).
OVERVIEW_ROLES = (Role.branch_manager, Role.team_lead, Role.analyst, Role.auditor, Role.admin)
MonthParam = Annotated[
    str | None, Query(description="Month, YYYY-MM; default: the latest month with AUM data.", max_length=7)
]


@router.get("/api/v1/overview", tags=["overview"])
def overview_api(
    session: DbSession,
    settings: AppSettings,
    user: Annotated[SignedIn, Depends(require_role(*OVERVIEW_ROLES))],
    month: MonthParam = None,
) -> dict[str, Any]:
    """The branch's tier report: customers and AUM per tier, watch list, migration, losses."""
    report = view.load_report(session, month=month, settings=settings)
    if report is None:
        raise NotFound("no AUM data yet: import aum_monthly first")
    return report.to_dict()


@router.get("/", include_in_schema=False)
def home(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    _: Gettext,
    month: MonthParam = None,
) -> Response:
    if user.role is Role.rm:
        return RedirectResponse("/today", status_code=303)  # the RM's home is their workbench
    if user.role not in OVERVIEW_ROLES:
        return render(request, "coming_soon.html", {})
    report = view.load_report(session, month=month, settings=settings)
    context: dict[str, Any] = {"report": report, "months": view.month_choices(session)}
    if report is not None:
        context |= {
            "tier_rows": view.tier_rows(report, _),
            "migration_columns": view.migration_columns(report, _),
            "migration_rows": view.migration_rows(report, _),
            "chart_data": report.to_dict(),
            "chart_labels": view.chart_labels(report, _),
        }
    return render(request, "overview.html", context)
