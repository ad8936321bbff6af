"""The Branch page: tier migration over a period, churn and asset-loss trends, retention curves, alerts
by type, the value × potential grid and behaviour segments — as a page with charts and as JSON.

The numbers are branch-wide aggregates (no customer is named), for the roles that see the branch.
The views and their cache are in :mod:`wealthcrm.web.branch`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.responses import Response

from wealthcrm.errors import NotFound
from wealthcrm.web import branch as view
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, require_role
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import labeller

router = make_router()

BranchUser = Annotated[SignedIn, Depends(require_role(*view.BRANCH_ROLES))]
MonthParam = Annotated[
    str | None, Query(description="Month, YYYY-MM; default: the latest month with AUM data.", max_length=7)
]
FromParam = Annotated[
    str | None,
    Query(
        alias="from",
        description="First month of the period, YYYY-MM; default: 11 months earlier.",
        max_length=7,
    ),
]


@router.get("/api/v1/branch", tags=["branch"])
def branch_api(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: BranchUser,
    month: MonthParam = None,
    start: FromParam = None,
) -> dict[str, Any]:
    """Tier migration over the period, monthly loss trends, Kaplan–Meier retention curves, alerts by
    type, the value × potential grid and behaviour segments of sunflower+ customers."""
    report = view.load(
        session,
        engine=request.app.state.engine,
        cache=view.cache_of(request.app.state),
        settings=settings,
        month=month,
        start=start,
    )
    if report is None:
        raise NotFound("no AUM data yet: import aum_monthly first")
    return report.to_dict()


@router.get("/branch", include_in_schema=False)
def branch_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: BranchUser,
    _: Gettext,
    month: MonthParam = None,
    start: FromParam = None,
) -> Response:
    report = view.load(
        session,
        engine=request.app.state.engine,
        cache=view.cache_of(request.app.state),
        settings=settings,
        month=month,
        start=start,
    )
    context: dict[str, Any] = {"report": report, "label": labeller(_)}
    if report is not None:
        context |= {
            "chart_data": report.to_dict(),
            "chart_labels": view.chart_labels(_),
            "tier_names": view.chart_labels(_)["names"],
            "grouping_labels": view.GROUPING_LABELS,
        }
    return render(request, "branch.html", context)
