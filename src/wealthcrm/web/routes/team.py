"""The Team page: coverage and risk per RM, reassignment with handover notes, an RM's departure.

Team leads see and move within their own team; branch managers pick any team and move anywhere.
The rules live in :mod:`wealthcrm.staff.service` and :mod:`wealthcrm.customers.reassign`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from wealthcrm.customers import book, reassign
from wealthcrm.customers.book import BookOrder, BookQuery
from wealthcrm.customers.service import latest_scored_month
from wealthcrm.errors import Invalid
from wealthcrm.staff import service as staff
from wealthcrm.vocab import Role
from wealthcrm.web import team as view
from wealthcrm.web.auth import SignedIn, check_csrf
from wealthcrm.web.deps import AppSettings, DbSession, Gettext, TodayDate, require_role
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import labeller

router = make_router()

TeamUser = Annotated[SignedIn, Depends(require_role(*view.TEAM_ROLES))]
TeamParam = Annotated[str | None, Query(max_length=32, description="Team id; default: the first team.")]


def _targets(session: DbSession, user: SignedIn, team_id: str) -> list[dict[str, Any]]:
    """Who customers may go to: the team's active RMs for a lead, the branch's for a manager."""
    scope_team = team_id if user.role is Role.team_lead else None
    return [
        {"staff_id": s.staff_id, "name": s.name, "team_id": s.team_id}
        for s in staff.active_targets(session, team_id=scope_team)
    ]


@router.get("/api/v1/team", tags=["team"])
def team_api(
    session: DbSession, settings: AppSettings, user: TeamUser, on: TodayDate, team_id: TeamParam = None
) -> dict[str, Any]:
    """Per RM of the team: customers, sunflower+, AUM, AUM at risk, high alerts, contacts, tasks."""
    found = staff.coverage(session, user=user, team_id=team_id, on=on, cadence=settings.cadence)
    return found.to_dict() | {"targets": _targets(session, user, found.team.team_id)}


@router.post("/api/v1/customers/reassign", tags=["team"], dependencies=[Depends(check_csrf)])
def reassign_api(session: DbSession, user: TeamUser, on: TodayDate, body: view.ReassignIn) -> dict[str, Any]:
    """Hand customers to another active RM with a handover note (a task for the new RM each)."""
    moved = reassign.reassign(
        session,
        user=user,
        customer_ids=body.customer_ids,
        to_staff_id=body.to_staff_id,
        note=body.note,
        on=on,
    )
    return {"moved": len(moved), "items": [m.to_dict() for m in moved]}


@router.post("/api/v1/staff/{staff_id}/departure", tags=["team"], dependencies=[Depends(check_csrf)])
def departure_api(
    session: DbSession, user: TeamUser, on: TodayDate, staff_id: str, body: view.DepartureIn
) -> dict[str, Any]:
    """Mark an RM as left and hand over the whole book (to one RM, or shared by AUM among several)."""
    result = reassign.depart(
        session,
        user=user,
        staff_id=staff_id,
        left_on=body.left_on or on,
        to_staff_ids=body.to_staff_ids,
        note=body.note,
        on=on,
    )
    return result.to_dict()


# --- the page and its forms -------------------------------------------------------------------------


def _back(team_id: str, rm: str | None = None, **done: int) -> RedirectResponse:
    params: dict[str, str | int] = {"team_id": team_id}
    if rm:
        params["rm"] = rm
    params.update(done)
    return RedirectResponse(f"/team?{urlencode(params)}", status_code=303)


@router.post("/team/reassign", include_in_schema=False, dependencies=[Depends(check_csrf)])
def reassign_form(
    session: DbSession,
    user: TeamUser,
    on: TodayDate,
    team_id: Annotated[str, Form(max_length=32)],
    to_staff_id: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=reassign.MAX_NOTE)],
    customer_id: Annotated[list[str] | None, Form()] = None,
    rm: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    moved = reassign.reassign(
        session, user=user, customer_ids=customer_id or [], to_staff_id=to_staff_id, note=note, on=on
    )
    return _back(team_id, rm, moved=len(moved))


@router.post("/team/departure", include_in_schema=False, dependencies=[Depends(check_csrf)])
def departure_form(
    session: DbSession,
    user: TeamUser,
    on: TodayDate,
    team_id: Annotated[str, Form(max_length=32)],
    staff_id: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=reassign.MAX_NOTE)],
    to_staff_id: Annotated[list[str] | None, Form()] = None,
    left_on: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    try:
        last_day = date.fromisoformat(left_on) if left_on else on
    except ValueError:
        raise Invalid(f"left_on: {left_on!r} is not a date (YYYY-MM-DD)") from None
    result = reassign.depart(
        session,
        user=user,
        staff_id=staff_id,
        left_on=last_day,
        to_staff_ids=to_staff_id or [],
        note=note,
        on=on,
    )
    return _back(team_id, handed_over=len(result.moved))


@router.get("/team", include_in_schema=False)
def team_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: TeamUser,
    on: TodayDate,
    _: Gettext,
    team_id: TeamParam = None,
    rm: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    found = staff.coverage(session, user=user, team_id=team_id, on=on, cadence=settings.cadence)
    members = {r.staff_id for r in found.rms}
    selected = rm if rm in members else None
    customers = []
    if selected is not None:
        customers = book.search(
            session,
            user=user,
            query=BookQuery(rm_id=selected, sort=BookOrder.aum),
            month=latest_scored_month(session),
            on=on,
            limit=view.SELECTION_LIMIT,
        ).items
    context = {
        "cov": found,
        "selected": selected,
        "customers": customers,
        "targets": _targets(session, user, found.team.team_id),
        "label": labeller(_),
        "status_label": lambda code: _(view.STATUS_LABELS.get(code) or code),
        "moved": request.query_params.get("moved", ""),
        "handed_over": request.query_params.get("handed_over", ""),
        "on": on,
    }
    return render(request, "team.html", context)
