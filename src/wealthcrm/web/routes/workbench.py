"""The RM workbench: Today (the RM's home) and Customer 360, as pages and as JSON under /api/v1.

Routes only parse, call :mod:`wealthcrm.customers.service` (which enforces the caller's scope) and
render; a customer outside the scope is a 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from wealthcrm.customers import service
from wealthcrm.customers.service import BookSort
from wealthcrm.vocab import Stage, Tier
from wealthcrm.web import workbench as view
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, TodayDate
from wealthcrm.web.templating import render

router = APIRouter()


@router.get("/api/v1/today", tags=["workbench"])
def today_api(session: DbSession, user: CurrentUser) -> dict[str, Any]:
    """The caller's risk list of the latest scored month (largest AUM at risk first) and open alerts."""
    return service.today(session, user=user).to_dict()


@router.get("/api/v1/customers", tags=["customers"])
def customers_api(
    session: DbSession,
    user: CurrentUser,
    tier: Tier | None = None,
    stage: Stage | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Start of the id or part of the name.")
    ] = None,
    sort: BookSort = BookSort.aum_at_risk,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The caller's book in the latest scored month: filtered by tier, stage and text, paginated."""
    month = service.latest_scored_month(session)
    found = service.book(
        session,
        user=user,
        month=month,
        tier=tier,
        stage=stage,
        q=q,
        sort=sort,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return {
        "month": None if month is None else month.isoformat(),
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [row.to_dict() for row in found.rows],
    }


@router.get("/api/v1/customers/{customer_id}", tags=["customers"])
def customer_api(
    customer_id: str, session: DbSession, settings: AppSettings, user: CurrentUser, on: TodayDate
) -> dict[str, Any]:
    """One customer's 360 view; 404 for a customer outside the caller's scope, as for an unknown one."""
    return service.customer_360(
        session,
        user=user,
        customer_id=customer_id,
        on=on,
        assessment_valid_months=settings.suitability.assessment_valid_months,
    ).to_dict()


@router.get("/today", include_in_schema=False)
def today_page(request: Request, session: DbSession, user: CurrentUser, _: Gettext) -> Response:
    result = service.today(session, user=user)
    context = {
        "today": result,
        "label": view.labeller(_),
        "reason_text": lambda reason: view.reason_text(reason, _),
        "action_text": lambda alert: view.alert_action(alert, _),
    }
    return render(request, "today.html", context)


@router.get("/customers/{customer_id}", include_in_schema=False)
def customer_page(
    request: Request,
    customer_id: str,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
) -> Response:
    c = service.customer_360(
        session,
        user=user,
        customer_id=customer_id,
        on=on,
        assessment_valid_months=settings.suitability.assessment_valid_months,
    )
    context = {
        "c": c,
        "on": on,
        "label": view.labeller(_),
        "reason_text": lambda reason: view.reason_text(reason, _),
        "action_text": lambda alert: view.alert_action(alert, _),
        "chart_data": view.chart_data(c),
        "chart_labels": view.chart_labels(_),
    }
    return render(request, "customer.html", context)
