"""The Book's and the Team page's test data: the workbench's branch plus contacts, tasks and more staff.

On top of :func:`~tests.customers.workbench.load_workbench`:

- staff: S005 孙经理 (rm, T01, active) with customer C005; S006 钱经理 (rm, T02, active); S007 吴经理
  (rm, T01, left 2026-06-30); logins ``rm05`` (S005) and ``rm06`` (S006);
- C005 吴五 (S005): 2026-10 sunflower, mature, AUM ¥800,000, P(loss) 5%, AUM at risk ¥40,000;
- contacts (today is 2026-11-28): C001 2026-10-03 (56 days ago, imported), C003 2026-11-20 (8 days),
  C004 2026-10-29 (30 days: counts as no contact in 30 days), C005 2026-10-30 (29 days); C002 none;
- tasks: S001 open due 2026-11-20 (overdue) and due 2026-12-05, one done; S004 snoozed due 2026-11-01.

In 2026-10 (P(loss) bands: low < 10% ≤ medium < 30% ≤ high):

| customer | RM   | tier      | stage      | AUM       | P(loss) | band     | AUM at risk |
|----------|------|-----------|------------|-----------|---------|----------|-------------|
| C001     | S001 | sunflower | declining  | 900,000   | 42%     | high     | 378,000     |
| C002     | S002 | gold      | churned    | 0         | —       | unscored | —           |
| C003     | S001 | diamond   | onboarding | 6,000,000 | 12%     | medium   | 720,000     |
| C004     | S004 | sunflower | mature     | 2,000,000 | 30%     | high     | 600,000     |
| C005     | S005 | sunflower | mature     | 800,000   | 5%      | low      | 40,000      |
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.db import session_scope
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff.models import Staff
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    AssetClass,
    CustomerStatus,
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    Role,
    StaffStatus,
    Stage,
    TaskKind,
    TaskStatus,
    Tier,
)

from .workbench import MOBILE, NATIONAL_ID, OCT, PASSWORD, SEP, load_workbench

__all__ = ["MOBILE", "NATIONAL_ID", "ON", "PASSWORD", "load_book"]

ON = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 1, 0)


def _staff(staff_id: str, team_id: str, name: str, status: StaffStatus, left_on: date | None = None) -> Staff:
    return Staff(
        staff_id=staff_id,
        branch_id="B001",
        team_id=team_id,
        name=name,
        role=Role.rm,
        status=status,
        joined_on=date(2023, 1, 1),
        left_on=left_on,
    )


def _contact(interaction_id: str, customer_id: str, staff_id: str, at: datetime) -> Interaction:
    return Interaction(
        interaction_id=interaction_id,
        customer_id=customer_id,
        staff_id=staff_id,
        occurred_at=at,
        channel=InteractionChannel.phone,
        purpose=InteractionPurpose.review,
        outcome=InteractionOutcome.reached,
    )


def _task(assignee: str, due: date, status: TaskStatus, customer_id: str | None = None) -> Task:
    return Task(
        kind=TaskKind.follow_up,
        status=status,
        customer_id=customer_id,
        assignee_id=assignee,
        due_on=due,
        priority_amount=0.0,
        evidence={},
        created_at=NOW,
        updated_at=NOW,
    )


def load_book(engine: Engine, settings: Settings, folder: Path) -> None:
    load_workbench(engine, settings, folder)
    with session_scope(engine) as session:
        session.add_all(
            [
                _staff("S005", "T01", "孙经理", StaffStatus.active),
                _staff("S006", "T02", "钱经理", StaffStatus.active),
                _staff("S007", "T01", "吴经理", StaffStatus.left, date(2026, 6, 30)),
            ]
        )
        session.flush()
        session.add(
            Customer(
                customer_id="C005",
                branch_id="B001",
                name="吴五",
                onboarded_on=date(2018, 6, 1),
                rm_id="S005",
                status=CustomerStatus.active,
                national_id_masked="310101********5555",
                mobile_masked="137****0005",
            )
        )
        session.flush()
        session.add_all(
            [
                AumMonthly(
                    customer_id="C005",
                    month=m,
                    asset_class=AssetClass.wmp,
                    avg_daily_balance=800_000,
                    month_end_balance=800_000,
                )
                for m in (SEP, OCT)
            ]
        )
        session.add(
            CustomerMonth(
                customer_id="C005",
                month=OCT,
                aum=800_000,
                tier=Tier.sunflower,
                tier_met=Tier.sunflower,
                watch=False,
                months_below=0,
                tier_event=None,
                customer_loss=False,
                asset_loss_amount=None,
                stage=Stage.mature,
                p_loss=0.05,
                aum_at_risk=40_000,
                expected_outflow=None,
                reasons=[],
            )
        )
        session.add_all(
            [
                _contact("I2", "C003", "S001", datetime(2026, 11, 20, 9, 0)),
                _contact("I3", "C004", "S004", datetime(2026, 10, 29, 15, 0)),
                _contact("I4", "C005", "S005", datetime(2026, 10, 30, 11, 0)),
            ]
        )
        session.add_all(
            [
                _task("S001", date(2026, 11, 20), TaskStatus.open, "C001"),
                _task("S001", date(2026, 12, 5), TaskStatus.open, "C003"),
                _task("S001", date(2026, 11, 1), TaskStatus.done, "C001"),
                _task("S004", date(2026, 11, 1), TaskStatus.snoozed, "C004"),
            ]
        )
        users.create(session, username="rm05", password=PASSWORD, role=Role.rm, staff_id="S005")
        users.create(session, username="rm06", password=PASSWORD, role=Role.rm, staff_id="S006")


#: months added by :func:`add_history` before the branch's 2026-09 and 2026-10
EARLY_MONTHS = [date(2026, m, 1) for m in (5, 6, 7, 8)]


def add_history(engine: Engine) -> None:
    """Six months of AUM for the Branch page (2026-05 … 2026-10), on top of :func:`load_book`.

    C001 1,600,000 from May to Aug (then 1,600,000.50 and 900,000: an asset loss in Oct against Jul);
    C004 2,000,000 and C005 800,000 every month; C006 郑六 (S006) 600,000 in May, then 100,000 — three
    months below sunflower (Jun–Aug), downgraded to gold in Sep: a customer loss in Sep, and an asset
    loss in Aug against May.
    """
    with session_scope(engine) as session:
        session.add(
            Customer(
                customer_id="C006",
                branch_id="B001",
                name="郑六",
                onboarded_on=date(2020, 1, 1),
                rm_id="S006",
                status=CustomerStatus.active,
            )
        )
        session.flush()
        balances = {"C001": 1_600_000, "C004": 2_000_000, "C005": 800_000}
        rows = [
            AumMonthly(
                customer_id=cid,
                month=m,
                asset_class=AssetClass.demand_deposit,
                avg_daily_balance=amount,
                month_end_balance=amount,
            )
            for cid, amount in balances.items()
            for m in EARLY_MONTHS
        ]
        c006 = {date(2026, 5, 1): 600_000.0} | {date(2026, m, 1): 100_000.0 for m in (6, 7, 8, 9, 10)}
        rows += [
            AumMonthly(
                customer_id="C006",
                month=m,
                asset_class=AssetClass.demand_deposit,
                avg_daily_balance=amount,
                month_end_balance=amount,
            )
            for m, amount in c006.items()
        ]
        session.add_all(rows)
