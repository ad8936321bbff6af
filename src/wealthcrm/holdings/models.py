"""What customers hold: monthly AUM per asset class, and positions with maturity dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, money, str_enum
from wealthcrm.vocab import AssetClass, PositionStatus


class AumMonthly(Base):
    """One customer's balance in one asset class for one month (month = its first day)."""

    __tablename__ = "aum_monthly"
    __table_args__ = (
        CheckConstraint("avg_daily_balance >= 0 AND month_end_balance >= 0", name="balances_non_negative"),
        # The latest month and the month range are asked on every overview page: MIN/MAX by this index.
        # (A first bulk load drops and rebuilds it, so it costs imports little.)
        Index("ix_aum_monthly_month", "month"),
        # Composite natural key and narrow rows: on SQLite the table is its key's B-tree (WITHOUT ROWID),
        # one structure to write instead of two (17% faster imports, bench/import.py).
        {"sqlite_with_rowid": False},
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    asset_class: Mapped[AssetClass] = mapped_column(
        str_enum(AssetClass, "asset_class", check=False), primary_key=True
    )
    avg_daily_balance: Mapped[float] = mapped_column(money())
    month_end_balance: Mapped[float] = mapped_column(money())


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = (
        CheckConstraint("maturity_on IS NULL OR maturity_on >= opened_on", name="matures_after_opening"),
        CheckConstraint("principal >= 0 AND market_value >= 0", name="amounts_non_negative"),
        Index("ix_positions_maturity_on", "maturity_on"),
    )

    position_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("products.product_code"), index=True)
    opened_on: Mapped[date]
    maturity_on: Mapped[date | None]
    principal: Mapped[float] = mapped_column(money())
    market_value: Mapped[float] = mapped_column(money())
    status: Mapped[PositionStatus] = mapped_column(str_enum(PositionStatus, "status"))
    closed_on: Mapped[date | None]
