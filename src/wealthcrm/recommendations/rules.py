"""The suitability gate (投资者适当性) and the next-best-action generators, as pure functions on facts.

Nothing here reads the database: :mod:`.service` gathers :class:`CustomerFacts` and the shelf of
:class:`ProductFacts`, calls these functions and stores what they return.

**The gate** (:func:`check`) returns the codes of the rules a sale or a recommendation fails, in a
fixed order (empty: it may go ahead):

- deposits (``demand_deposit``, ``time_deposit``) are outside the gate: they are not investment
  products, carry no principal risk and need no risk assessment;
- every other product needs a risk level and assessment on file (``no_risk_assessment``) that is
  still valid on the day (``assessment_expired``: valid ``assessment_valid_months`` from the day it
  was taken, expiring on the same day of the month) and a product risk R at most the customer's
  C (``risk_above_tolerance``);
- *wealth and agency products* are the product types in ``suitability.recording_required_types``
  (default: wmp, fund, insurance, precious_metal) and any product with ``is_agency`` (sold for a
  third party, e.g. a fund or a policy of another company). For them, once the channel of the sale is
  known:

  - the first purchase must be made in branch (``first_purchase_not_in_branch``). The data do not
    say where a questionnaire was taken, so this is the approximation: a customer who has never held
    a wealth or agency product (no position of one, and no AUM in such an asset class in any month)
    buys the first one only in branch, where the assessment is taken or confirmed face to face;
  - an in-branch sale needs the audio-video recording's id (``recording_missing``) and the
    customer's consent to it (``consent_missing``): without consent the sale is blocked.

  When the channel is not known yet (a recommendation being proposed) these two rules wait for the
  sale; a first purchase is noted in the recommendation's rationale.

An override approved by a team lead lifts the reasons it was approved for, never the recording and
consent rules (:data:`NEVER_OVERRIDDEN`): those are facts of the sale itself.

**The generators** each return at most one :class:`Proposal` per opportunity, choosing from the shelf
a product that passes the gate when one exists, else the best one that does not (it is then stored
as blocked, with its reasons, so the RM sees what to fix, e.g. an expired assessment).
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from wealthcrm.vocab import ProductRisk, RecommendationKind, RiskLevel, SaleChannel

# --- reason codes, in the order check() reports them -----------------------------------------------------

NO_RISK_ASSESSMENT = "no_risk_assessment"
ASSESSMENT_EXPIRED = "assessment_expired"
RISK_ABOVE_TOLERANCE = "risk_above_tolerance"
FIRST_PURCHASE_NOT_IN_BRANCH = "first_purchase_not_in_branch"
RECORDING_MISSING = "recording_missing"
CONSENT_MISSING = "consent_missing"
REASONS: tuple[str, ...] = (
    NO_RISK_ASSESSMENT,
    ASSESSMENT_EXPIRED,
    RISK_ABOVE_TOLERANCE,
    FIRST_PURCHASE_NOT_IN_BRANCH,
    RECORDING_MISSING,
    CONSENT_MISSING,
)
#: reasons no override lifts: the 双录 recording and the consent belong to the sale itself
NEVER_OVERRIDDEN = frozenset({RECORDING_MISSING, CONSENT_MISSING})

#: product types outside the gate (principal-guaranteed deposits)
DEPOSIT_TYPES = frozenset({"demand_deposit", "time_deposit"})
#: the default of ``suitability.recording_required_types``
WEALTH_TYPES = frozenset({"wmp", "fund", "insurance", "precious_metal"})
#: round proposed amounts to this (CNY)
AMOUNT_STEP = 1_000


# --- facts ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductFacts:
    product_code: str
    name: str
    product_type: str
    risk_level: ProductRisk
    term_months: int | None = None
    is_agency: bool = False
    on_sale: bool = True


@dataclass(frozen=True, slots=True)
class PositionFacts:
    position_id: str
    product_code: str
    product_type: str
    term_months: int | None
    risk_level: ProductRisk
    maturity_on: date | None
    principal: float
    market_value: float


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    customer_id: str
    risk_level: RiskLevel | None
    risk_assessed_on: date | None
    #: product types the customer holds or has held (positions of any status, AUM in any month)
    held_types: frozenset[str] = frozenset()
    #: whether any position, of any status, is of an agency product
    held_agency: bool = False
    #: the month the figures below are of (its first day)
    month: date | None = None
    tier: str | None = None
    aum: float = 0.0
    #: total AUM ``upgrade_lookback_months`` before ``month`` (None: no data then)
    aum_earlier: float | None = None
    aum_by_class: Mapping[str, float] = field(default_factory=dict)
    #: open positions
    positions: tuple[PositionFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Recording:
    """The audio-video recording (双录) of an in-branch sale, and the customer's consent to it."""

    recording_id: str | None = None
    consent: bool | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """One recommendation a generator makes, with the gate's verdict."""

    kind: RecommendationKind
    customer_id: str
    source_key: str
    product_code: str
    amount: float | None
    rationale: dict[str, Any]
    blocked_reasons: list[str]


