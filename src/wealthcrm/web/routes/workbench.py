"""The RM workbench: Today (the RM's home) and Customer 360, as pages and as JSON under /api/v1.

Routes only parse, call :mod:`wealthcrm.customers.service` (which enforces the caller's scope) and
render; a customer outside the scope is a 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from wealthcrm.customers import service
from wealthcrm.tasks import service as tasks
from wealthcrm.vocab import AlertStatus, AlertType, Severity, TaskKind
from wealthcrm.web import workbench as view
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, TodayDate
from wealthcrm.web.routes.tasks import default_outcome, task_context
from wealthcrm.web.templating import render

router = APIRouter()


@router.get("/api/v1/alerts", tags=["alerts"])
def alerts_api(
    session: DbSession,
    user: CurrentUser,
    status: AlertStatus | None = AlertStatus.open,
    alert_type: AlertType | None = None,
    severity: Severity | None = None,
    customer_id: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Early-warning alerts of the caller's customers (default: open), most severe and newest first."""
    total, rows = service.list_alerts(
        session,
        user=user,
        status=status,
        alert_type=alert_type,
        severity=severity,
        customer_id=customer_id,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return {"page": page, "page_size": page_size, "total": total, "items": [r.to_dict() for r in rows]}


@router.get("/api/v1/today", tags=["workbench"])
def today_api(session: DbSession, user: CurrentUser) -> dict[str, Any]:
    """The caller's risk list of the latest scored month (largest AUM at risk first) and open alerts."""
    return service.today(session, user=user).to_dict()


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


TODAY_PAGE_SIZE = 50
_SEVERITY = {"high": 0, "medium": 1, "low": 2}


@router.get("/today", include_in_schema=False)
def today_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    rm: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The RM's one prioritised task list (retention tasks are the at-risk customers), then the open
    alerts of customers without a retention task. A team lead picks one RM of the team (``rm``)."""
    result = service.today(session, user=user)
    team = tasks.assignees(session, user=user)
    assignee = rm if rm and rm in {staff_id for staff_id, _name in team} else None
    found = tasks.list_tasks(
        session,
        user=user,
        on=on,
        assignee_id=assignee,
        limit=TODAY_PAGE_SIZE,
        offset=(page - 1) * TODAY_PAGE_SIZE,
    )
    counts = tasks.task_counts(session, user=user, on=on, assignee_id=assignee)
    retained = tasks.customers_with_open(session, user=user, on=on, kind=TaskKind.retention)
    alerts = [a for row in result.rows for a in row.alerts] + result.other_alerts
    others = sorted(
        (a for a in alerts if a.customer_id not in retained),
        key=lambda a: (_SEVERITY.get(a.severity, 3), -a.last_month.toordinal(), -a.id),
    )
    context = task_context(user, _, on) | {
        "today": result,
        "tasks": found.rows,
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // TODAY_PAGE_SIZE)),
        "offset": (page - 1) * TODAY_PAGE_SIZE,
        "counts": counts,
        "team": team,
        "rm": assignee,
        "other_alerts": others[:50],
        "default_outcome": default_outcome,
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
