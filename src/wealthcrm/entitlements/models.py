"""Redemptions of tier benefits, and the per-customer, per-benefit, per-year counter the quota check locks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, money, str_enum
from wealthcrm.vocab import Tier


class EntitlementCounter(Base):
    """Uses of one benefit by one customer in one calendar year (local time). Redemptions lock this row
    (SELECT … FOR UPDATE) so that concurrent redemptions cannot both take the last use of a quota."""

    __tablename__ = "entitlement_counters"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    benefit: Mapped[str] = mapped_column(String(50), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(default=0, server_default="0")


class EntitlementRedemption(Base):
    __tablename__ = "entitlement_redemptions"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_entitlement_redemptions_customer_id_year", "customer_id", "year"),
        Index("ix_entitlement_redemptions_year_benefit", "year", "benefit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    benefit: Mapped[str] = mapped_column(String(50))
    #: the calendar year (local time) whose quota it uses
    year: Mapped[int]
    quantity: Mapped[int] = mapped_column(default=1)
    #: the tier whose quota applied (the higher tier during a downgrade's grace period)
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, "tier", check=False))
    #: what it cost the branch (CNY): quantity × the catalogue's cost per use at the time
    cost: Mapped[float] = mapped_column(money())
    redeemed_at: Mapped[datetime]
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    #: a cancelled redemption gives its uses back to the quota
    cancelled_at: Mapped[datetime | None]