# --- the gate ---------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end (2024-02-29 + 12 → 2025-02-28)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def assessment_expires_on(assessed_on: date, valid_months: int) -> date:
    """The first day an assessment taken on ``assessed_on`` is no longer valid."""
    return add_months(assessed_on, valid_months)


def _rank(level: str) -> int:
    return int(str(level)[1:])


def is_wealth(product: ProductFacts, wealth_types: Collection[str] = WEALTH_TYPES) -> bool:
    """A wealth or agency product: its in-branch sale needs the 双录 recording; a first purchase, a branch."""
    return product.is_agency or product.product_type in wealth_types


def is_first_purchase(customer: CustomerFacts, wealth_types: Collection[str] = WEALTH_TYPES) -> bool:
    """True when the customer has never held a wealth or agency product (see the module's approximation)."""
    return not customer.held_agency and not (customer.held_types & frozenset(wealth_types))


def check(
    customer: CustomerFacts,
    product: ProductFacts,
    channel: SaleChannel | None,
    recording: Recording | None,
    on: date,
    *,
    valid_months: int = 12,
    wealth_types: Collection[str] = WEALTH_TYPES,
) -> list[str]:
    """The codes of the suitability rules that selling ``product`` to ``customer`` on ``on`` fails.

    ``channel=None``: proposing, not selling; the channel-dependent rules wait for the sale.
    """
    if product.product_type in DEPOSIT_TYPES and not product.is_agency:
        return []
    reasons: list[str] = []
    if customer.risk_level is None or customer.risk_assessed_on is None:
        reasons.append(NO_RISK_ASSESSMENT)
    else:
        if assessment_expires_on(customer.risk_assessed_on, valid_months) <= on:
            reasons.append(ASSESSMENT_EXPIRED)
        if _rank(product.risk_level) > _rank(customer.risk_level):
            reasons.append(RISK_ABOVE_TOLERANCE)
    if channel is not None and is_wealth(product, wealth_types):
        if channel is not SaleChannel.in_branch and is_first_purchase(customer, wealth_types):
            reasons.append(FIRST_PURCHASE_NOT_IN_BRANCH)
        if channel is SaleChannel.in_branch:
            rec = recording or Recording()
            if not (rec.recording_id or "").strip():
                reasons.append(RECORDING_MISSING)
            if rec.consent is not True:
                reasons.append(CONSENT_MISSING)
    return reasons


def still_blocking(reasons: Iterable[str], approved: Iterable[str]) -> list[str]:
    """The reasons an approved override (of the reasons ``approved``) does not lift."""
    lifted = set(approved) - NEVER_OVERRIDDEN
    return [r for r in reasons if r not in lifted]


# --- choosing a product -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gate:
    """What the generators need to run the gate: the day and the suitability settings."""

    on: date
    valid_months: int = 12
    wealth_types: frozenset[str] = WEALTH_TYPES

    def check(self, customer: CustomerFacts, product: ProductFacts) -> list[str]:
        return check(
            customer,
            product,
            None,
            None,
            self.on,
            valid_months=self.valid_months,
            wealth_types=self.wealth_types,
        )


def choose(
    customer: CustomerFacts,
    candidates: Iterable[ProductFacts],
    gate: Gate,
    *,
    order: Any,
) -> tuple[ProductFacts, list[str]] | None:
    """The candidate that passes the gate and sorts first by ``order``; when none passes, the one that
    fails the fewest rules (then by ``order``), to be stored as blocked."""
    verdicts = [(p, gate.check(customer, p)) for p in candidates if p.on_sale]
    if not verdicts:
        return None
    verdicts.sort(key=lambda pv: (len(pv[1]), order(pv[0]), pv[0].product_code))
    return verdicts[0]


def _round_down(amount: float) -> float:
    return float(math.floor(amount / AMOUNT_STEP) * AMOUNT_STEP)


def _round_up(amount: float) -> float:
    return float(math.ceil(amount / AMOUNT_STEP) * AMOUNT_STEP)


