"""Input of the capability records: what a team lead or the branch manager enters (validated here)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from wealthcrm.scorecards.models import QualificationKind

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
StaffId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Score = Annotated[int, Field(ge=1, le=5)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualificationCreate(_In):
    staff_id: StaffId
    kind: QualificationKind
    number: Number
    obtained_on: date
    expires_on: date | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _expires_after_obtained(self) -> Self:
        if self.expires_on is not None and self.expires_on < self.obtained_on:
            raise ValueError("expires_on is before obtained_on")
        return self


class QualificationUpdate(_In):
    """Fields to change; a field left out stays as it is (``expires_on: null`` makes it never expire)."""

    kind: QualificationKind | None = None
    number: Number | None = None
    obtained_on: date | None = None
    expires_on: date | None = None
    note: Note | None = None


class TrainingCreate(_In):
    staff_id: StaffId
    course: Text200
    provider: Text100 | None = None
    hours: float = Field(gt=0, le=1000)
    completed_on: date
    score: float | None = Field(None, ge=0, le=100)


class TrainingUpdate(_In):
    course: Text200 | None = None
    provider: Text100 | None = None
    hours: float | None = Field(None, gt=0, le=1000)
    completed_on: date | None = None
    score: float | None = Field(None, ge=0, le=100)


class AssessmentCreate(_In):
    staff_id: StaffId
    assessed_on: date
    product_knowledge: Score
    compliance: Score
    service: Score
    relationship: Score
    digital: Score
    note: Note | None = None


class AssessmentUpdate(_In):
    product_knowledge: Score | None = None
    compliance: Score | None = None
    service: Score | None = None
    relationship: Score | None = None
    digital: Score | None = None
    note: Note | None = None
