"""Survey answers, one row per response and item (long format, so any questionnaire fits)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base


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
