"""Survey answers, one row per response and item (long format, so any questionnaire fits); survey
waves and their one-time invitations (distribution, issue 6)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_customer_id_answered_on", "customer_id", "answered_on"),
        # Composite natural key and narrow rows: on SQLite the table is its key's B-tree (WITHOUT ROWID).
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    answered_on: Mapped[date]
    #: the answer on the item's scale (Likert, NPS 0–10, a choice's code); None for free text
    score: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class WaveStatus(StrEnum):
    """A wave takes answers while ``open`` (between its dates); ``closed`` ends it early."""

    open = "open"
    closed = "closed"


class SurveyWave(Base):
    """One distribution of a questionnaire to a segment of customers, with its dates.

    The questionnaire is kept as it was when the wave was created (``questionnaire``, the validated
    YAML as JSON), so the form and the checks of its answers do not change when the file does.
    """

    __tablename__ = "survey_waves"
    __table_args__ = (CheckConstraint("closes_on >= opens_on", name="closes_after_opens"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    questionnaire_version: Mapped[int]
    questionnaire: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the segment: tiers and lifecycle stages (empty: any), one RM's book, a random sample
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    rm_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    sample_size: Mapped[int | None]
    sample_seed: Mapped[int | None]
    #: the month of nightly results (customer_months) the tiers and stages were read from
    segment_month: Mapped[date | None]
    opens_on: Mapped[date]
    closes_on: Mapped[date]  # inclusive
    status: Mapped[WaveStatus] = mapped_column(str_enum(WaveStatus, "survey_wave_status"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SurveyInvitation(Base):
    """One customer invited to one wave, with their one-time token (stored only as its SHA-256)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("wave_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_waves.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    #: hex SHA-256 of the token; None until a token is issued (re-issuing replaces it)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    #: the answers' ``survey_answers.response_id`` once answered
    response_id: Mapped[str | None] = mapped_column(String(40), unique=True)
