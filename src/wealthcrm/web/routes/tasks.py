"""Tasks and interactions: working Today's list, logging contacts (pages, fragments and /api/v1).

The HTML actions answer htmx with the fragment to swap in (the worked row, the task panel); a plain
form post (no JavaScript) is redirected back. When an htmx action fails on a user's mistake (a stale
row, a date in the past) the fragment comes back with the message, so the user sees it where they
acted; without htmx the error page answers with the status (409, 422…). The JSON API answers 4xx in
the one error format (web/errors.py). Every POST needs the session's CSRF token (or a bearer token).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from wealthcrm.alerts.actions import action_text
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import DomainError, Invalid
from wealthcrm.interactions import service as contacts
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.service import ACTING_ROLES, NOTE_MAX, TaskFilter, TaskRow
from wealthcrm.vocab import (
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    Role,
    TaskKind,
    TaskOutcome,
)
from wealthcrm.web import auth
from wealthcrm.web import workbench as view
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    Gettext,
    RowId,
    TodayDate,
    UtcNow,
    branch_local,
)
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render

router = make_router()
MAX_ID = 2**31 - 1  # the INTEGER range of both databases
CSRF = [Depends(auth.check_csrf)]
SNOOZE_CHOICES = ((1, N_("1 day")), (3, N_("3 days")), (7, N_("7 days")))
PANEL_TASKS = 20


# --- shared pieces -----------------------------------------------------------------------------------


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def can_act(user: SignedIn) -> bool:
    return user.role in ACTING_ROLES and user.staff_id is not None


async def local_now(on: TodayDate, settings: AppSettings, now: UtcNow) -> datetime:
    """Now, the branch's local time (``sla.time_zone``) to the minute, on the app's date
    (``current_date``): contacts are logged in local wall-clock time. A dependency tests can fix."""
    local = branch_local(now, settings)
    return datetime.combine(on, local.time().replace(second=0, microsecond=0))


Now = Annotated[datetime, Depends(local_now)]


def task_context(user: SignedIn, _: Translator, on: date, now: datetime | None = None) -> dict[str, Any]:
    """What the task templates need besides the tasks themselves (``now``: the form's default time,
    local; without it, the start of ``on``)."""
    return {
        "on": on,
        "now_value": (now or datetime.combine(on, time.min)).strftime("%Y-%m-%dT%H:%M"),
        "can_act": can_act(user),
        "label": view.labeller(_),
        "task_reason": lambda t: view.task_reason(t, _),
        "task_due": lambda t: view.task_due(t, _),
        "reason_text": lambda reason: view.reason_text(reason, _),
        "action_words": lambda code: action_text(code, _.locale),
        "snooze_choices": SNOOZE_CHOICES,
        "task_outcomes": [o.value for o in TaskOutcome],
        "channels": [c.value for c in InteractionChannel],
        "purposes": [p.value for p in InteractionPurpose],
        "contact_outcomes": [o.value for o in InteractionOutcome],
        "purpose_for": view.PURPOSE_FOR_KIND,
        "show_assignee": user.role is not Role.rm,
    }


def default_outcome(kind: str) -> str:
    return {"retention": "retained", "maturity": "reinvested"}.get(kind, "contacted")


def _row(
    request: Request,
    session: Any,
    user: SignedIn,
    _: Translator,
    on: date,
    task_id: RowId,
    now: datetime | None = None,
    **extra: Any,
) -> Response:
    """The task's row as it is now (a tbody), with a message or an error."""
    task = tasks.get_row(session, user=user, task_id=task_id, on=on)
    context = task_context(user, _, on, now) | {"task": task, "default_outcome": default_outcome} | extra
    return render(request, "tasks/row.html", context)


def _worked(
    request: Request, user: SignedIn, _: Translator, on: date, task: TaskRow, message: str
) -> Response:
    context = task_context(user, _, on) | {"task": task, "message": message}
    return render(request, "tasks/worked.html", context)


def _fragment_or_redirect(request: Request, make: Callable[[], Response], back: str) -> Response:
    if is_htmx(request):
        return make()
    return RedirectResponse(back, status_code=303)


# --- Today's row actions (htmx fragments; plain form posts work too) ---------------------------------


@router.get("/tasks/{task_id}/contact-form", include_in_schema=False)
def contact_form(
    request: Request,
    task_id: RowId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    now: Now,
) -> Response:
    """The inline "log contact" form of one task (swapped into the row's slot)."""
    task = tasks.get_row(session, user=user, task_id=task_id, on=on)
    context = task_context(user, _, on, now) | {
        "task": task,
        "action": f"/tasks/{task.id}/contact",
        "target": f"#task-{task.id}",
        "values": {},
    }
    return render(request, "tasks/contact_form.html", context)


