"""Service pages that read: the complaint register (compliance), notifications with the top bar's unread
count, the generated service standard, and the service dashboards (charts and the same figures as tables).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from wealthcrm.service import dashboard as dash
from wealthcrm.service import notifications
from wealthcrm.service import register as reg
from wealthcrm.service.standard import service_standard
from wealthcrm.vocab import TIER_ORDER, RequestStatus, RequestType
from wealthcrm.web import auth
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, RowId
from wealthcrm.web.i18n import Translator
from wealthcrm.web.routes.service_api import (
    DashboardUser,
    Filter,
    PeriodParam,
    RegisterUser,
)
from wealthcrm.web.routes.service_common import (
    AGEING_LABELS,
    BENEFIT_LABELS,
    ROOT_CAUSE_LABELS,
    Now,
    calendar_of,
    labeller,
    local_text,
    notification_text,
    router,
)
from wealthcrm.web.templating import render

CSRF = [Depends(auth.check_csrf)]
REGISTER_PAGE = 50
NOTIFICATIONS_SHOWN = 100
PERIOD_CHOICES = 24  # months offered by the dashboard's period picker


# --- the complaint register --------------------------------------------------------------------------


@router.get("/service/complaints", include_in_schema=False)
def register_page(
    request: Request,
    session: DbSession,
    user: RegisterUser,
    _: Gettext,
    where: Filter,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every complaint, newest first, masked; filters by months, state and root cause; CSV export."""
    calendar = calendar_of(request)
    total, rows = reg.register(
        session, user=user, where=where, limit=REGISTER_PAGE, offset=(page - 1) * REGISTER_PAGE
    )
    query = {
        k: v for k, v in request.query_params.items() if k in ("from", "to", "status", "root_cause") and v
    }
    context = {
        "label": labeller(_),
        "local": lambda at: local_text(at, calendar),
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // REGISTER_PAGE)),
        "query": query,
        "query_string": urlencode(query),
        "statuses": [s.value for s in RequestStatus],
        "root_causes": [c for c in ROOT_CAUSE_LABELS if c],
        "mask_name": reg.mask_name,
        "within_sla": reg.within_sla,
    }
    return render(request, "service/register.html", context)


# --- notifications -----------------------------------------------------------------------------------


@router.get("/notifications", include_in_schema=False)
def notifications_page(request: Request, session: DbSession, user: CurrentUser, _: Gettext) -> Response:
    calendar = calendar_of(request)
    found = notifications.list_notifications(session, user=user, limit=NOTIFICATIONS_SHOWN)
    context = {
        "items": [(n, notification_text(n, _, calendar)) for n in found],
        "local": lambda at: local_text(at, calendar),
        "unread": notifications.unread_count(session, user=user),
    }
    return render(request, "service/notifications.html", context)


@router.get("/notifications/badge", include_in_schema=False)
def notifications_badge(request: Request, session: DbSession, user: CurrentUser, _: Gettext) -> Response:
    """The top bar's unread count (an htmx fragment; empty when nothing is unread)."""
    return render(request, "service/badge.html", {"unread": notifications.unread_count(session, user=user)})


@router.post("/notifications/{notification_id}/read", include_in_schema=False, dependencies=CSRF)
def notification_read(
    request: Request, notification_id: RowId, session: DbSession, user: CurrentUser, _: Gettext, now: Now
) -> Response:
    note = notifications.mark_read(session, user=user, notification_id=notification_id, now=now)
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse("/notifications", status_code=303)
    calendar = calendar_of(request)
    context = {
        "n": note,
        "text": notification_text(note, _, calendar),
        "local": lambda at: local_text(at, calendar),
    }
    return render(request, "service/notification_row.html", context)


# --- the service standard ----------------------------------------------------------------------------


@router.get("/service/standard", include_in_schema=False)
def standard_page(request: Request, settings: AppSettings, user: CurrentUser, _: Gettext) -> Response:
    """What each tier and value segment gets, generated from the settings."""
    standard = service_standard(settings)
    offered = {b.benefit for seg in standard.segments for b in seg.benefits}
    codes = [b.code for b in settings.entitlements.benefits if b.code in offered]
    context = {"standard": standard, "codes": codes, "label": labeller(_)}
    return render(request, "service/standard.html", context)


# --- the dashboards ----------------------------------------------------------------------------------


def chart_labels(_: Translator) -> dict[str, Any]:
    label = labeller(_)
    return {
        "locale": _.locale,
        "types": {t.value: label("request_type", t.value) for t in RequestType},
        "tiers": {t.value: label("tier", t.value) for t in TIER_ORDER},
        "ageing": {k: _(v) for k, v in AGEING_LABELS.items()},
        "root_causes": {k: _(v) for k, v in ROOT_CAUSE_LABELS.items()},
        "benefits": {b: label("benefit", b) for b in BENEFIT_LABELS},
        "no_team": _("No team"),
        "met": _("Met"),
        "breached": _("Breached"),
        "pending": _("Within SLA, open"),
        "compliance": _("SLA compliance"),
        "opened": _("Complaints opened"),
        "within_sla": _("Resolved within SLA"),
        "complaints": _("Complaints"),
        "cost": _("Cost to the branch"),
        "uses": _("Uses"),
        "overdue": _("Overdue"),
    }


def _months_back(today: date, n: int) -> list[str]:
    index = today.year * 12 + today.month - 1
    return [f"{(index - i) // 12:04d}-{(index - i) % 12 + 1:02d}" for i in range(n)][::-1]


@router.get("/service/dashboard", include_in_schema=False)
def dashboard_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: DashboardUser,
    _: Gettext,
    period: PeriodParam,
    now: Now,
) -> Response:
    """SLA compliance, backlog and ageing, complaints and root causes, entitlement usage and cost."""
    report = dash.dashboard(session, user=user, period=period, now=now, settings=settings)
    calendar = calendar_of(request)
    context = {
        "report": report,
        "data": report.to_dict(),
        "chart_labels": chart_labels(_),
        "label": labeller(_),
        "month_choices": _months_back(calendar.local_date(now), PERIOD_CHOICES),
        "ageing_codes": [b[0] for b in dash.AGEING_BUCKETS],
        "now_local": local_text(now, calendar),
    }
    return render(request, "service/dashboard.html", context)
