"""Customers: demographics, assigned RM, suitability level, consent, and encrypted PII."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
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
