"""The tier and churn rules for one customer (SPEC "Core domain rules": Tiers, Churn)."""

from __future__ import annotations

import math

import pytest

from wealthcrm.config import ChurnSettings, TierSettings
from wealthcrm.tiers.rules import (
    AssetLossEvent,
    TierMonth,
    asset_loss_events,
    customer_loss_months,
    tier_for_aum,
    tier_history,
)
from wealthcrm.vocab import Tier

M, G, S, D, P = Tier.mass, Tier.gold, Tier.sunflower, Tier.diamond, Tier.private
TIERS = TierSettings()
CHURN = ChurnSettings()
NAN = math.nan


def rows(history: list[TierMonth]) -> list[tuple[Tier, Tier, bool, int, str | None]]:
    """(tier, met, watch, months_below, event) per month."""
    return [(h.tier, h.met, h.watch, h.months_below, h.event) for h in history]


@pytest.mark.parametrize(
    ("aum", "tier"),
    [
        (0, M),
        (-5, M),
        (49_999.99, M),
        (50_000, G),
        (499_999.99, G),
        (500_000, S),
        (4_999_999.99, S),
        (5_000_000, D),
        (9_999_999.99, D),
        (10_000_000, P),
        (math.inf, P),
    ],
)
def test_tier_for_aum_meets_at_or_above_threshold(aum: float, tier: Tier) -> None:
    assert tier_for_aum(aum, TIERS) is tier


def test_tier_for_aum_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        tier_for_aum(NAN, TIERS)


def test_tier_for_aum_follows_settings() -> None:
    assert tier_for_aum(300_000, TierSettings(sunflower_min=300_000)) is S


def test_empty_history() -> None:
    assert tier_history([], TIERS) == []


def test_first_month_tier_is_what_it_meets_and_stays() -> None:
    hist = tier_history([500_000, 500_000], TIERS)
    assert hist == [
        TierMonth(S, S, False, 0, None, None, 500_000.0),
        TierMonth(S, S, False, 0, None, S, 500_000.0),
    ]


def test_just_below_threshold_is_gold() -> None:
    assert rows(tier_history([499_999.99], TIERS)) == [(G, G, False, 0, None)]


def test_upgrade_takes_effect_the_month_after() -> None:
    hist = tier_history([100_000, 600_000, 600_000, 600_000], TIERS)
    assert rows(hist) == [
        (G, G, False, 0, None),
        (G, S, False, 0, None),
        (S, S, False, 0, "upgrade"),
        (S, S, False, 0, None),
    ]
    assert [h.previous_tier for h in hist] == [None, G, G, S]


def test_upgrade_jumps_several_tiers() -> None:
    hist = tier_history([100_000, 12_000_000, 12_000_000], TIERS)
    assert rows(hist) == [
        (G, G, False, 0, None),
        (G, P, False, 0, None),
        (P, P, False, 0, "upgrade"),
    ]
    assert hist[2].previous_tier is G


def test_one_good_month_is_enough_to_upgrade() -> None:
    hist = tier_history([100_000, 600_000, 100_000, 100_000], TIERS)
    assert rows(hist) == [
        (G, G, False, 0, None),
        (G, S, False, 0, None),
        (S, G, True, 1, "upgrade"),
        (S, G, True, 2, None),
    ]


def test_two_months_below_then_recovery_is_no_downgrade() -> None:
    hist = tier_history([600_000, 400_000, 400_000, 600_000, 400_000], TIERS)
    assert rows(hist) == [
        (S, S, False, 0, None),
        (S, G, True, 1, None),
        (S, G, True, 2, None),
        (S, S, False, 0, None),
        (S, G, True, 1, None),
    ]
    assert [h.watch for h in hist[1:4]] == [True, True, False]


def test_three_months_below_downgrade_in_month_four_to_what_month_three_met() -> None:
    hist = tier_history([400_000, 30_000, 200_000, 200_000, 200_000], TIERS, initial_tier=S)
    assert rows(hist) == [
        (S, G, True, 1, None),
        (S, M, True, 2, None),
        (S, G, True, 3, None),
        (G, G, False, 0, "downgrade"),
        (G, G, False, 0, None),
    ]
    assert hist[3].previous_tier is S


def test_downgrade_may_drop_several_tiers() -> None:
    hist = tier_history([6_000_000, 10_000, 10_000, 10_000, 10_000], TIERS)
    assert [h.tier for h in hist] == [D, D, D, D, M]
    assert hist[4].event == "downgrade"


def test_private_has_six_months_grace() -> None:
    hist = tier_history([6_000_000] * 7, TIERS, initial_tier=P)
    assert rows(hist) == [
        (P, D, True, 1, None),
        (P, D, True, 2, None),
        (P, D, True, 3, None),
        (P, D, True, 4, None),
        (P, D, True, 5, None),
        (P, D, True, 6, None),
        (D, D, False, 0, "downgrade"),
    ]


def test_private_five_months_below_then_recovery_stays_private() -> None:
    hist = tier_history([6_000_000] * 5 + [11_000_000, 6_000_000], TIERS, initial_tier=P)
    assert [h.tier for h in hist] == [P] * 7
    assert [h.months_below for h in hist] == [1, 2, 3, 4, 5, 0, 1]
    assert {h.event for h in hist} == {None}


def test_count_restarts_after_a_downgrade() -> None:
    hist = tier_history([400_000, 400_000, 400_000, 30_000, 30_000, 30_000, 30_000], TIERS, initial_tier=S)
    assert rows(hist) == [
        (S, G, True, 1, None),
        (S, G, True, 2, None),
        (S, G, True, 3, None),
        (G, M, True, 1, "downgrade"),
        (G, M, True, 2, None),
        (G, M, True, 3, None),
        (M, M, False, 0, "downgrade"),
    ]


