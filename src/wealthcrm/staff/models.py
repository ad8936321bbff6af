"""The bank's organisation: branches, teams and staff (RMs, team leads, managers, service staff…)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import Role, StaffStatus


class Branch(Base):
    __tablename__ = "branches"

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(50))


class Team(Base):
    __tablename__ = "teams"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joined"),)

    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.team_id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    status: Mapped[StaffStatus] = mapped_column(str_enum(StaffStatus, "status"))
    joined_on: Mapped[date]
    left_on: Mapped[date | None]
