"""Customers: demographics, assigned RM, suitability level, consent, and encrypted PII."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import CustomerStatus, Gender, RiskLevel


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("closed_on IS NULL OR closed_on >= onboarded_on", name="closed_after_onboarded"),
    )

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender, "gender"))
    birth_date: Mapped[date | None]
    occupation: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    onboarded_on: Mapped[date]
    rm_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    risk_level: Mapped[RiskLevel | None] = mapped_column(str_enum(RiskLevel, "risk_level"))
    risk_assessed_on: Mapped[date | None]
    consent_marketing: Mapped[bool] = mapped_column(default=False)
    consent_sms: Mapped[bool] = mapped_column(default=False)
    consent_phone: Mapped[bool] = mapped_column(default=False)
    # PII: AES-GCM ciphertext, keyed HMAC blind index for look-ups, masked form for display.
    national_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    national_id_masked: Mapped[str | None] = mapped_column(String(18))
    mobile_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    mobile_index: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_masked: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[CustomerStatus] = mapped_column(str_enum(CustomerStatus, "status"))
    closed_on: Mapped[date | None]


class Delegation(Base):
    """A customer lent to another staff member (holiday cover) from ``starts_on`` to ``ends_on``."""

    __tablename__ = "delegations"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_starts"),
        Index("ix_delegations_to_staff_id_ends_on", "to_staff_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    to_staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # inclusive; the delegation lapses by itself the day after
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccessGrant(Base):
    """A service-staff look-up: one customer, masked, for a limited time, with the reason given."""

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_user_id_expires_at", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Reassignment(Base):
    """A change of a customer's RM made in the app (one customer, a selection, or a departing RM's book)."""

    __tablename__ = "reassignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    from_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    to_staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)  # the handover note; it becomes the new RM's task
    #: True when part of an RM's departure (the whole book handed over)
    departure: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime]
    by_user: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SavedView(Base):
    """A user's named Book filter (the query string of the Book page)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
