"""One task on one staff member's list, usually about one customer.

Tasks come from the nightly batch (retention, maturities, cadence, birthdays, assessments), from
people (a follow-up date on an interaction, a handover note) and from other domains (complaints,
survey detractors). ``source_key`` de-duplicates generated tasks across nights: the same maturity or
the same overdue cadence period never makes a second task.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, money, str_enum
from wealthcrm.vocab import TaskKind, TaskOutcome, TaskStatus


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_id_status_due_on", "assignee_id", "status", "due_on"),
        Index("ix_tasks_customer_id_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, "task_kind"))
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, "task_status"))
    #: the customer it is about (None for staff tasks such as an expiring qualification)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    #: whose list it is on
    assignee_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    #: e.g. "maturity:P000123", "cadence:C0001:2026-11"; None for tasks people create
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    due_on: Mapped[date]
    snoozed_until: Mapped[date | None]
    #: the ranking on Today: CNY at stake (AUM at risk, maturing principal…), larger first
    priority_amount: Mapped[float] = mapped_column(money(), default=0.0)
    #: facts the page turns into the reason in the reader's language, e.g. {"product": "…", "amount": …}
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)  # a person's text: follow-up or handover note
    outcome: Mapped[TaskOutcome | None] = mapped_column(str_enum(TaskOutcome, "task_outcome"))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    #: the logged contact that worked it
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.interaction_id"))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the nightly batch
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: optimistic locking: an update with a stale version is refused, never silently lost
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
