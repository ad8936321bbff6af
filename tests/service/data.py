"""A small branch for the service and entitlement tests, built with the ORM, and a controlled clock.

Staff: S01 rm01 (team T1), S02 lead (team lead of T1), S03 svc (service staff, no team), S04 mgr
(branch manager), S05 rm02 (team T2). Users add ``boss`` (a branch manager without a staff record),
``audit`` (auditor). Customers (RM): C1 sunflower (S01), C2 gold (S01), C3 never tiered (S01),
C4 sunflower until 2025-07 then gold (S05), C5…C9 sunflower (S01). The service user holds look-up
grants for C1 and C2 only.

The working calendar is China's National Day 2025: holidays 10-01…10-08, make-up working days Sunday
09-28 and Saturday 10-11. Times in tests are written in Beijing time with :func:`bj`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.customers.models import AccessGrant, Customer
from wealthcrm.service.calendar import WorkingCalendar
from wealthcrm.staff.models import Branch, Staff, Team
from wealthcrm.users.models import User
from wealthcrm.vocab import CustomerStatus, Role, StaffStatus, Stage, Tier

HOLIDAYS = [date(2025, 10, d) for d in range(1, 9)]
MAKEUP = [date(2025, 9, 28), date(2025, 10, 11)]
CALENDAR = WorkingCalendar.of(holidays=HOLIDAYS, makeup_workdays=MAKEUP)
CREATED = datetime(2025, 1, 1)


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Beijing local time as the stored naive UTC (Beijing is UTC+8, no daylight saving)."""
    return datetime(year, month, day, hour, minute) - timedelta(hours=8)


def make_settings(tmp_path: Path, **sections: object) -> Settings:
    sla = {"public_holidays": HOLIDAYS, "makeup_workdays": MAKEUP}
    return Settings(
        data_dir=tmp_path / "data",
        field_key=base64.b64encode(bytes(range(32))).decode(),
        sla=sections.pop("sla", sla),
        **sections,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Who:
    """A signed-in user as services see one."""

    id: int
    username: str
    role: Role
    staff_id: str | None


def _months(customer_id: str, tiers: dict[str, Tier]) -> list[CustomerMonth]:
    return [
        CustomerMonth(
            customer_id=customer_id,
            month=date.fromisoformat(f"{m}-01"),
            aum=600_000 if t is Tier.sunflower else 100_000,
            tier=t,
            tier_met=t,
            watch=False,
            months_below=0,
            tier_event=None,
            customer_loss=False,
            asset_loss_amount=None,
            stage=Stage.mature,
            p_loss=None,
            aum_at_risk=None,
            expected_outflow=None,
            reasons=None,
            model_version_id=None,
        )
        for m, t in tiers.items()
    ]


SUNFLOWER = {"2025-08": Tier.sunflower, "2025-09": Tier.sunflower}
USERS = {
    "rm01": (1, Role.rm, "S01"),
    "lead": (2, Role.team_lead, "S02"),
    "svc": (3, Role.service, "S03"),
    "mgr": (4, Role.branch_manager, "S04"),
    "rm02": (5, Role.rm, "S05"),
    "boss": (6, Role.branch_manager, None),
    "audit": (7, Role.auditor, None),
}


def who(username: str) -> Who:
    uid, role, staff_id = USERS[username]
    return Who(uid, username, role, staff_id)


def seed(session: Session) -> None:
    session.add(Branch(branch_id="B1", name="测试支行", city="深圳"))
    session.flush()
    session.add_all(
        [Team(team_id="T1", branch_id="B1", name="一组"), Team(team_id="T2", branch_id="B1", name="二组")]
    )
    session.flush()
    staff = [
        ("S01", "T1", Role.rm),
        ("S02", "T1", Role.team_lead),
        ("S03", None, Role.service),
        ("S04", None, Role.branch_manager),
        ("S05", "T2", Role.rm),
    ]
    for sid, team, role in staff:
        session.add(
            Staff(
                staff_id=sid,
                branch_id="B1",
                team_id=team,
                name=sid,
                role=role,
                status=StaffStatus.active,
                joined_on=date(2020, 1, 1),
            )
        )
    session.flush()
    for username, (uid, role, staff_id) in USERS.items():
        session.add(
            User(
                id=uid, username=username, password_hash="x", role=role, staff_id=staff_id, created_at=CREATED
            )
        )
    rms = {"C4": "S05"}
    for cid in ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"]:
        session.add(
            Customer(
                customer_id=cid,
                branch_id="B1",
                name=f"客户{cid}",
                onboarded_on=date(2020, 1, 1),
                rm_id=rms.get(cid, "S01"),
                status=CustomerStatus.active,
            )
        )
    session.flush()
    months = dict.fromkeys(["C1", "C5", "C6", "C7", "C8", "C9"], SUNFLOWER)
    months["C2"] = {"2025-08": Tier.gold, "2025-09": Tier.gold}
    months["C4"] = {
        "2025-07": Tier.sunflower,
        "2025-08": Tier.gold,
        "2025-09": Tier.gold,
        "2025-10": Tier.gold,
        "2025-11": Tier.gold,
    }
    for cid, tiers in months.items():
        session.add_all(_months(cid, tiers))
    for cid in ["C1", "C2"]:
        session.add(
            AccessGrant(
                user_id=3,
                customer_id=cid,
                reason="walk-in",
                granted_at=CREATED,
                expires_at=datetime(2099, 1, 1),
            )
        )
    session.flush()
    # the audit chain's head row exists in any live database; concurrent *first* entries of an empty
    # log collide on it (audit.service creates it on first use), which is not what these tests test
    audit.record(session, actor=None, action="test.seed", at=CREATED)
