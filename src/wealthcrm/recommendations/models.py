"""Recommendations (next best actions) and the suitability gate's verdict on each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, money, str_enum
from wealthcrm.vocab import RecommendationKind, RecommendationStatus, SaleChannel


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recommendations_customer_id_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    product_code: Mapped[str | None] = mapped_column(ForeignKey("products.product_code"))
    kind: Mapped[RecommendationKind] = mapped_column(str_enum(RecommendationKind, "recommendation_kind"))
    status: Mapped[RecommendationStatus] = mapped_column(
        str_enum(RecommendationStatus, "recommendation_status")
    )
    #: e.g. "reinvest:P000123": the same opportunity is proposed once
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    amount: Mapped[float | None] = mapped_column(money())
    #: the facts behind it, e.g. {"position_id": "…", "maturity_on": "2026-12-03", "principal": 300000}
    rationale: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: codes of the suitability rules it fails, e.g. ["risk_above_tolerance", "assessment_expired"]
    blocked_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[SaleChannel | None] = mapped_column(str_enum(SaleChannel, "sale_channel"))
    recording_id: Mapped[str | None] = mapped_column(String(64))  # the 双录 recording
    recording_consent: Mapped[bool | None]
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the approving team lead
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]
