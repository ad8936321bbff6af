"""RM capability records (qualifications, training, competency assessments) and the stored monthly
scorecards (one row per RM, team and the branch per month, the figures as JSON keyed by
:data:`wealthcrm.scorecards.metrics.METRICS`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum


class QualificationKind(StrEnum):
    """Professional qualifications and sales licences an RM may hold (资格证书)."""

    afp = "afp"  # 金融理财师 AFP
    cfp = "cfp"  # 国际金融理财师 CFP
    cpb = "cpb"  # 私人银行家 CPB
    banking_wealth = "banking_wealth"  # 银行业专业人员职业资格（个人理财）
    fund_licence = "fund_licence"  # 基金从业资格
    securities_licence = "securities_licence"  # 证券从业资格
    insurance_licence = "insurance_licence"  # 保险代理从业（销售）资格
    other = "other"


class Competency(StrEnum):
    """The dimensions of a competency assessment, each scored 1 (weak) … 5 (excellent)."""

    product_knowledge = "product_knowledge"
    compliance = "compliance"
    service = "service"
    relationship = "relationship"
    digital = "digital"


class ScorecardLevel(StrEnum):
    rm = "rm"
    team = "team"
    branch = "branch"


class Qualification(Base):
    __tablename__ = "qualifications"
    __table_args__ = (
        UniqueConstraint("staff_id", "kind", "number"),
        CheckConstraint("expires_on IS NULL OR expires_on >= obtained_on", name="expires_after_obtained"),
        Index("ix_qualifications_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    kind: Mapped[QualificationKind] = mapped_column(str_enum(QualificationKind, "qualification_kind"))
    #: the certificate or licence number
    number: Mapped[str] = mapped_column(String(64))
    obtained_on: Mapped[date]
    #: None: does not expire
    expires_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class Training(Base):
    __tablename__ = "trainings"
    __table_args__ = (
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_0_to_100"),
        Index("ix_trainings_staff_id_completed_on", "staff_id", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    course: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(100))
    hours: Mapped[float] = mapped_column(Float)
    completed_on: Mapped[date]
    #: the assessment score at the end of the course, 0–100 (None: no assessment)
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


_SCORE_RANGE = " AND ".join(f"{c.value} BETWEEN 1 AND 5" for c in Competency)


class CompetencyAssessment(Base):
    """A team lead's (or the branch manager's) assessment of one RM on the five competencies."""

    __tablename__ = "competency_assessments"
    __table_args__ = (
        UniqueConstraint("staff_id", "assessed_on"),
        CheckConstraint(_SCORE_RANGE, name="scores_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    assessed_on: Mapped[date]
    #: the user who assessed (a team lead or branch manager)
    assessed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    product_knowledge: Mapped[int]
    compliance: Mapped[int]
    service: Mapped[int]
    relationship: Mapped[int]
    digital: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def score(self, competency: Competency) -> int:
        return int(getattr(self, competency.value))


class ScorecardRun(Base):
    """One computation of a month's scorecards (the latest replaces the earlier ones of the month)."""

    __tablename__ = "scorecard_runs"

    month: Mapped[date] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime]
    #: the risk window (months) and the churn model's horizon the retention figures used
    window_months: Mapped[int]
    horizon_months: Mapped[int]
    #: RM, team and branch rows written
    units: Mapped[int]


class Scorecard(Base):
    """The figures of one RM, team or the branch in one month (``figures``: metric key → number or None)."""

    __tablename__ = "scorecards"
    __table_args__ = (Index("ix_scorecards_level_unit_id_month", "level", "unit_id", "month"),)

    month: Mapped[date] = mapped_column(ForeignKey("scorecard_runs.month"), primary_key=True)
    level: Mapped[ScorecardLevel] = mapped_column(
        str_enum(ScorecardLevel, "scorecard_level"), primary_key=True
    )
    #: staff id, team id or branch id
    unit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the RM's team when computed (an RM may move teams later); for a team row its own id
    team_id: Mapped[str | None] = mapped_column(String(32))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
