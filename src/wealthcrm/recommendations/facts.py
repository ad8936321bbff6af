"""The facts the suitability gate and the generators read, gathered from the database.

:func:`candidates` finds, in SQL, the customers some generator may fire for, so the nightly loads
the facts of those customers only; :func:`customer_facts` loads them in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.holdings.models import AumMonthly, Position
from wealthcrm.products.models import Product
from wealthcrm.recommendations import rules
from wealthcrm.recommendations.rules import (
    CustomerFacts,
    Gate,
    GeneratorSettings,
    PositionFacts,
    ProductFacts,
)
from wealthcrm.vocab import CustomerStatus, PositionStatus, ProductStatus, Tier

CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def product_facts(product: Product) -> ProductFacts:
    return ProductFacts(
        product_code=product.product_code,
        name=product.name,
        product_type=str(product.product_type),
        risk_level=product.risk_level,
        term_months=product.term_months,
        is_agency=bool(product.is_agency),
        on_sale=product.status == ProductStatus.on_sale,
    )


def chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _months_before(month: date, months: int) -> date:
    return rules.add_months(month, -months)


def customer_facts(
    session: Session, *, customer_ids: Sequence[str], month: date | None, lookback_months: int = 3
) -> dict[str, CustomerFacts]:
    """The facts the gate and the generators read, for ``customer_ids``, as of AUM month ``month``."""
    out: dict[str, CustomerFacts] = {}
    for chunk in chunks(list(customer_ids)):
        held: dict[str, set[str]] = defaultdict(set)
        agency: set[str] = set()
        positions: dict[str, list[PositionFacts]] = defaultdict(list)
        for pos, ptype, term, risk, is_agency in session.execute(
            select(Position, Product.product_type, Product.term_months, Product.risk_level, Product.is_agency)
            .join(Product, Product.product_code == Position.product_code)
            .where(Position.customer_id.in_(chunk))
        ):
            held[pos.customer_id].add(str(ptype))
            if is_agency:
                agency.add(pos.customer_id)
            if pos.status == PositionStatus.open:
                positions[pos.customer_id].append(
                    PositionFacts(
                        pos.position_id,
                        pos.product_code,
                        str(ptype),
                        term,
                        risk,
                        pos.maturity_on,
                        float(pos.principal),
                        float(pos.market_value),
                    )
                )
        aum_filter = [AumMonthly.customer_id.in_(chunk), AumMonthly.avg_daily_balance > 0]
        if month is not None:
            aum_filter.append(AumMonthly.month <= month)
        for cid, cls in session.execute(
            select(AumMonthly.customer_id, AumMonthly.asset_class).where(*aum_filter).distinct()
        ):
            held[cid].add(str(cls))
        by_class: dict[str, dict[str, float]] = defaultdict(dict)
        earlier: dict[str, float] = {}
        tiers: dict[str, str] = {}
        if month is not None:
            for cid, cls, balance in session.execute(
                select(AumMonthly.customer_id, AumMonthly.asset_class, AumMonthly.avg_daily_balance).where(
                    AumMonthly.customer_id.in_(chunk), AumMonthly.month == month
                )
            ):
                by_class[cid][str(cls)] = by_class[cid].get(str(cls), 0.0) + float(balance)
            before = _months_before(month, lookback_months)
            for cid, total in session.execute(
                select(AumMonthly.customer_id, func.sum(AumMonthly.avg_daily_balance))
                .where(AumMonthly.customer_id.in_(chunk), AumMonthly.month == before)
                .group_by(AumMonthly.customer_id)
            ):
                earlier[cid] = float(total)
            for cid, tier in session.execute(
                select(CustomerMonth.customer_id, CustomerMonth.tier).where(
                    CustomerMonth.customer_id.in_(chunk), CustomerMonth.month == month
                )
            ):
                tiers[cid] = str(tier)
        for c in session.scalars(select(Customer).where(Customer.customer_id.in_(chunk))):
            classes = by_class.get(c.customer_id, {})
            out[c.customer_id] = CustomerFacts(
                customer_id=c.customer_id,
                risk_level=c.risk_level,
                risk_assessed_on=c.risk_assessed_on,
                held_types=frozenset(held.get(c.customer_id, set())),
                held_agency=c.customer_id in agency,
                month=month,
                tier=tiers.get(c.customer_id),
                aum=sum(classes.values()),
                aum_earlier=earlier.get(c.customer_id),
                aum_by_class=classes,
                positions=tuple(positions.get(c.customer_id, [])),
            )
    return out


def generator_settings(settings: Settings) -> GeneratorSettings:
    r = settings.recommendations
    return GeneratorSettings(
        reinvest_window_days=r.reinvest_window_days,
        idle_share=r.idle_share,
        idle_min_amount=r.idle_min_amount,
        idle_reserve_amount=r.idle_reserve_amount,
        idle_max_product_risk=r.idle_max_product_risk,
        idle_product_types=tuple(r.idle_product_types),
        deepen_min_aum=r.deepen_min_aum,
        deepen_min_class_amount=r.deepen_min_class_amount,
        deepen_product_types=tuple(r.deepen_product_types),
        upgrade_min_aum=r.upgrade_min_aum,
        sunflower_min=settings.tiers.sunflower_min,
        upgrade_product_types=tuple(r.upgrade_product_types),
    )


def gate_for(settings: Settings, on: date) -> Gate:
    return Gate(
        on=on,
        valid_months=settings.suitability.assessment_valid_months,
        wealth_types=frozenset(settings.suitability.recording_required_types),
    )


def candidates(session: Session, *, on: date, month: date | None, settings: Settings) -> list[str]:
    """Active customers some generator may fire for (the generators decide): found in SQL, so the
    nightly loads the facts of these customers only."""
    r = settings.recommendations
    active = select(Customer.customer_id).where(Customer.status == CustomerStatus.active)
    found: set[str] = set(
        session.scalars(
            select(Position.customer_id)
            .where(
                Position.status == PositionStatus.open,
                Position.maturity_on >= on,
                Position.maturity_on <= on + timedelta(days=r.reinvest_window_days),
                Position.customer_id.in_(active),
            )
            .distinct()
        )
    )
    if month is None:
        return sorted(found)
    demand = func.sum(
        case((AumMonthly.asset_class == "demand_deposit", AumMonthly.avg_daily_balance), else_=0)
    )
    total = func.sum(AumMonthly.avg_daily_balance)
    held = func.sum(case((AumMonthly.avg_daily_balance >= max(r.deepen_min_class_amount, 0.01), 1), else_=0))
    base = select(AumMonthly.customer_id).where(AumMonthly.month == month, AumMonthly.customer_id.in_(active))
    found.update(
        session.scalars(
            base.group_by(AumMonthly.customer_id).having(
                demand >= r.idle_min_amount, demand > total * r.idle_share
            )
        )
    )
    found.update(
        session.scalars(base.group_by(AumMonthly.customer_id).having(held == 1, total >= r.deepen_min_aum))
    )
    found.update(
        session.scalars(
            select(CustomerMonth.customer_id).where(
                CustomerMonth.month == month,
                CustomerMonth.tier == Tier.gold,
                CustomerMonth.aum >= r.upgrade_min_aum,
                CustomerMonth.aum < settings.tiers.sunflower_min,
                CustomerMonth.customer_id.in_(active),
            )
        )
    )
    return sorted(found)
