"""Early-warning alerts: one row per customer, signal and episode, de-duplicated across nights."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import AlertStatus, AlertType, Severity


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_customer_id_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    alert_type: Mapped[AlertType] = mapped_column(str_enum(AlertType, "alert_type"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    #: customer, type and episode (e.g. the transaction, the matured position, the month the watch began):
    #: the same episode seen again on a later night updates this row instead of adding one
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus, "status"))
    first_month: Mapped[date]
    last_month: Mapped[date]
    #: facts that raised it, e.g. {"amount": 300000, "share_of_aum": 0.34, "txn_id": "X1"}
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: code of the suggested action; the page renders it in the user's language
    action: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
