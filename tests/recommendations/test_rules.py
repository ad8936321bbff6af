"""The suitability gate and the generators, on hand-made facts: each rule, each generator, the edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from wealthcrm.recommendations import rules
from wealthcrm.recommendations.rules import (
    ASSESSMENT_EXPIRED,
    CONSENT_MISSING,
    FIRST_PURCHASE_NOT_IN_BRANCH,
    NO_RISK_ASSESSMENT,
    RECORDING_MISSING,
    RISK_ABOVE_TOLERANCE,
    CustomerFacts,
    Gate,
    GeneratorSettings,
    PositionFacts,
    ProductFacts,
    Recording,
    check,
)
from wealthcrm.vocab import ProductRisk, RecommendationKind, RiskLevel, SaleChannel

ON = date(2026, 11, 28)
IN_BRANCH, REMOTE = SaleChannel.in_branch, SaleChannel.remote
RECORDED = Recording("REC-1", consent=True)

WMP_R2 = ProductFacts("WMP2", "稳健理财6个月", "wmp", ProductRisk.R2, 6)
WMP_R3 = ProductFacts("WMP3", "进取理财6个月", "wmp", ProductRisk.R3, 6)
FUND_R4 = ProductFacts("FUND4", "成长基金", "fund", ProductRisk.R4, None, is_agency=True)
TD_12 = ProductFacts("TD12", "整存整取12个月", "time_deposit", ProductRisk.R1, 12)
BOND_R1 = ProductFacts("BOND1", "储蓄国债3年", "bond", ProductRisk.R1, 36)
AGENCY_BOND = ProductFacts("BOND9", "代销债券", "bond", ProductRisk.R2, 12, is_agency=True)

#: a C3 customer assessed in January, who has held a wealth product before
C3 = CustomerFacts("C1", RiskLevel.C3, date(2026, 1, 10), held_types=frozenset({"wmp", "demand_deposit"}))


def test_a_suitable_product_passes() -> None:
    assert check(C3, WMP_R3, None, None, ON) == []
    assert check(C3, WMP_R3, REMOTE, None, ON) == []
    assert check(C3, WMP_R3, IN_BRANCH, RECORDED, ON) == []


def test_product_risk_must_not_exceed_the_customer_level() -> None:
    assert check(C3, FUND_R4, None, None, ON) == [RISK_ABOVE_TOLERANCE]
    c4 = replace(C3, risk_level=RiskLevel.C4)
    assert check(c4, FUND_R4, None, None, ON) == []  # R4 ≤ C4: equal is allowed
    c1 = replace(C3, risk_level=RiskLevel.C1)
    assert check(c1, WMP_R2, None, None, ON) == [RISK_ABOVE_TOLERANCE]


@pytest.mark.parametrize(
    ("assessed_on", "expected"),
    [
        (date(2025, 11, 29), []),  # expires 2026-11-29: still valid on the 28th
        (date(2025, 11, 28), [ASSESSMENT_EXPIRED]),  # expires on the day itself
        (date(2024, 1, 1), [ASSESSMENT_EXPIRED]),
    ],
)
def test_the_assessment_is_valid_twelve_months(assessed_on: date, expected: list[str]) -> None:
    assert check(replace(C3, risk_assessed_on=assessed_on), WMP_R2, None, None, ON) == expected


def test_the_validity_period_is_a_setting() -> None:
    six_months_ago = replace(C3, risk_assessed_on=date(2026, 5, 28))
    assert check(six_months_ago, WMP_R2, None, None, ON, valid_months=6) == [ASSESSMENT_EXPIRED]
    assert check(six_months_ago, WMP_R2, None, None, ON, valid_months=7) == []
    # the end of a month clamps: 2025-02-28 is 12 months after 2024-02-29
    leap = replace(C3, risk_assessed_on=date(2024, 2, 29))
    assert rules.assessment_expires_on(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert check(leap, WMP_R2, None, None, date(2025, 2, 27)) == []
    assert check(leap, WMP_R2, None, None, date(2025, 2, 28)) == [ASSESSMENT_EXPIRED]


def test_no_assessment_blocks_every_investment_product() -> None:
    unassessed = replace(C3, risk_level=None, risk_assessed_on=None)
    assert check(unassessed, WMP_R2, None, None, ON) == [NO_RISK_ASSESSMENT]
    assert check(unassessed, BOND_R1, None, None, ON) == [NO_RISK_ASSESSMENT]
    level_without_date = replace(C3, risk_assessed_on=None)
    assert check(level_without_date, WMP_R2, None, None, ON) == [NO_RISK_ASSESSMENT]


def test_deposits_are_outside_the_gate_but_agency_products_are_not() -> None:
    unassessed = replace(C3, risk_level=None, risk_assessed_on=None, held_types=frozenset())
    assert check(unassessed, TD_12, IN_BRANCH, None, ON) == []
    agency_deposit = replace(TD_12, is_agency=True)
    assert check(unassessed, agency_deposit, IN_BRANCH, None, ON) == [
        NO_RISK_ASSESSMENT,
        RECORDING_MISSING,
        CONSENT_MISSING,
    ]


def test_first_purchase_of_a_wealth_product_only_in_branch() -> None:
    newcomer = replace(C3, held_types=frozenset({"demand_deposit", "time_deposit", "bond"}))
    assert rules.is_first_purchase(newcomer) and not rules.is_first_purchase(C3)
    assert check(newcomer, WMP_R2, REMOTE, None, ON) == [FIRST_PURCHASE_NOT_IN_BRANCH]
    assert check(newcomer, WMP_R2, IN_BRANCH, RECORDED, ON) == []
    assert check(newcomer, WMP_R2, None, None, ON) == []  # proposing: the rule waits for the sale
    # a bond is not a wealth product (not in recording_required_types), unless sold as an agency product
    assert check(newcomer, BOND_R1, REMOTE, None, ON) == []
    assert check(newcomer, AGENCY_BOND, REMOTE, None, ON) == [FIRST_PURCHASE_NOT_IN_BRANCH]
    # having held an agency product counts as having bought a wealth product
    assert check(replace(newcomer, held_agency=True), WMP_R2, REMOTE, None, ON) == []
    # which types count is the setting
    deposits_only = replace(C3, held_types=frozenset({"demand_deposit"}))
    assert check(deposits_only, BOND_R1, REMOTE, None, ON, wealth_types={"bond"}) == [
        FIRST_PURCHASE_NOT_IN_BRANCH
    ]


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        (Recording("REC-1", True), []),
        (Recording("REC-1", False), [CONSENT_MISSING]),
        (Recording("REC-1", None), [CONSENT_MISSING]),
        (Recording(None, True), [RECORDING_MISSING]),
        (Recording("   ", True), [RECORDING_MISSING]),
        (Recording(None, None), [RECORDING_MISSING, CONSENT_MISSING]),
        (None, [RECORDING_MISSING, CONSENT_MISSING]),
    ],
)
def test_in_branch_wealth_sales_need_the_recording_and_consent(
    recording: Recording | None, expected: list[str]
) -> None:
    assert check(C3, WMP_R2, IN_BRANCH, recording, ON) == expected
    assert check(C3, FUND_R4, IN_BRANCH, recording, ON) == [RISK_ABOVE_TOLERANCE, *expected]
    # remote sales and non-wealth products do not record
    assert check(C3, WMP_R2, REMOTE, recording, ON) == []
    assert check(C3, BOND_R1, IN_BRANCH, recording, ON) == []


def test_every_failing_rule_is_reported_in_order() -> None:
    worst = CustomerFacts("C9", RiskLevel.C1, date(2020, 1, 1))
    assert check(worst, FUND_R4, REMOTE, None, ON) == [
        ASSESSMENT_EXPIRED,
        RISK_ABOVE_TOLERANCE,
        FIRST_PURCHASE_NOT_IN_BRANCH,
    ]
    assert check(worst, FUND_R4, IN_BRANCH, Recording(None, False), ON) == [
        ASSESSMENT_EXPIRED,
        RISK_ABOVE_TOLERANCE,
        RECORDING_MISSING,
        CONSENT_MISSING,
    ]


def test_an_override_never_lifts_the_recording_or_consent() -> None:
    approved = [RISK_ABOVE_TOLERANCE, RECORDING_MISSING, CONSENT_MISSING]
    assert rules.still_blocking([RISK_ABOVE_TOLERANCE], approved) == []
    assert rules.still_blocking([RISK_ABOVE_TOLERANCE, CONSENT_MISSING], approved) == [CONSENT_MISSING]
    assert rules.still_blocking([ASSESSMENT_EXPIRED], [RISK_ABOVE_TOLERANCE]) == [ASSESSMENT_EXPIRED]


# --- generators -------------------------------------------------------------------------------------

GATE = Gate(on=ON)
SHELF = [
    WMP_R2,
    WMP_R3,
    FUND_R4,
    TD_12,
    BOND_R1,
    ProductFacts("WMP2-12", "稳健12个月", "wmp", ProductRisk.R2, 12),
]


def _position(
    pid: str, maturity_on: date | None, *, ptype: str = "wmp", term: int | None = 6
) -> PositionFacts:
    return PositionFacts(pid, "OLD", ptype, term, ProductRisk.R2, maturity_on, 300_000, 303_000)


@pytest.mark.parametrize(
    ("maturity_on", "proposed"),
    [
        (date(2026, 11, 27), False),  # matured yesterday: the not-reinvested alert's business
        (ON, True),
        (date(2026, 12, 28), True),  # day 30
        (date(2026, 12, 29), False),  # day 31
        (None, False),
    ],
)
def test_reinvest_within_thirty_days(maturity_on: date | None, proposed: bool) -> None:
    customer = replace(C3, positions=(_position("P1", maturity_on),))
    found = rules.reinvest_maturing(customer, SHELF, GATE, window_days=30)
    assert [p.source_key for p in found] == (["reinvest_maturity:P1"] if proposed else [])


def test_reinvest_picks_the_same_type_and_term_and_the_nearest_risk() -> None:
    customer = replace(C3, positions=(_position("P1", date(2026, 12, 20)),))
    (p,) = rules.reinvest_maturing(customer, SHELF, GATE)
    assert (p.kind, p.product_code, p.amount, p.blocked_reasons) == (
        RecommendationKind.reinvest_maturity,
        "WMP2",  # wmp, 6 months, R2 like the maturing one (WMP3 is 6 months too, but R3)
        303_000,
        [],
    )
    assert p.rationale == {
        "position_id": "P1",
        "maturing_product": "OLD",
        "maturity_on": "2026-12-20",
        "principal": 300_000,
        "term_months": 6,
        "product_risk": "R2",
        "customer_risk": "C3",
    }
    twelve = replace(customer, positions=(_position("P2", date(2026, 12, 20), term=12),))
    assert [p.product_code for p in rules.reinvest_maturing(twelve, SHELF, GATE)] == ["WMP2-12"]
    # nothing of the same type on sale: nothing to propose
    gold = replace(customer, positions=(_position("P3", date(2026, 12, 20), ptype="precious_metal"),))
    assert rules.reinvest_maturing(gold, SHELF, GATE) == []
    closed = [replace(p, on_sale=False) for p in SHELF]
    assert rules.reinvest_maturing(customer, closed, GATE) == []


def test_reinvest_prefers_a_suitable_product_else_proposes_it_blocked() -> None:
    c1 = replace(C3, risk_level=RiskLevel.C1, positions=(_position("P1", date(2026, 12, 1)),))
    shelf = [WMP_R2, ProductFacts("WMP1", "保本理财", "wmp", ProductRisk.R1, 3)]
    (p,) = rules.reinvest_maturing(c1, shelf, GATE)
    assert (p.product_code, p.blocked_reasons) == ("WMP1", [])  # suitable beats same term
    (p,) = rules.reinvest_maturing(c1, [WMP_R2], GATE)
    assert (p.product_code, p.blocked_reasons) == ("WMP2", [RISK_ABOVE_TOLERANCE])
    expired = replace(c1, risk_assessed_on=date(2025, 1, 1))
    (p,) = rules.reinvest_maturing(expired, shelf, GATE)
    assert (p.product_code, p.blocked_reasons) == ("WMP1", [ASSESSMENT_EXPIRED])  # the fewest reasons


IDLE = {"share": 0.30, "min_amount": 200_000, "reserve": 50_000}


@pytest.mark.parametrize(
    ("demand", "other", "amount"),
    [
        (300_000, 600_000, 250_000),  # 33% and 300k: 300k − 50k reserve
        (300_000, 700_000, None),  # exactly 30%: not above the share
        (199_999, 100_000, None),  # 67% but under 200k
        (200_000, 100_000, 150_000),  # exactly the amount counts
        (250_500, 0, 200_000),  # the amount rounds down to 1,000
    ],
)
def test_idle_deposits_thresholds(demand: float, other: float, amount: float | None) -> None:
    customer = replace(
        C3, month=date(2026, 10, 1), aum=demand + other, aum_by_class={"demand_deposit": demand, "wmp": other}
    )
    found = rules.move_idle_deposits(customer, SHELF, GATE, **IDLE)  # type: ignore[arg-type]
    assert [p.amount for p in found] == ([] if amount is None else [amount])
    if amount is not None:
        (p,) = found
        assert (p.kind, p.source_key, p.product_code) == (
            RecommendationKind.move_idle_deposits,
            "move_idle_deposits:C1:2026-10",
            "WMP2",  # wmp first, at most R2, lower risk first, then shorter
        )


def test_idle_deposits_go_to_a_low_risk_product_only() -> None:
    customer = replace(C3, aum=500_000, aum_by_class={"demand_deposit": 500_000})
    risky_shelf = [WMP_R3, FUND_R4]
    assert rules.move_idle_deposits(customer, risky_shelf, GATE) == []
    (p,) = rules.move_idle_deposits(customer, [*risky_shelf, TD_12], GATE)
    assert p.product_code == "TD12"
    # an unassessed customer is still offered a deposit (outside the gate) before a blocked WMP
    unassessed = replace(customer, risk_level=None, risk_assessed_on=None)
    (p,) = rules.move_idle_deposits(unassessed, [WMP_R2, TD_12], GATE)
    assert (p.product_code, p.blocked_reasons) == ("TD12", [])


def test_deepen_a_single_product_customer() -> None:
    only_deposits = replace(C3, month=date(2026, 10, 1), aum=80_000, aum_by_class={"time_deposit": 80_000})
    (p,) = rules.deepen_single_product(only_deposits, SHELF, GATE)
    # time deposits are held: the next preferred type, wmp, the lowest risk first
    assert (p.kind, p.product_code, p.amount, p.source_key) == (
        RecommendationKind.deepen_single_product,
        "WMP2",
        None,
        "deepen_single_product:C1:2026-10",
    )
    assert p.rationale["held_class"] == "time_deposit"
    # two classes, or a class under the holding floor: not single-product / single-product
    two = replace(only_deposits, aum_by_class={"time_deposit": 80_000, "fund": 5_000}, aum=85_000)
    assert rules.deepen_single_product(two, SHELF, GATE) == []
    crumbs = replace(only_deposits, aum_by_class={"time_deposit": 80_000, "fund": 999}, aum=80_999)
    assert len(rules.deepen_single_product(crumbs, SHELF, GATE, min_class_amount=1_000)) == 1
    small = replace(only_deposits, aum=49_999, aum_by_class={"time_deposit": 49_999})
    assert rules.deepen_single_product(small, SHELF, GATE, min_aum=50_000) == []
    nothing = replace(only_deposits, aum=0, aum_by_class={})
    assert rules.deepen_single_product(nothing, SHELF, GATE) == []


def test_deepen_picks_a_suitable_second_class() -> None:
    only_wmp = replace(C3, aum=900_000, aum_by_class={"wmp": 900_000})
    # preference fund first: FUND4 is R4 > C3, so the suitable bond comes first
    (p,) = rules.deepen_single_product(only_wmp, SHELF, GATE, product_types=("fund", "bond"))
    assert (p.product_code, p.blocked_reasons) == ("BOND1", [])
    (p,) = rules.deepen_single_product(only_wmp, SHELF, GATE, product_types=("fund",))
    assert (p.product_code, p.blocked_reasons) == ("FUND4", [RISK_ABOVE_TOLERANCE])


@pytest.mark.parametrize(
    ("tier", "aum", "earlier", "gap"),
    [
        ("gold", 450_000, 420_000, 50_000),
        ("gold", 400_000, 390_000, 100_000),  # the lower bound counts
        ("gold", 499_500.5, 450_000, 1_000),  # the gap rounds up to 1,000
        ("gold", 399_999, 300_000, None),  # under 400k
        ("gold", 500_000, 450_000, None),  # already at the sunflower threshold
        ("gold", 450_000, 450_000, None),  # not rising
        ("gold", 450_000, None, None),  # no earlier month to compare
        ("sunflower", 450_000, 420_000, None),  # on watch in sunflower, not a gold prospect
    ],
)
def test_upgrade_prospects(tier: str, aum: float, earlier: float | None, gap: float | None) -> None:
    customer = replace(C3, tier=tier, aum=aum, aum_earlier=earlier, month=date(2026, 10, 1))
    found = rules.upgrade_prospect(customer, SHELF, GATE, min_aum=400_000, sunflower_min=500_000)
    assert [p.amount for p in found] == ([] if gap is None else [gap])
    if found:
        assert found[0].rationale["gap"] == gap
        assert found[0].source_key == "upgrade_prospect:C1:2026-10"


def test_recommend_does_not_propose_one_product_twice() -> None:
    customer = replace(
        C3,
        month=date(2026, 10, 1),
        tier="gold",
        aum=450_000,
        aum_earlier=400_000,
        aum_by_class={"demand_deposit": 450_000},
        positions=(_position("P1", date(2026, 12, 1)),),
    )
    found = rules.recommend(customer, SHELF, GATE, GeneratorSettings())
    assert [(p.kind.value, p.product_code) for p in found] == [
        ("reinvest_maturity", "WMP2"),
        ("move_idle_deposits", "WMP2"),  # reinvestment is per position, so it may repeat the product
        ("deepen_single_product", "TD12"),  # demand deposits only: time deposits first, not WMP2 again
        ("upgrade_prospect", "WMP2-12"),  # neither WMP2 nor TD12 again
    ]


def test_a_first_purchase_is_noted_in_the_rationale() -> None:
    newcomer = replace(
        C3, held_types=frozenset({"demand_deposit"}), aum=300_000, aum_by_class={"demand_deposit": 300_000}
    )
    (p,) = rules.move_idle_deposits(newcomer, [WMP_R2], GATE)
    assert p.rationale["first_purchase"] is True
    (p,) = rules.move_idle_deposits(replace(newcomer, held_types=frozenset({"wmp"})), [WMP_R2], GATE)
    assert "first_purchase" not in p.rationale
    (p,) = rules.move_idle_deposits(newcomer, [TD_12], GATE)  # a deposit is no wealth product
    assert "first_purchase" not in p.rationale


def test_the_settings_know_the_product_types() -> None:
    from pydantic import ValidationError

    from wealthcrm.config import RecommendationSettings

    assert RecommendationSettings().idle_max_product_risk is ProductRisk.R2
    with pytest.raises(ValidationError, match="unknown product types"):
        RecommendationSettings(deepen_product_types=["wmp", "stocks"])
    with pytest.raises(ValidationError):
        RecommendationSettings(idle_share=1.5)
