"""The Team page's coverage per RM: exact numbers, which teams each role may see (both databases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import CadenceSettings, Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Forbidden, NotFound
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff import service
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import Stage, Tier

from ..customers.bookdata import ON, load_book

CADENCE = CadenceSettings()
S001 = {
    "staff_id": "S001",
    "name": "王经理",
    "role": "rm",
    "status": "active",
    "customers": 2,
    "sunflower_plus": 2,
    "aum": 6_900_000.0,
    "aum_at_risk": 1_098_000.0,
    "open_high_alerts": 1,  # C001's large outflow
    "contacted_30d": 1,  # C003 on 11-20; C001's last contact is 56 days old
    "cadence_customers": 2,
    "cadence_due": 1,  # C001 (sunflower, 30 days); C003 (diamond, 14 days) was contacted 8 days ago
    "open_tasks": 2,
    "overdue_tasks": 1,
}
EMPTY = dict.fromkeys(
    ["customers", "sunflower_plus", "open_high_alerts", "contacted_30d", "cadence_customers", "cadence_due"],
    0,
) | {"aum": 0.0, "aum_at_risk": 0.0, "open_tasks": 0, "overdue_tasks": 0}


@pytest.fixture
def bk(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


def test_coverage_of_team_one(bk: Engine) -> None:
    with session_scope(bk) as session:
        found = service.coverage(session, user=_user(session, "lead"), team_id=None, on=ON, cadence=CADENCE)
        assert (found.team.team_id, [t.team_id for t in found.teams], found.month) == (
            "T01",
            ["T01"],
            date(2026, 10, 1),
        )
        # the lead's C002 has closed: no active customer; S007 has left with no book: not listed
        assert [r.to_dict() for r in found.rms] == [
            S001,
            {"staff_id": "S002", "name": "李主管", "role": "team_lead", "status": "active"} | EMPTY,
            {
                "staff_id": "S005",
                "name": "孙经理",
                "role": "rm",
                "status": "active",
                "customers": 1,
                "sunflower_plus": 1,
                "aum": 800_000.0,
                "aum_at_risk": 40_000.0,
                "open_high_alerts": 0,
                "contacted_30d": 1,  # 10-30 is 29 days before 11-28
                "cadence_customers": 1,
                "cadence_due": 0,
                "open_tasks": 0,
                "overdue_tasks": 0,
            },
        ]
        assert found.totals["aum_at_risk"] == 1_138_000.0 and found.totals["customers"] == 3


def test_coverage_of_team_two_for_the_manager(bk: Engine) -> None:
    with session_scope(bk) as session:
        boss = _user(session, "boss")
        found = service.coverage(session, user=boss, team_id="T02", on=ON, cadence=CADENCE)
        assert [t.team_id for t in found.teams] == ["T01", "T02"]
        rows = {r.staff_id: r.to_dict() for r in found.rms}
        assert list(rows) == ["S004", "S006"]
        assert rows["S004"] | {"name": ""} == {
            "staff_id": "S004",
            "name": "",
            "role": "rm",
            "status": "active",
            "customers": 1,
            "sunflower_plus": 1,
            "aum": 2_000_000.0,
            "aum_at_risk": 600_000.0,
            "open_high_alerts": 0,  # C004's alert is medium
            "contacted_30d": 0,  # 10-29 is 30 days before 11-28
            "cadence_customers": 1,
            "cadence_due": 1,
            "open_tasks": 1,  # snoozed counts as open
            "overdue_tasks": 1,
        }
        assert (
            service.coverage(session, user=boss, team_id=None, on=ON, cadence=CADENCE).team.team_id == "T01"
        )


def test_gold_prospects_follow_their_own_cadence(bk: Engine) -> None:
    with session_scope(bk) as session:
        # C005 becomes a gold prospect: 400,000 in October, up from 350,000 in September
        session.execute(
            update(CustomerMonth)
            .where(CustomerMonth.customer_id == "C005")
            .values(tier=Tier.gold, tier_met=Tier.gold, aum=400_000)
        )
        session.add(
            CustomerMonth(
                customer_id="C005", month=date(2026, 9, 1), aum=350_000, tier=Tier.gold, tier_met=Tier.gold,
                watch=False, months_below=0, customer_loss=False, stage=Stage.mature,
            )
        )  # fmt: skip
        session.flush()
        lead = _user(session, "lead")

        def s005() -> tuple[int, int, int]:
            rows = service.coverage(session, user=lead, team_id=None, on=ON, cadence=CADENCE).rms
            r = next(r for r in rows if r.staff_id == "S005")
            return r.sunflower_plus, r.cadence_customers, r.cadence_due

        assert s005() == (0, 1, 0)  # 90 days; contacted 29 days ago
        session.execute(delete(Interaction).where(Interaction.customer_id == "C005"))
        assert s005() == (0, 1, 1)  # never contacted
        session.execute(
            update(CustomerMonth).where(CustomerMonth.month == date(2026, 9, 1)).values(aum=450_000)
        )
        assert s005() == (0, 0, 0)  # falling: not a prospect


def test_who_sees_which_team(bk: Engine) -> None:
    with session_scope(bk) as session:
        with pytest.raises(NotFound):
            service.coverage(session, user=_user(session, "lead"), team_id="T02", on=ON, cadence=CADENCE)
        for username in ("rm01", "svc", "audit", "analyst", "admin1"):
            with pytest.raises(Forbidden):
                service.coverage(session, user=_user(session, username), team_id=None, on=ON, cadence=CADENCE)
        assert [s.staff_id for s in service.rms_in_scope(session, user=_user(session, "lead"))] == [
            "S001", "S002", "S005", "S007",
        ]  # fmt: skip
        assert [s.staff_id for s in service.rms_in_scope(session, user=_user(session, "audit"))] == [
            "S001", "S002", "S004", "S005", "S006", "S007",
        ]  # fmt: skip
        assert service.rms_in_scope(session, user=_user(session, "rm01")) == []
        assert service.rms_in_scope(session, user=_user(session, "svc")) == []
        assert [s.staff_id for s in service.active_targets(session, team_id="T01")] == [
            "S001",
            "S002",
            "S005",
        ]
