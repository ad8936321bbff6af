"""The RM workbench: Today (the RM's home) and Customer 360, as pages and as JSON under /api/v1.

Routes only parse, call :mod:`wealthcrm.customers.service` (which enforces the caller's scope) and
render; a customer outside the scope is a 404, exactly like an unknown one. Analysts see pseudonymised
views only (:mod:`wealthcrm.customers.pseudonym`): every route here answers them 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from wealthcrm.config import Settings
from wealthcrm.customers import service
from wealthcrm.customers.pseudonym import require_identified
from wealthcrm.customers.service import Customer360
from wealthcrm.surveys.customer import known_questionnaires
from wealthcrm.tasks import service as tasks
from wealthcrm.vocab import AlertStatus, AlertType, Severity, TaskKind
from wealthcrm.web import workbench as view
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, TodayDate
from wealthcrm.web.routes.service_common import LABELS as SERVICE_LABELS
from wealthcrm.web.routes.service_common import service_now
from wealthcrm.web.routes.tasks import default_outcome, task_context
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()


async def identified_user(user: CurrentUser) -> SignedIn:
    """The current user, unless they may see pseudonymised views only (analysts: 403)."""
    require_identified(user)
    return user


#: a user who may see identified customers (every role but analysts)
IdentifiedUser = Annotated[SignedIn, Depends(identified_user)]
Now = Annotated[datetime, Depends(service_now)]


@router.get("/api/v1/alerts", tags=["alerts"])
def alerts_api(
    session: DbSession,
    user: IdentifiedUser,
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
def today_api(session: DbSession, user: IdentifiedUser) -> dict[str, Any]:
    """The caller's risk list of the latest scored month (largest AUM at risk first) and open alerts."""
    return service.today(session, user=user).to_dict()


def _customer(
    session: Session, user: SignedIn, settings: Settings, customer_id: str, on: Any, now: datetime
) -> tuple[Customer360, view.Customer360Extras]:
    c = service.customer_360(
        session,
        user=user,
        customer_id=customer_id,
        on=on,
        assessment_valid_months=settings.suitability.assessment_valid_months,
    )
    extras = view.customer_extras(
        session,
        user=user,
        view=c,
        now=now,
        settings=settings,
        questionnaires=known_questionnaires(session),
    )
    return c, extras


@router.get("/api/v1/customers/{customer_id}", tags=["customers"])
def customer_api(
    customer_id: str,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    on: TodayDate,
    now: Now,
) -> dict[str, Any]:
    """One customer's 360 view with service requests, this year's benefits and survey answers; 404 for
    a customer outside the caller's scope, as for an unknown one; 403 for analysts."""
    c, extras = _customer(session, user, settings, customer_id, on, now)
    return c.to_dict() | extras.to_dict()


TODAY_PAGE_SIZE = 50


@router.get("/today", include_in_schema=False)
def today_page(
    request: Request,
    session: DbSession,
    user: IdentifiedUser,
    _: Gettext,
    on: TodayDate,
    rm: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The RM's one prioritised task list (retention tasks are the at-risk customers), then the open
    alerts of customers without a retention task. A team lead picks one RM of the team (``rm``)."""

    # the page lists tasks, not the at-risk rows (retention tasks are those customers): only the
    # counts, and the 50 most severe open alerts of customers without a retention task below the tasks
    def retained(customer_id: Any) -> Any:
        return tasks.has_open_task(customer_id, on=on, kind=TaskKind.retention)

    result = service.today(session, user=user, limit=0, other_alerts_limit=50, skip_customers=retained)
    team = tasks.assignees(session, user=user)
    assignee = rm if rm and rm in {staff_id for staff_id, _name in team} else None
    counts = tasks.task_counts(session, user=user, on=on, assignee_id=assignee)
    found = tasks.list_tasks(
        session,
        user=user,
        on=on,
        assignee_id=assignee,
        limit=TODAY_PAGE_SIZE,
        offset=(page - 1) * TODAY_PAGE_SIZE,
        total=counts.open,  # the same open tasks
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
        "other_alerts": result.other_alerts,
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
    now: Now,
) -> Response:
    """Customer 360 (analysts: 403 from the service, audited, as for any identified customer)."""
    c, extras = _customer(session, user, settings, customer_id, on, now)
    service_label = service_labeller(_)
    context = {
        "c": c,
        "x": extras,
        "on": on,
        "service_label": service_label,
        "local_time": lambda at: view.local_time(at, settings),
        "local_text": lambda text, default="": view.local_text(text, _, default),
        "weakest": view.weakest,
        "label": view.labeller(_),
        "reason_text": lambda reason: view.reason_text(reason, _),
        "action_text": lambda alert: view.alert_action(alert, _),
        "chart_data": view.chart_data(c),
        "chart_labels": view.chart_labels(_),
    }
    return render(request, "customer.html", context)


def service_labeller(_: Gettext) -> Any:
    """``label(kind, code)`` for the service words (request type and status, benefit)."""

    def label(kind: str, code: str | None) -> str:
        if code is None:
            return "—"
        known = SERVICE_LABELS.get(kind, {}).get(code)
        return _(known) if known else code

    return label
