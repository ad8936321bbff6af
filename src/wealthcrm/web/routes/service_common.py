"""What the service pages and the service API share: the clock, roles, labels, and JSON shapes.

Times: the service layer works in naive UTC; the API writes instants as ISO 8601 with ``Z``, the pages
in the branch's local time (``sla.time_zone``), to the minute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers.pseudonym import PSEUDONYMISED_ROLES
from wealthcrm.errors import Invalid
from wealthcrm.service import notifications
from wealthcrm.service import service as svc
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.service.models import Notification, ServiceRequest, ServiceRequestEvent
from wealthcrm.service.register import RequestRow
from wealthcrm.service.rules import allowed_actions
from wealthcrm.vocab import Role
from wealthcrm.web.auth import SignedIn
from wealthcrm.web.deps import UtcNow, require_role
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.routing import make_router
from wealthcrm.web.workbench import labeller as workbench_labeller

#: the one router of the service area: service.py, service_pages.py and service_api.py all add to it (a
#: single router, not included sub-routers, so the app-wide scope test walks every route)
router = make_router()


async def service_now(now: UtcNow) -> datetime:
    """Now, naive UTC: the web layer's clock (:func:`~wealthcrm.web.deps.utc_now`), as a dependency of
    its own so tests can fix the service clock alone."""
    return now


Now = Annotated[datetime, Depends(service_now)]

ACTING = (Role.rm, Role.team_lead, Role.branch_manager, Role.service)
DESK_ROLES = (Role.service, Role.branch_manager)
MINE_ROLES = (Role.rm, Role.team_lead, Role.branch_manager)
#: who may see identified customers' requests, benefits and bookings: everyone but the pseudonymised
#: roles (analysts), refused up front so that nothing tells them which requests exist
READ_ROLES = tuple(r for r in Role if r not in PSEUDONYMISED_ROLES)
ActingUser = Annotated[SignedIn, Depends(require_role(*ACTING))]
Reader = Annotated[SignedIn, Depends(require_role(*READ_ROLES))]
DeskUser = Annotated[SignedIn, Depends(require_role(*DESK_ROLES))]
MineUser = Annotated[SignedIn, Depends(require_role(*MINE_ROLES))]

REQUEST_TYPE_LABELS = {
    "inquiry": N_("Inquiry"),
    "transaction_problem": N_("Transaction problem"),
    "complaint": N_("Complaint"),
    "appointment": N_("Appointment"),
    "entitlement": N_("Entitlement"),
}
REQUEST_STATUS_LABELS = {
    "new": N_("New"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "waiting_customer": N_("Waiting for the customer"),
    "resolved": N_("Solved"),
    "closed": N_("Case closed"),
}
SERVICE_CHANNEL_LABELS = {
    "branch": N_("Branch"),
    "phone": N_("Phone"),
    "mobile_app": N_("Mobile app"),
    "online": N_("Online banking"),
    "wechat": N_("WeChat"),
    "letter": N_("Letter"),
}
PRIORITY_LABELS = {"normal": N_("Normal"), "high": N_("High priority"), "urgent": N_("Urgent")}
ACTION_LABELS = {
    "acknowledge": N_("Acknowledge"),
    "start": N_("Start work"),
    "wait": N_("Wait for the customer"),
    "resume": N_("Resume"),
    "resolve": N_("Resolve"),
    "close": N_("Close with rating"),
    "reopen": N_("Reopen"),
}
#: the root-cause categories offered (the simulator's; any text up to 50 characters is accepted)
ROOT_CAUSE_LABELS = {
    "rm_change": N_("RM changed"),
    "maturity_handling": N_("Maturity handling"),
    "service_attitude": N_("Service attitude"),
    "waiting_time": N_("Waiting time"),
    "product_performance": N_("Product performance"),
    "fees": N_("Fees"),
    "system_error": N_("System error"),
    "transfer_delay": N_("Transfer delay"),
    "card_blocked": N_("Card blocked"),
    "user_error": N_("Customer error"),
    "": N_("Not recorded"),
}
BENEFIT_LABELS = {
    "airport_lounge": N_("Airport lounge"),
    "airport_vip_lane": N_("Airport VIP lane"),
    "health_checkup": N_("Health check-up"),
    "priority_queue": N_("Priority queue"),
    "fee_waiver": N_("Fee waiver"),
}
VIP_SERVICE_LABELS = {
    "wealth_consultation": N_("Wealth consultation"),
    "lounge": N_("VIP lounge"),
    "special_counter": N_("Special counter"),
}
AGEING_LABELS = {
    "under_1": N_("Under 1 working day"),
    "1_3": N_("1–3 working days"),
    "3_5": N_("3–5 working days"),
    "5_plus": N_("5 working days or more"),
}
SLA_LABELS = {"acknowledge": N_("acknowledgement"), "resolve": N_("resolution")}
TARGET_LABELS = {
    "assignee": N_("the assignee"),
    "team_lead": N_("the team lead"),
    "branch_manager": N_("the branch manager"),
}
EVENT_LABELS = {
    "created": N_("Logged"),
    "update": N_("Changed"),
    "escalation": N_("Escalated"),
}
SEGMENT_LABELS = {"gold_prospect": N_("Gold prospect")}
FIELD_LABELS = {
    "priority": N_("Priority"),
    "root_cause": N_("Root cause"),
    "staff_id": N_("Assignee"),
    "summary": N_("Summary"),
}
LABELS: dict[str, dict[str, str]] = {
    "request_type": REQUEST_TYPE_LABELS,
    "request_status": REQUEST_STATUS_LABELS,
    "service_channel": SERVICE_CHANNEL_LABELS,
    "priority": PRIORITY_LABELS,
    "action": ACTION_LABELS,
    "root_cause": ROOT_CAUSE_LABELS,
    "benefit": BENEFIT_LABELS,
    "vip_service": VIP_SERVICE_LABELS,
    "ageing": AGEING_LABELS,
    "sla": SLA_LABELS,
    "target": TARGET_LABELS,
    "event": EVENT_LABELS,
    "segment": SEGMENT_LABELS,
    "field": FIELD_LABELS,
}


def labeller(_: Translator) -> Callable[[str, Any], str]:
    """``label(kind, code)``: the service's labels, then the workbench's (tier, alert…); else the code."""
    fallback = workbench_labeller(_)

    def label(kind: str, code: Any) -> str:
        text = "" if code is None else str(getattr(code, "value", code))
        known = LABELS.get(kind, {}).get(text)
        if known is not None:
            return _(known)
        if kind == "segment":
            return str(fallback("tier", text))
        if kind in LABELS or code is None:
            return text or "—"
        return str(fallback(kind, text))

    return label


def calendar_of(request: Request) -> WorkingCalendar:
    settings: Settings = request.app.state.settings
    return svc.calendar_of(settings)


def z(at: datetime | None) -> str | None:
    """A stored instant as ISO 8601 UTC."""
    return None if at is None else at.isoformat() + "Z"


def parse_instant(value: datetime, calendar: WorkingCalendar) -> datetime:
    """An instant from the API: with an offset, converted; without one, the branch's local time."""
    if not 2000 <= value.year <= 2200:
        raise Invalid(f"{value:%Y-%m-%d}: out of range")
    if value.tzinfo is not None:
        return calendar.to_utc(calendar.to_local(value))
    return calendar.to_utc(value)


