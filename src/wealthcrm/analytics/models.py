"""What the nightly batch writes: per customer-month results, model versions, and the runs themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, money, str_enum
from wealthcrm.vocab import Stage, Tier


class ModelVersion(Base):
    """A trained churn model: its training window, features, parameters, backtest metrics and artefact."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "churn"
    created_at: Mapped[datetime]
    train_from: Mapped[date]
    train_until: Mapped[date]
    horizon_months: Mapped[int]
    features: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=False)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    notes: Mapped[str | None] = mapped_column(String(500))


class CustomerMonth(Base):
    """One customer in one month as the nightly batch sees it: tier, stage, risk and its reasons."""

    __tablename__ = "customer_months"
    __table_args__ = (
        Index("ix_customer_months_month_aum_at_risk", "month", "aum_at_risk"),
        # Composite natural key and narrow rows: on SQLite the table is its key's B-tree (WITHOUT ROWID),
        # one structure to write instead of two (17% faster imports, bench/import.py).
        {"sqlite_with_rowid": False},
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    aum: Mapped[float] = mapped_column(money())
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, "tier", check=False))
    tier_met: Mapped[Tier] = mapped_column(str_enum(Tier, "tier_met", check=False))
    watch: Mapped[bool]
    months_below: Mapped[int]
    tier_event: Mapped[str | None] = mapped_column(String(16))  # upgrade | downgrade
    customer_loss: Mapped[bool]
    asset_loss_amount: Mapped[float | None] = mapped_column(money())
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, "stage", check=False))
    p_loss: Mapped[float | None] = mapped_column(Float)
    aum_at_risk: Mapped[float | None] = mapped_column(money())
    expected_outflow: Mapped[float | None] = mapped_column(money())
    #: [{"feature": ..., "contribution": ..., "value": ..., "zh": ..., "en": ...}, ...] largest first
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    value_segment: Mapped[str | None] = mapped_column(String(32))
    behaviour_segment: Mapped[str | None] = mapped_column(String(32))


class NightlyRun(Base):
    """One run of `wealthcrm nightly`: the month, when, how long each stage took, rows written."""

    __tablename__ = "nightly_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    stages: Mapped[dict[str, float]] = mapped_column(JSON)
    rows: Mapped[dict[str, int]] = mapped_column(JSON)