def _proposal(
    kind: RecommendationKind,
    customer: CustomerFacts,
    key: str,
    chosen: tuple[ProductFacts, list[str]],
    amount: float | None,
    rationale: dict[str, Any],
    gate: Gate,
) -> Proposal:
    product, reasons = chosen
    facts = dict(rationale)
    facts["product_risk"] = str(product.risk_level)
    facts["customer_risk"] = None if customer.risk_level is None else str(customer.risk_level)
    if is_wealth(product, gate.wealth_types) and is_first_purchase(customer, gate.wealth_types):
        facts["first_purchase"] = True  # to be sold in branch
    return Proposal(kind, customer.customer_id, key, product.product_code, amount, facts, reasons)


def _month_key(customer: CustomerFacts) -> str:
    return "" if customer.month is None else f"{customer.month:%Y-%m}"


# --- generators -------------------------------------------------------------------------------------


def reinvest_maturing(
    customer: CustomerFacts, shelf: Sequence[ProductFacts], gate: Gate, *, window_days: int = 30
) -> list[Proposal]:
    """Each open position maturing from ``gate.on`` to ``window_days`` later: a product of the same type
    on sale, the same term preferred (then the nearest), then the risk nearest the maturing product's."""
    out: list[Proposal] = []
    last = gate.on + timedelta(days=window_days)
    for pos in sorted(customer.positions, key=lambda p: (p.maturity_on or date.max, p.position_id)):
        if pos.maturity_on is None or not gate.on <= pos.maturity_on <= last:
            continue
        same_type = [p for p in shelf if p.product_type == pos.product_type]

        def order(p: ProductFacts, pos: PositionFacts = pos) -> tuple[int, int]:
            term = abs((p.term_months or 0) - (pos.term_months or 0))
            return term, abs(_rank(p.risk_level) - _rank(pos.risk_level))

        chosen = choose(customer, same_type, gate, order=order)
        if chosen is None:
            continue
        rationale = {
            "position_id": pos.position_id,
            "maturing_product": pos.product_code,
            "maturity_on": pos.maturity_on.isoformat(),
            "principal": pos.principal,
            "term_months": pos.term_months,
        }
        out.append(
            _proposal(
                RecommendationKind.reinvest_maturity,
                customer,
                f"{RecommendationKind.reinvest_maturity}:{pos.position_id}",
                chosen,
                pos.market_value or pos.principal,
                rationale,
                gate,
            )
        )
    return out


def _by_preference(types: Sequence[str]) -> Any:
    rank = {t: i for i, t in enumerate(types)}

    def order(p: ProductFacts) -> tuple[int, int, int]:
        return rank.get(p.product_type, len(rank)), _rank(p.risk_level), p.term_months or 0

    return order


def move_idle_deposits(
    customer: CustomerFacts,
    shelf: Sequence[ProductFacts],
    gate: Gate,
    *,
    share: float = 0.30,
    min_amount: float = 200_000,
    reserve: float = 50_000,
    max_risk: ProductRisk = ProductRisk.R2,
    product_types: Sequence[str] = ("wmp", "time_deposit", "bond"),
    exclude: Collection[str] = (),
) -> list[Proposal]:
    """Demand deposits above ``share`` of AUM and of at least ``min_amount``: a product of at most
    ``max_risk`` of one of ``product_types`` (preferred in that order, then lower risk, then shorter),
    for the deposits above ``reserve``."""
    demand = float(customer.aum_by_class.get("demand_deposit", 0.0))
    if customer.aum <= 0 or demand < min_amount or demand / customer.aum <= share:
        return []
    amount = _round_down(demand - reserve)
    if amount <= 0:
        return []
    candidates = [
        p
        for p in shelf
        if p.product_type in product_types
        and _rank(p.risk_level) <= _rank(max_risk)
        and p.product_code not in exclude
    ]
    chosen = choose(customer, candidates, gate, order=_by_preference(product_types))
    if chosen is None:
        return []
    rationale = {"demand_deposit": demand, "aum": customer.aum, "share": round(demand / customer.aum, 4)}
    key = f"{RecommendationKind.move_idle_deposits}:{customer.customer_id}:{_month_key(customer)}"
    return [_proposal(RecommendationKind.move_idle_deposits, customer, key, chosen, amount, rationale, gate)]


def held_classes(customer: CustomerFacts, min_amount: float) -> list[str]:
    """The asset classes with a month-average balance of at least ``min_amount`` (at least 0.01)."""
    floor = max(min_amount, 0.01)
    return sorted(c for c, v in customer.aum_by_class.items() if v >= floor)


