"""Service requests and complaints, as the bank's service systems record them, plus the workflow the
app adds: every state change and escalation (:class:`ServiceRequestEvent`), in-app notifications
(:class:`Notification`) and VIP appointments with per-slot capacity (:class:`Appointment`,
:class:`AppointmentSlot`).

The data-contract importer writes ``service_requests`` too: the workflow's columns are nullable or have
server defaults, so a file of the contract's columns still loads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel, Tier


class ServiceRequest(Base):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(
            "acknowledged_at IS NULL OR acknowledged_at >= opened_at", name="acknowledged_after_opened"
        ),
        CheckConstraint("resolved_at IS NULL OR resolved_at >= opened_at", name="resolved_after_opened"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_1_to_5"),
        Index("ix_service_requests_customer_id_opened_at", "customer_id", "opened_at"),
        Index("ix_service_requests_status_due_at", "status", "due_at"),
    )

    request_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    request_type: Mapped[RequestType] = mapped_column(str_enum(RequestType, "request_type"))
    channel: Mapped[ServiceChannel] = mapped_column(str_enum(ServiceChannel, "channel"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    root_cause: Mapped[str | None] = mapped_column(String(50))
    #: the assignee: the staff member handling it
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    #: the SLA due time for resolution (moves later by the business time the clock was stopped)
    due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "status"))
    rating: Mapped[int | None]
    # --- the workflow's columns (not in the data contract) ---
    #: what the customer asked or complained about, in the staff member's words
    summary: Mapped[str | None] = mapped_column(Text)
    #: the tier whose SLA applies, fixed when the request was opened
    sla_tier: Mapped[Tier | None] = mapped_column(str_enum(Tier, "sla_tier", check=False))
    #: the SLA due time for acknowledgement
    acknowledge_due_at: Mapped[datetime | None]
    #: when the SLA clock stopped (waiting for the customer, resolved, closed); None while it runs
    clock_stopped_at: Mapped[datetime | None]
    #: business hours the clock has been stopped in total
    paused_hours: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    closed_at: Mapped[datetime | None]
    #: optimistic locking: an update with a stale version is refused, never silently lost
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)


class ServiceRequestEvent(Base):
    """One thing that happened to a request: created, a transition, an update, an escalation step."""

    __tablename__ = "service_request_events"
    __table_args__ = (Index("ix_service_request_events_request_id_at", "request_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.request_id"))
    at: Mapped[datetime]
    #: created | transition | update | escalation
    kind: Mapped[str] = mapped_column(String(20))
    #: the action (acknowledge, resolve, …) of a transition
    action: Mapped[str | None] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    #: username, or "system" for escalations
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    #: escalations: which SLA (acknowledge | resolve) and which step (1 assignee, 2 team lead, 3 manager)
    sla: Mapped[str | None] = mapped_column(String(12))
    step: Mapped[int | None]
    #: makes an escalation step happen once: "escalation:<request>:<sla>:<step>"
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Notification(Base):
    """An in-app message to a staff member (or a user without a staff record): a text code + parameters
    the page renders in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("staff_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"),
        Index("ix_notifications_staff_id_read_at", "staff_id", "read_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    code: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class AppointmentSlot(Base):
    """Bookings of one VIP service in one slot: the row the capacity check locks (SELECT … FOR UPDATE)."""

    __tablename__ = "appointment_slots"
    __table_args__ = (CheckConstraint("booked >= 0", name="booked_not_negative"),)

    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(default=0, server_default="0")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_customer_id_slot_start", "customer_id", "slot_start"),
        Index("ix_appointments_service_slot_start", "service", "slot_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    #: wealth_consultation | lounge | special_counter
    service: Mapped[str] = mapped_column(String(32))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    #: booked | cancelled
    status: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
