"""The product shelf: deposits, wealth-management products, funds, insurance, bonds, gold, custody."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base, str_enum
from wealthcrm.vocab import ProductRisk, ProductStatus, ProductType


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("term_months IS NULL OR term_months > 0", name="term_positive"),)

    product_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product_type: Mapped[ProductType] = mapped_column(str_enum(ProductType, "product_type"))
    risk_level: Mapped[ProductRisk] = mapped_column(str_enum(ProductRisk, "risk_level"))
    term_months: Mapped[int | None]
    is_agency: Mapped[bool] = mapped_column(default=False)
    issuer: Mapped[str | None] = mapped_column(String(100))
    launched_on: Mapped[date | None]
    status: Mapped[ProductStatus] = mapped_column(str_enum(ProductStatus, "status"))
