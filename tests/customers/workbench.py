"""The workbench's test data: the web tests' branch plus a second team, more users, and hand-made
nightly results (``customer_months``) and alerts whose numbers the tests assert exactly.

Books: S001 (rm01, team T01) has C001 and C003; S002 (lead, T01) has C002; S004 (rm02, team T02) has
C004. In 2026-10, at risk (P(loss) ≥ 10%) by AUM at risk: C003 ¥720,000 · C004 ¥600,000 ·
C001 ¥378,000. C002 is churned and unscored but has an open high-severity alert.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.db import session_scope
from wealthcrm.holdings.models import AumMonthly, Position
from wealthcrm.staff.models import Staff, Team
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    AlertStatus,
    AlertType,
    AssetClass,
    CustomerStatus,
    PositionStatus,
    Role,
    Severity,
    StaffStatus,
    Stage,
    Tier,
)

from ..web.branch import PASSWORD, load_branch

__all__ = ["MOBILE", "MORE_USERS", "NATIONAL_ID", "OCT", "PASSWORD", "SEP", "load_workbench"]

SEP = date(2026, 9, 1)
OCT = date(2026, 10, 1)
NOW = datetime(2026, 11, 28, 1, 0)
#: C001's PII as the bank sent it: must never appear on a page or in JSON
NATIONAL_ID = "11010519491231002X"
MOBILE = "13812345678"
MORE_USERS: dict[str, tuple[Role, str | None]] = {
    "rm02": (Role.rm, "S004"),
    "svc": (Role.service, "S003"),
    "audit": (Role.auditor, None),
    "analyst": (Role.analyst, None),
    "admin1": (Role.admin, None),
}

C001_REASONS: list[dict[str, Any]] = [
    {
        "feature": "aum_change_3m",
        "en": "AUM down 44% in 3 months",
        "zh": "近3个月资产下降44%",
        "value": -0.44,
        "contribution": 0.81,
    },
    {
        "feature": "outflow_other_bank_3m",
        "en": "¥300,000 moved to other banks",
        "zh": "30.00 万元转出至他行",
        "value": 300000,
        "contribution": 0.52,
    },
]


def _month(customer_id: str, month: date, **values: Any) -> CustomerMonth:
    defaults: dict[str, Any] = {
        "tier_met": values.get("tier"),
        "watch": False,
        "months_below": 0,
        "tier_event": None,
        "customer_loss": False,
        "asset_loss_amount": None,
        "p_loss": None,
        "aum_at_risk": None,
        "expected_outflow": None,
        "reasons": None,
        "model_version_id": None,
    }
    return CustomerMonth(customer_id=customer_id, month=month, **(defaults | values))


def _alert(customer_id: str, kind: AlertType, severity: Severity, key: str, **values: Any) -> Alert:
    defaults: dict[str, Any] = {
        "status": AlertStatus.open,
        "first_month": OCT,
        "last_month": OCT,
        "evidence": {},
        "action": "call_about_outflow",
        "created_at": NOW,
        "updated_at": NOW,
        "closed_at": None,
    }
    return Alert(
        customer_id=customer_id, alert_type=kind, severity=severity, dedupe_key=key, **(defaults | values)
    )


def load_workbench(engine: Engine, settings: Settings, folder: Path) -> None:
    """The web tests' branch (imported), then the second team, users, results and alerts (ORM)."""
    load_branch(engine, settings, folder)
    with session_scope(engine) as session:
        session.add(Team(team_id="T02", branch_id="B001", name="财富二组"))
        session.flush()
        session.add(
            Staff(
                staff_id="S004",
                branch_id="B001",
                team_id="T02",
                name="赵经理",
                role=Role.rm,
                status=StaffStatus.active,
                joined_on=date(2022, 1, 1),
            )
        )
        session.flush()
        session.add(
            Customer(
                customer_id="C004",
                branch_id="B001",
                name="周四",
                onboarded_on=date(2019, 3, 1),
                rm_id="S004",
                status=CustomerStatus.active,
                national_id_masked="440301********1234",
                mobile_masked="139****0004",
            )
        )
        session.flush()
        session.add_all(
            [
                AumMonthly(
                    customer_id="C004",
                    month=m,
                    asset_class=AssetClass.time_deposit,
                    avg_daily_balance=2_000_000,
                    month_end_balance=2_000_000,
                )
                for m in (SEP, OCT)
            ]
        )
        session.add(
            Position(
                position_id="P3",
                customer_id="C001",
                product_code="WMP001",
                opened_on=date(2026, 6, 20),
                maturity_on=date(2026, 12, 20),
                principal=200_000,
                market_value=203_000,
                status=PositionStatus.open,
            )
        )
        session.add_all(
            [
                _month(
                    "C001",
                    SEP,
                    aum=1_600_000.5,
                    tier=Tier.sunflower,
                    stage=Stage.mature,
                    p_loss=0.2,
                    aum_at_risk=320_000.1,
                    reasons=C001_REASONS[1:],
                ),
                _month(
                    "C001",
                    OCT,
                    aum=900_000,
                    tier=Tier.sunflower,
                    stage=Stage.declining,
                    p_loss=0.42,
                    aum_at_risk=378_000,
                    expected_outflow=250_000,
                    reasons=C001_REASONS,
                ),
                _month("C002", SEP, aum=60_000, tier=Tier.gold, stage=Stage.mature),
                _month("C002", OCT, aum=0, tier=Tier.gold, stage=Stage.churned, watch=True, months_below=1),
                _month(
                    "C003",
                    OCT,
                    aum=6_000_000,
                    tier=Tier.diamond,
                    stage=Stage.onboarding,
                    p_loss=0.12,
                    aum_at_risk=720_000,
                    reasons=[],
                ),
                _month(
                    "C004",
                    SEP,
                    aum=2_000_000,
                    tier=Tier.sunflower,
                    stage=Stage.mature,
                    p_loss=0.05,
                    aum_at_risk=100_000,
                ),
                _month(
                    "C004",
                    OCT,
                    aum=2_000_000,
                    tier=Tier.sunflower,
                    stage=Stage.mature,
                    p_loss=0.30,
                    aum_at_risk=600_000,
                ),
            ]
        )
        session.add_all(
            [
                _alert(
                    "C001",
                    AlertType.large_outflow,
                    Severity.high,
                    "C001:large_outflow:X1",
                    evidence={"amount": 300000, "share_of_aum": 0.19, "txn_id": "X1"},
                ),
                _alert(
                    "C001",
                    AlertType.near_threshold,
                    Severity.low,
                    "C001:near_threshold:2026-09",
                    status=AlertStatus.closed,
                    first_month=SEP,
                    last_month=SEP,
                    action="review_portfolio",
                    closed_at=NOW,
                ),
                _alert("C002", AlertType.watch, Severity.high, "C002:watch:2026-10", action="retention_call"),
                _alert(
                    "C004",
                    AlertType.payroll_stopped,
                    Severity.medium,
                    "C004:payroll_stopped:2026-10",
                    action="check_payroll",
                ),
            ]
        )
        for username, (role, staff_id) in MORE_USERS.items():
            users.create(session, username=username, password=PASSWORD, role=role, staff_id=staff_id)
