"""The recommendation tests' data: the workbench's branch plus a shelf, a gold prospect (C005), a second
team lead (``lead2``, team T02) and assessments that make some proposals blocked.

With :func:`reco_settings` (``deepen_product_types = ["wmp", "fund"]``), generating on 2026-11-28 from
the AUM of 2026-10 proposes exactly :data:`EXPECTED`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, update

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.db import session_scope
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.products.models import Product
from wealthcrm.staff.models import Staff
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    AssetClass,
    CustomerStatus,
    ProductRisk,
    ProductStatus,
    ProductType,
    RiskLevel,
    Role,
    StaffStatus,
    Stage,
    Tier,
)

from ..customers.workbench import OCT, PASSWORD, load_workbench

ON = date(2026, 11, 28)
JUL = date(2026, 7, 1)
#: (customer, kind, product, status, amount, blocked reasons)
EXPECTED = [
    ("C001", "move_idle_deposits", "WMP001", "proposed", 350_000.0, []),
    ("C001", "reinvest_maturity", "WMP001", "proposed", 203_000.0, []),
    ("C003", "deepen_single_product", "WMP001", "blocked", None, ["assessment_expired"]),
    ("C004", "deepen_single_product", "WMP001", "blocked", None, ["no_risk_assessment"]),
    ("C005", "upgrade_prospect", "WMP001", "proposed", 50_000.0, []),
]


def reco_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "recommendations": settings.recommendations.model_copy(
                update={"deepen_product_types": ["wmp", "fund"]}
            )
        }
    )


def _product(
    code: str, name: str, ptype: ProductType, risk: ProductRisk, term: int | None, **kw: object
) -> Product:
    return Product(
        product_code=code,
        name=name,
        product_type=ptype,
        risk_level=risk,
        term_months=term,
        status=kw.pop("status", ProductStatus.on_sale),
        **kw,
    )


def load_recommendations(engine: Engine, settings: Settings, folder: Path) -> None:
    load_workbench(engine, settings, folder)
    with session_scope(engine) as session:
        session.add_all(
            [
                _product("WMP101", "稳健理财6个月B", ProductType.wmp, ProductRisk.R2, 6),
                _product("WMP301", "进取理财12个月", ProductType.wmp, ProductRisk.R3, 12),
                _product("FUND401", "成长混合基金", ProductType.fund, ProductRisk.R4, None, is_agency=True),
                _product("TD012", "整存整取12个月", ProductType.time_deposit, ProductRisk.R1, 12),
                _product(
                    "WMP009", "已停售理财", ProductType.wmp, ProductRisk.R1, 6, status=ProductStatus.closed
                ),
            ]
        )
        session.add(
            Staff(
                staff_id="S005",
                branch_id="B001",
                team_id="T02",
                name="钱主管",
                role=Role.team_lead,
                status=StaffStatus.active,
                joined_on=date(2019, 1, 1),
            )
        )
        session.flush()
        session.add(
            Customer(
                customer_id="C005",
                branch_id="B001",
                name="吴五",
                onboarded_on=date(2020, 1, 1),
                rm_id="S001",
                risk_level=RiskLevel.C2,
                risk_assessed_on=date(2026, 3, 1),
                status=CustomerStatus.active,
            )
        )
        session.flush()
        session.add_all(
            [
                AumMonthly(
                    customer_id="C005",
                    month=month,
                    asset_class=cls,
                    avg_daily_balance=amount,
                    month_end_balance=amount,
                )
                for month, cls, amount in [
                    (JUL, AssetClass.time_deposit, 420_000),
                    (OCT, AssetClass.time_deposit, 250_000),
                    (OCT, AssetClass.wmp, 200_000),
                ]
            ]
        )
        session.add(
            CustomerMonth(
                customer_id="C005",
                month=OCT,
                aum=450_000,
                tier=Tier.gold,
                tier_met=Tier.gold,
                watch=False,
                months_below=0,
                customer_loss=False,
                stage=Stage.growing,
            )
        )
        # C003's assessment has expired: its proposals are blocked until a new one (or an override)
        session.execute(
            update(Customer).where(Customer.customer_id == "C003").values(risk_assessed_on=date(2025, 6, 1))
        )
        users.create(session, username="lead2", password=PASSWORD, role=Role.team_lead, staff_id="S005")
