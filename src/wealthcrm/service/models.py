"""Service requests and complaints, as the bank's service systems record them (the service issue adds
the workflow: states, SLA clocks on a working calendar, escalation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel


class ServiceRequest(Base):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(
            "acknowledged_at IS NULL OR acknowledged_at >= opened_at", name="acknowledged_after_opened"
        ),
        CheckConstraint("resolved_at IS NULL OR resolved_at >= opened_at", name="resolved_after_opened"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_1_to_5"),
        Index("ix_service_requests_customer_id_opened_at", "customer_id", "opened_at"),
    )

    request_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    request_type: Mapped[RequestType] = mapped_column(str_enum(RequestType, "request_type"))
    channel: Mapped[ServiceChannel] = mapped_column(str_enum(ServiceChannel, "channel"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    root_cause: Mapped[str | None] = mapped_column(String(50))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "status"))
    rating: Mapped[int | None]