def deepen_single_product(
    customer: CustomerFacts,
    shelf: Sequence[ProductFacts],
    gate: Gate,
    *,
    min_aum: float = 50_000,
    min_class_amount: float = 1_000,
    product_types: Sequence[str] = ("time_deposit", "wmp", "fund", "bond", "insurance", "precious_metal"),
    exclude: Collection[str] = (),
) -> list[Proposal]:
    """A customer with ``min_aum`` or more in a single asset class: a product of another class, by
    ``product_types`` preference (then lower risk, then shorter term), passing the gate if one does."""
    classes = held_classes(customer, min_class_amount)
    if customer.aum < min_aum or len(classes) != 1:
        return []
    (only,) = classes
    candidates = [
        p
        for p in shelf
        if p.product_type != only and p.product_type in product_types and p.product_code not in exclude
    ]
    chosen = choose(customer, candidates, gate, order=_by_preference(product_types))
    if chosen is None:
        return []
    rationale = {"held_class": only, "aum": customer.aum, "proposed_class": chosen[0].product_type}
    key = f"{RecommendationKind.deepen_single_product}:{customer.customer_id}:{_month_key(customer)}"
    return [_proposal(RecommendationKind.deepen_single_product, customer, key, chosen, None, rationale, gate)]


def upgrade_prospect(
    customer: CustomerFacts,
    shelf: Sequence[ProductFacts],
    gate: Gate,
    *,
    min_aum: float = 400_000,
    sunflower_min: float = 500_000,
    product_types: Sequence[str] = ("wmp", "time_deposit", "fund"),
    exclude: Collection[str] = (),
) -> list[Proposal]:
    """A gold customer with AUM in [``min_aum``, ``sunflower_min``) and higher than before: a product
    for the new money that lifts them into sunflower (the gap, rounded up)."""
    if customer.tier != "gold" or not min_aum <= customer.aum < sunflower_min:
        return []
    if customer.aum_earlier is None or customer.aum <= customer.aum_earlier:
        return []
    candidates = [p for p in shelf if p.product_type in product_types and p.product_code not in exclude]
    chosen = choose(customer, candidates, gate, order=_by_preference(product_types))
    if chosen is None:
        return []
    gap = _round_up(sunflower_min - customer.aum)
    rationale = {
        "aum": customer.aum,
        "aum_earlier": customer.aum_earlier,
        "sunflower_min": sunflower_min,
        "gap": gap,
    }
    key = f"{RecommendationKind.upgrade_prospect}:{customer.customer_id}:{_month_key(customer)}"
    return [_proposal(RecommendationKind.upgrade_prospect, customer, key, chosen, gap, rationale, gate)]


@dataclass(frozen=True, slots=True)
class GeneratorSettings:
    """The thresholds of the generators (``settings.recommendations`` and the sunflower threshold)."""

    reinvest_window_days: int = 30
    idle_share: float = 0.30
    idle_min_amount: float = 200_000
    idle_reserve_amount: float = 50_000
    idle_max_product_risk: ProductRisk = ProductRisk.R2
    idle_product_types: tuple[str, ...] = ("wmp", "time_deposit", "bond")
    deepen_min_aum: float = 50_000
    deepen_min_class_amount: float = 1_000
    deepen_product_types: tuple[str, ...] = (
        "time_deposit",
        "wmp",
        "fund",
        "bond",
        "insurance",
        "precious_metal",
    )
    upgrade_min_aum: float = 400_000
    sunflower_min: float = 500_000
    upgrade_product_types: tuple[str, ...] = ("wmp", "time_deposit", "fund")


def recommend(
    customer: CustomerFacts, shelf: Sequence[ProductFacts], gate: Gate, config: GeneratorSettings
) -> list[Proposal]:
    """Every generator on one customer. A product a customer-level generator already proposed is not
    proposed again by a later one (idle deposits, then a second class, then the upgrade)."""
    out = reinvest_maturing(customer, shelf, gate, window_days=config.reinvest_window_days)
    idle = move_idle_deposits(
        customer,
        shelf,
        gate,
        share=config.idle_share,
        min_amount=config.idle_min_amount,
        reserve=config.idle_reserve_amount,
        max_risk=config.idle_max_product_risk,
        product_types=config.idle_product_types,
    )
    used = {p.product_code for p in idle}
    deepen = deepen_single_product(
        customer,
        shelf,
        gate,
        min_aum=config.deepen_min_aum,
        min_class_amount=config.deepen_min_class_amount,
        product_types=config.deepen_product_types,
        exclude=used,
    )
    used.update(p.product_code for p in deepen)
    upgrade = upgrade_prospect(
        customer,
        shelf,
        gate,
        min_aum=config.upgrade_min_aum,
        sunflower_min=config.sunflower_min,
        product_types=config.upgrade_product_types,
        exclude=used,
    )
    return out + idle + deepen + upgrade