def test_higher_tier_while_on_watch_upgrades_and_resets_count() -> None:
    hist = tier_history([400_000, 400_000, 6_000_000, 400_000], TIERS, initial_tier=S)
    assert rows(hist) == [
        (S, G, True, 1, None),
        (S, G, True, 2, None),
        (S, D, False, 0, None),
        (D, G, True, 1, "upgrade"),
    ]


def test_initial_tier_below_what_the_first_month_meets_upgrades_next_month() -> None:
    hist = tier_history([600_000, 600_000], TIERS, initial_tier=G)
    assert rows(hist) == [(G, S, False, 0, None), (S, S, False, 0, "upgrade")]


def test_missing_months_count_zero() -> None:
    hist = tier_history([100_000, NAN, None, NAN, 100_000, 100_000], TIERS)
    assert rows(hist) == [
        (G, G, False, 0, None),
        (G, M, True, 1, None),
        (G, M, True, 2, None),
        (G, M, True, 3, None),
        (M, G, False, 0, "downgrade"),
        (G, G, False, 0, "upgrade"),
    ]
    assert [h.aum for h in hist] == [100_000, 0, 0, 0, 100_000, 100_000]


def test_grace_follows_settings() -> None:
    tiers = TierSettings(grace_months=1, private_grace_months=2)
    assert [h.tier for h in tier_history([600_000, 400_000, 400_000], tiers)] == [S, S, G]
    assert [h.tier for h in tier_history([20e6, 6e6, 6e6, 6e6], tiers)] == [P, P, P, D]


# --- customer loss -------------------------------------------------------------------------------


def test_customer_loss_on_downgrade_from_sunflower_to_gold() -> None:
    hist = tier_history([400_000] * 5, TIERS, initial_tier=S)
    assert [h.tier for h in hist] == [S, S, S, G, G]
    assert customer_loss_months(hist, None, CHURN) == [3]


def test_customer_loss_on_downgrade_from_diamond_to_gold_but_not_to_sunflower() -> None:
    assert customer_loss_months([D, D, G], None, CHURN) == [2]
    assert customer_loss_months([D, D, S], None, CHURN) == []


def test_no_customer_loss_from_gold_to_mass() -> None:
    hist = tier_history([10_000] * 5, TIERS, initial_tier=G)
    assert [h.tier for h in hist] == [G, G, G, M, M]
    assert customer_loss_months(hist, None, CHURN) == []


def test_customer_loss_on_closing_while_sunflower() -> None:
    hist = tier_history([600_000, 600_000, 0], TIERS)
    assert customer_loss_months(hist, 2, CHURN) == [2]


def test_no_customer_loss_on_closing_while_gold() -> None:
    assert customer_loss_months([G, G, G], 2, CHURN) == []


def test_downgrade_in_the_closing_month_counts_once() -> None:
    assert customer_loss_months([S, S, G], 2, CHURN) == [2]


def test_months_after_closing_are_ignored() -> None:
    assert customer_loss_months([S, S, S, G], 1, CHURN) == [1]


def test_customer_loss_accepts_tier_codes_and_repeats_after_a_win_back() -> None:
    assert customer_loss_months([-1, 2, 1, 2, 1], None, CHURN) == [2, 4]


def test_customer_loss_min_tier_follows_settings() -> None:
    assert customer_loss_months([G, M], None, ChurnSettings(customer_loss_min_tier=G)) == [1]


def test_closing_month_outside_history_is_rejected() -> None:
    with pytest.raises(ValueError, match="closed_month_index"):
        customer_loss_months([S, S], 2, CHURN)


# --- asset loss ----------------------------------------------------------------------------------


def test_asset_loss_exactly_thirty_percent() -> None:
    assert asset_loss_events([1_000_000, 1_000_000, 1_000_000, 700_000], CHURN) == [
        AssetLossEvent(3, 1_000_000, 700_000, 300_000, 0.3)
    ]


def test_asset_loss_exact_share_survives_binary_rounding() -> None:
    assert (1 - 0.3) * 3 < 2.1  # the rounding the tolerance is there for
    assert [e.month_index for e in asset_loss_events([3, 3, 3, 2.1], CHURN)] == [3]


def test_no_asset_loss_just_under_thirty_percent() -> None:
    assert asset_loss_events([1_000_000, 1_000_000, 1_000_000, 700_000.01], CHURN) == []


def test_asset_loss_compares_with_three_months_earlier_only() -> None:
    # 1M -> 500k within three months of 600k: month 3 is compared with month 0 (600k) only.
    assert asset_loss_events([600_000, 1_000_000, 1_000_000, 500_000], CHURN) == []


def test_asset_loss_episode_counted_once_with_amount() -> None:
    aum = [1_000_000, 1_000_000, 1_000_000, 600_000, 600_000, 600_000, 600_000, 300_000]
    assert asset_loss_events(aum, CHURN) == [
        AssetLossEvent(3, 1_000_000, 600_000, 400_000, 0.4),
        AssetLossEvent(7, 600_000, 300_000, 300_000, 0.5),
    ]


def test_asset_loss_needs_positive_base() -> None:
    assert asset_loss_events([0, 0, 0, 0, 0], CHURN) == []


def test_asset_loss_missing_months_count_zero() -> None:
    assert asset_loss_events([1_000_000, NAN, None, NAN], CHURN) == [
        AssetLossEvent(3, 1_000_000, 0, 1_000_000, 1.0)
    ]


def test_asset_loss_follows_settings() -> None:
    churn = ChurnSettings(asset_loss_drop=0.5, asset_loss_lookback_months=1)
    assert asset_loss_events([100, 60, 30, 10], churn) == [AssetLossEvent(2, 60, 30, 30, 0.5)]