def local_text(at: datetime | None, calendar: WorkingCalendar) -> str:
    return "—" if at is None else f"{calendar.to_local(at):%Y-%m-%d %H:%M}"


def can_work(user: SignedIn) -> bool:
    return user.role in svc.ACTING_ROLES


def sla_json(req: ServiceRequest, *, now: datetime, calendar: WorkingCalendar) -> dict[str, Any]:
    view = svc.sla_view(req, now=now, calendar=calendar)
    return {
        "acknowledge_due_at": z(view.acknowledge_due_at),
        "due_at": z(view.due_at),
        "acknowledged_late": view.acknowledged_late,
        "breached": view.breached,
        "remaining_hours": None if view.remaining_hours is None else round(view.remaining_hours, 2),
        "paused": view.paused,
        "paused_hours": round(float(req.paused_hours or 0.0), 2),
    }


def request_json(row: RequestRow, *, now: datetime, calendar: WorkingCalendar) -> dict[str, Any]:
    r = row.request
    return {
        "request_id": r.request_id,
        "customer_id": r.customer_id,
        "customer_name": row.customer_name,
        "mobile_masked": row.mobile_masked,
        "rm_id": row.rm_id,
        "request_type": r.request_type.value,
        "channel": r.channel.value,
        "priority": r.priority.value,
        "status": r.status.value,
        "root_cause": r.root_cause,
        "assignee_id": r.staff_id,
        "summary": r.summary,
        "sla_tier": None if r.sla_tier is None else str(getattr(r.sla_tier, "value", r.sla_tier)),
        "opened_at": z(r.opened_at),
        "acknowledged_at": z(r.acknowledged_at),
        "resolved_at": z(r.resolved_at),
        "closed_at": z(r.closed_at),
        "rating": r.rating,
        "version": r.version,
        "allowed_actions": [a.value for a in allowed_actions(r.status)],
        "sla": sla_json(r, now=now, calendar=calendar),
    }


def event_json(e: ServiceRequestEvent) -> dict[str, Any]:
    return {
        "at": z(e.at),
        "kind": e.kind,
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "actor": e.actor,
        "actor_role": e.actor_role,
        "sla": e.sla,
        "step": e.step,
        "note": e.note,
        "details": e.details,
    }


def notification_text(note: Notification, _: Translator, calendar: WorkingCalendar) -> str:
    """A notification in the reader's language."""
    p = note.params or {}
    label = labeller(_)
    kind = label("request_type", p.get("request_type"))
    if note.code == "service.escalation":
        due = p.get("due_at")
        due_text = local_text(datetime.fromisoformat(due), calendar) if isinstance(due, str) else "—"
        return _(
            "{request} ({type}, customer {customer}) missed its {sla} due time {due}: "
            "escalation step {step}, to {target}"
        ).format(
            request=p.get("request_id"),
            type=kind,
            customer=p.get("customer_id"),
            sla=label("sla", p.get("sla")),
            due=due_text,
            step=p.get("step"),
            target=label("target", p.get("target")),
        )
    if note.code == "service.assigned":
        return _("{by} assigned {request} ({type}, customer {customer}) to you").format(
            by=p.get("by"), request=p.get("request_id"), type=kind, customer=p.get("customer_id")
        )
    return note.code


def notification_json(
    note: Notification, translators: dict[str, Translator], calendar: WorkingCalendar
) -> dict[str, Any]:
    return {
        "id": note.id,
        "code": note.code,
        "params": note.params,
        "text": {loc: notification_text(note, t, calendar) for loc, t in translators.items()},
        "created_at": z(note.created_at),
        "read_at": z(note.read_at),
    }


def unread(session: Session, user: SignedIn) -> int:
    return notifications.unread_count(session, user=user)
