"""Contacts between staff and customers (calls, visits, WeChat…), imported or logged in the app."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import InteractionChannel, InteractionOutcome, InteractionPurpose


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_id_occurred_at", "customer_id", "occurred_at"),)

    interaction_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    occurred_at: Mapped[datetime]
    channel: Mapped[InteractionChannel] = mapped_column(str_enum(InteractionChannel, "channel"))
    purpose: Mapped[InteractionPurpose] = mapped_column(str_enum(InteractionPurpose, "purpose"))
    outcome: Mapped[InteractionOutcome] = mapped_column(str_enum(InteractionOutcome, "outcome"))
    notes: Mapped[str | None] = mapped_column(Text)
    #: set when logged in the app: a follow-up date creates a task for the logging RM
    follow_up_on: Mapped[date | None]
    #: the user who logged it in the app (None for imported contacts)
    logged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