async def contact_values(
    channel: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    occurred_at: Annotated[str, Form()] = "",
    follow_up_on: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> dict[str, str]:
    """The contact form's fields as typed; :meth:`ContactForm.parse` checks them."""
    return {
        "channel": channel,
        "purpose": purpose,
        "outcome": outcome,
        "occurred_at": occurred_at,
        "follow_up_on": follow_up_on,
        "notes": notes,
    }


ContactValues = Annotated[dict[str, str], Depends(contact_values)]


@router.post("/tasks/{task_id}/contact", include_in_schema=False, dependencies=CSRF)
def task_contact(
    request: Request,
    task_id: RowId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    now: Now,
    values: ContactValues,
    task_version: Annotated[str, Form()] = "",
) -> Response:
    """Log a contact from a task's row: the row is swapped for "done", or re-shown with the message."""
    row = tasks.get_row(session, user=user, task_id=task_id, on=on)
    try:
        form = ContactForm.parse(values, _, on, now)
        logged = contacts.log_interaction(
            session,
            user=user,
            customer_id=row.customer_id or "",
            task_id=task_id,
            task_version=_int(task_version, "task_version"),
            on=on,
            now=now,
            **form,
        )
    except DomainError as exc:
        if not is_htmx(request):
            raise
        return _row(
            request, session, user, _, on, task_id, now, error=_(str(exc)), form_values=values, open_form=True
        )
    fresh = tasks.get_row(session, user=user, task_id=task_id, on=on)
    if not logged.task_closed:
        message = _("Contact logged; the task stays open (the customer was not reached).")
        return _fragment_or_redirect(
            request, lambda: _row(request, session, user, _, on, task_id, message=message), "/today"
        )
    outcome_label = view.labeller(_)("task_outcome", fresh.outcome)
    message = _("Contact logged. Task done: {outcome}").format(outcome=outcome_label)
    return _fragment_or_redirect(request, lambda: _worked(request, user, _, on, fresh, message), "/today")


@router.post("/tasks/{task_id}/complete", include_in_schema=False, dependencies=CSRF)
def task_complete(
    request: Request,
    task_id: RowId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        chosen = _enum(TaskOutcome, outcome, "outcome")
        tasks.complete(
            session,
            user=user,
            task_id=task_id,
            outcome=chosen,
            note=note,
            expected_version=_int(version, "version") or 0,
        )
    except DomainError as exc:
        if not is_htmx(request):
            raise
        return _row(request, session, user, _, on, task_id, error=_(str(exc)))
    fresh = tasks.get_row(session, user=user, task_id=task_id, on=on)
    message = _("Task done: {outcome}").format(outcome=view.labeller(_)("task_outcome", fresh.outcome))
    return _fragment_or_redirect(request, lambda: _worked(request, user, _, on, fresh, message), "/today")


@router.post("/tasks/{task_id}/snooze", include_in_schema=False, dependencies=CSRF)
def task_snooze(
    request: Request,
    task_id: RowId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    days: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        count = _int(days, "days")
        if count not in {d for d, _label in SNOOZE_CHOICES}:
            raise Invalid(_("Choose 1, 3 or 7 days."))
        tasks.snooze(
            session,
            user=user,
            task_id=task_id,
            until=on + timedelta(days=count or 0),
            expected_version=_int(version, "version") or 0,
            on=on,
        )
    except DomainError as exc:
        if not is_htmx(request):
            raise
        return _row(request, session, user, _, on, task_id, error=_(str(exc)))
    fresh = tasks.get_row(session, user=user, task_id=task_id, on=on)
    until = fresh.snoozed_until.isoformat() if fresh.snoozed_until else ""
    message = _("Snoozed until {date}").format(date=until)
    return _fragment_or_redirect(request, lambda: _worked(request, user, _, on, fresh, message), "/today")


@router.post("/tasks/{task_id}/reopen", include_in_schema=False, dependencies=CSRF)
def task_reopen(
    request: Request,
    task_id: RowId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        tasks.reopen(session, user=user, task_id=task_id, expected_version=_int(version, "version") or 0)
    except DomainError as exc:
        if not is_htmx(request):
            raise
        return _row(request, session, user, _, on, task_id, error=_(str(exc)))
    return _fragment_or_redirect(request, lambda: _row(request, session, user, _, on, task_id), "/today")


# --- Customer 360's panel ----------------------------------------------------------------------------


def _panel(
    request: Request,
    session: Any,
    user: SignedIn,
    _: Translator,
    on: date,
    customer_id: str,
    now: datetime,
    **extra: Any,
) -> Response:
    customer = get_customer(session, user=user, customer_id=customer_id)
    found = tasks.list_tasks(session, user=user, on=on, customer_id=customer.customer_id, limit=PANEL_TASKS)
    context = task_context(user, _, on, now) | {
        "customer_id": customer.customer_id,
        "tasks": found.rows,
        "total": found.total,
        "default_outcome": default_outcome,
        "action": f"/customers/{customer.customer_id}/interactions",
        "target": "#tasks-panel",
        "values": {},
        "task": None,
    }
    return render(request, "tasks/panel.html", context | extra)


@router.get("/customers/{customer_id}/panels/tasks", include_in_schema=False)
def tasks_panel(
    request: Request,
    customer_id: str,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    now: Now,
) -> Response:
    """Customer 360's tasks panel (an htmx fragment): open tasks and the "log contact" form."""
    return _panel(request, session, user, _, on, customer_id, now)


@router.post("/customers/{customer_id}/interactions", include_in_schema=False, dependencies=CSRF)
def customer_contact(
    request: Request,
    customer_id: str,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    now: Now,
    values: ContactValues,
    task_id: Annotated[str, Form()] = "",
) -> Response:
    """Log a contact from the customer's page: the panel comes back, and the contacts list with it."""
    get_customer(session, user=user, customer_id=customer_id)  # 404 first, for any input
    try:
        form = ContactForm.parse(values, _, on, now)
        logged = contacts.log_interaction(
            session,
            user=user,
            customer_id=customer_id,
            task_id=_int(task_id, "task_id"),
            on=on,
            now=now,
            **form,
        )
    except DomainError as exc:
        if not is_htmx(request):
            raise
        return _panel(request, session, user, _, on, customer_id, now, error=_(str(exc)), values=values)
    if not is_htmx(request):
        return RedirectResponse(f"/customers/{customer_id}", status_code=303)
    message = _("Contact logged.")
    if logged.task_closed and logged.task is not None:
        message = _("Contact logged. Task done: {outcome}").format(
            outcome=view.labeller(_)("task_outcome", logged.task.outcome)
        )
    page = contacts.list_interactions(session, user=user, customer_id=customer_id, limit=20)
    return _panel(request, session, user, _, on, customer_id, now, message=message, oob_contacts=page.rows)


# --- form parsing (HTML) -----------------------------------------------------------------------------


def _int(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"{what}: {text!r}") from None


E = TypeVar("E", TaskOutcome, InteractionChannel, InteractionPurpose, InteractionOutcome)


def _enum(cls: type[E], text: str, what: str) -> E:
    try:
        return cls(text)
    except ValueError:
        raise Invalid(f"{what}: {text!r}") from None


class ContactForm:
    """The "log contact" form's fields, checked (Invalid with a message in the user's language)."""

    @staticmethod
    def parse(values: dict[str, str], _: Translator, on: date, now: datetime) -> dict[str, Any]:
        occurred = values["occurred_at"].strip()
        try:
            occurred_at = datetime.fromisoformat(occurred) if occurred else now
        except ValueError:
            raise Invalid(_("When: not a date and time")) from None
        follow = values["follow_up_on"].strip()
        try:
            follow_up_on = date.fromisoformat(follow) if follow else None
        except ValueError:
            raise Invalid(_("Follow-up date: not a date")) from None
        if follow_up_on is not None and follow_up_on < on:
            raise Invalid(_("The follow-up date is in the past."))
        return {
            "channel": _enum(InteractionChannel, values["channel"], _("Channel")),
            "purpose": _enum(InteractionPurpose, values["purpose"], _("Purpose")),
            "outcome": _enum(InteractionOutcome, values["outcome"], _("Outcome")),
            "occurred_at": occurred_at.replace(tzinfo=None),
            "follow_up_on": follow_up_on,
            "notes": values["notes"],
        }


# --- JSON API ----------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompleteIn(_In):
    outcome: TaskOutcome = Field(description="How the task ended; `retained` on a retention task is a save.")
    note: str | None = Field(None, max_length=NOTE_MAX)
    version: int = Field(ge=1, le=MAX_ID, description="The task's `version` as read (stale: 409).")


class SnoozeIn(_In):
    until: date = Field(description="Hide the task until this day (after today, at most 90 days ahead).")
    version: int = Field(ge=1, le=MAX_ID)


class ReopenIn(_In):
    version: int = Field(ge=1, le=MAX_ID)


class InteractionIn(_In):
    channel: InteractionChannel
    purpose: InteractionPurpose
    outcome: InteractionOutcome
    notes: str | None = Field(None, max_length=NOTE_MAX)
    occurred_at: datetime = Field(
        description="When the contact happened: the branch's local time, or with an offset (converted to "
        "the branch's time zone); not in the future."
    )
    follow_up_on: date | None = Field(None, description="Creates a follow-up task due that day.")
    task_id: int | None = Field(None, ge=1, le=MAX_ID, description="The task this contact works.")
    task_outcome: TaskOutcome | None = Field(None, description="Overrides the outcome mapping.")
    task_version: int | None = Field(None, ge=1, le=MAX_ID, description="Its version as read.")


def _task_json(row: TaskRow, request: Request) -> dict[str, Any]:
    out = row.to_dict()
    out["reason"] = view.task_reasons(row, request.app.state.translators)
    return out


@router.get("/api/v1/tasks", tags=["tasks"])
def tasks_api(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    on: TodayDate,
    status: TaskFilter = TaskFilter.open,
    kind: Annotated[list[TaskKind] | None, Query(description="One or more kinds.")] = None,
    assignee: Annotated[str | None, Query(max_length=32, description="Staff id of the list.")] = None,
    customer_id: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The caller's tasks in Today's order (overdue, due today, later; largest amount first)."""
    found = tasks.list_tasks(
        session,
        user=user,
        on=on,
        status=status,
        kinds=kind,
        assignee_id=assignee,
        customer_id=customer_id,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return {
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [_task_json(r, request) for r in found.rows],
    }


@router.get("/api/v1/tasks/{task_id}", tags=["tasks"])
def task_api(
    request: Request, task_id: RowId, session: DbSession, user: CurrentUser, on: TodayDate
) -> dict[str, Any]:
    """One task (404 outside the caller's scope)."""
    return _task_json(tasks.get_row(session, user=user, task_id=task_id, on=on), request)


@router.post("/api/v1/tasks/{task_id}/complete", tags=["tasks"], dependencies=CSRF)
def complete_api(
    request: Request, task_id: RowId, body: CompleteIn, session: DbSession, user: CurrentUser, on: TodayDate
) -> dict[str, Any]:
    """Mark a task done with an outcome (409 when `version` is stale or the task is already done)."""
    tasks.complete(
        session,
        user=user,
        task_id=task_id,
        outcome=body.outcome,
        note=body.note,
        expected_version=body.version,
    )
    return _task_json(tasks.get_row(session, user=user, task_id=task_id, on=on), request)


@router.post("/api/v1/tasks/{task_id}/snooze", tags=["tasks"], dependencies=CSRF)
def snooze_api(
    request: Request, task_id: RowId, body: SnoozeIn, session: DbSession, user: CurrentUser, on: TodayDate
) -> dict[str, Any]:
    """Hide a task until a day after today (422 for a date not after today; 409 for a stale version)."""
    tasks.snooze(session, user=user, task_id=task_id, until=body.until, expected_version=body.version, on=on)
    return _task_json(tasks.get_row(session, user=user, task_id=task_id, on=on), request)


@router.post("/api/v1/tasks/{task_id}/reopen", tags=["tasks"], dependencies=CSRF)
def reopen_api(
    request: Request, task_id: RowId, body: ReopenIn, session: DbSession, user: CurrentUser, on: TodayDate
) -> dict[str, Any]:
    """Put a done, cancelled or snoozed task back on the list."""
    tasks.reopen(session, user=user, task_id=task_id, expected_version=body.version)
    return _task_json(tasks.get_row(session, user=user, task_id=task_id, on=on), request)


@router.get("/api/v1/customers/{customer_id}/interactions", tags=["customers"])
def interactions_api(
    customer_id: str,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The customer's contacts, newest first (404 outside the caller's scope)."""
    found = contacts.list_interactions(
        session, user=user, customer_id=customer_id, limit=page_size, offset=(page - 1) * page_size
    )
    return {
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [r.to_dict() for r in found.rows],
    }


@router.post(
    "/api/v1/customers/{customer_id}/interactions", tags=["customers"], status_code=201, dependencies=CSRF
)
def log_interaction_api(
    customer_id: str,
    body: InteractionIn,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    on: TodayDate,
    now: Now,
) -> dict[str, Any]:
    """Log a contact; with `follow_up_on` a follow-up task, with `task_id` the task is worked."""
    occurred_at = body.occurred_at
    if occurred_at.tzinfo is not None:  # an offset given: the branch's wall-clock time it means
        if not 2000 <= occurred_at.year <= 9000:  # far outside the service's window; converting may overflow
            raise Invalid(f"occurred_at {occurred_at:%Y-%m-%d} is out of range")
        occurred_at = occurred_at.astimezone(ZoneInfo(settings.sla.time_zone)).replace(tzinfo=None)
    logged = contacts.log_interaction(
        session,
        user=user,
        customer_id=customer_id,
        channel=body.channel,
        purpose=body.purpose,
        outcome=body.outcome,
        notes=body.notes,
        occurred_at=occurred_at,
        follow_up_on=body.follow_up_on,
        task_id=body.task_id,
        task_outcome=body.task_outcome,
        task_version=body.task_version,
        on=on,
        now=now,
    )
    return logged.to_dict()
