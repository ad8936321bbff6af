"""`wealthcrm service escalate`: the SLA escalation batch, for cron to run every few minutes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import typer
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.config import Settings
from wealthcrm.db import session_scope, utcnow
from wealthcrm.service import register as reg
from wealthcrm.service import service as svc

service_app = typer.Typer(help="The service desk's batch jobs.", no_args_is_help=True)


def parse_now(text: str | None, settings: Settings) -> datetime:
    """``--now`` as naive UTC: with an offset it is converted, without one it is the branch's local time."""
    if not text:
        return utcnow()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now: {text!r} is not an ISO 8601 date and time, e.g. 2026-11-30T10:00")
    if not 2000 <= value.year <= 2200:
        fail(f"--now: {text!r} is out of range")
    calendar = svc.calendar_of(settings)
    return calendar.to_utc(calendar.to_local(value)) if value.tzinfo else calendar.to_utc(value)


@service_app.command("escalate")
def escalate(
    ctx: typer.Context,
    now: str | None = typer.Option(
        None,
        "--now",
        help="The batch's time, ISO 8601: with an offset, or the branch's local time (sla.time_zone); "
        "default: now.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Fire every SLA escalation step that has come due, each once: in-app notifications to the
    assignee, then the team lead, then the branch manager; a request's first breach also raises the
    sla_breach alert and the RM's follow-up task. Running it again changes nothing.

    Example: wealthcrm service escalate --now 2026-11-30T10:00 --json
    """
    st = state(ctx)
    engine = st.ready_engine()
    at = parse_now(now, st.settings)
    with session_scope(engine) as session:
        before = reg.last_event_id(session)
        result = svc.escalate_due(session, now=at, settings=st.settings)
        fired = reg.escalations_after(session, event_id=before)
    if as_json:
        print_json({"now": at.isoformat() + "Z", **asdict(result), "fired": [asdict(f) for f in fired]})
        return
    table = Table(
        "request",
        "customer",
        "type",
        "SLA",
        "step",
        "tells",
        "staff",
        title=f"escalations at {at:%Y-%m-%d %H:%M} UTC",
    )
    for f in fired:
        table.add_row(
            f.request_id, f.customer_id, f.request_type, f.sla, str(f.step), f.target,
            ", ".join([*f.staff_ids, *(f"user {u}" for u in f.user_ids)]) or "–",
        )  # fmt: skip
    if fired:
        console.print(table)
    console.print(
        f"{result.steps} step(s) fired on {result.requests} request(s): "
        f"{result.notifications} notification(s), {result.alerts} alert(s), {result.tasks} follow-up task(s)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(service_app, name="service")
