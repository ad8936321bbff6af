"""The vectorised tier and churn engine equals the one-customer rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wealthcrm.config import ChurnSettings, TierSettings
from wealthcrm.tiers.matrix import (
    asset_loss_matrix,
    customer_loss_matrix,
    tier_matrix,
)
from wealthcrm.tiers.rules import asset_loss_events, customer_loss_months, tier_history
from wealthcrm.vocab import TIER_ORDER

NAN = math.nan
TIERS = TierSettings()
CHURN = ChurnSettings()
EVENT_CODES = {None: 0, "upgrade": 1, "downgrade": -1}


def test_tier_matrix_small_example() -> None:
    aum = np.array(
        [
            [NAN, NAN, 100_000, 600_000, 600_000],  # joins in month 2, upgrade in month 4
            [600_000, 400_000, 400_000, 400_000, NAN],  # downgrade in month 4; missing month 4 is 0
            [NAN, NAN, NAN, NAN, NAN],  # never a customer
        ]
    )
    result = tier_matrix(aum, TIERS)
    assert result.tier.dtype == np.int8
    assert result.tier.tolist() == [[-1, -1, 1, 1, 2], [2, 2, 2, 2, 1], [-1] * 5]
    assert result.met.tolist() == [[-1, -1, 1, 2, 2], [2, 1, 1, 1, 0], [-1] * 5]
    assert result.watch.tolist() == [
        [False] * 5,
        [False, True, True, True, True],
        [False] * 5,
    ]
    assert result.months_below.tolist() == [[0] * 5, [0, 1, 2, 3, 1], [0] * 5]
    assert result.event.tolist() == [[0, 0, 0, 0, 1], [0, 0, 0, 0, -1], [0] * 5]
    assert result.started.tolist() == [[False, False, True, True, True], [True] * 5, [False] * 5]


def test_tier_matrix_initial_tiers() -> None:
    aum = np.array([[NAN, 400_000, 400_000, 400_000, 400_000], [100_000] * 5])
    result = tier_matrix(aum, TIERS, initial=np.array([2, -1]))
    assert result.tier.tolist() == [[-1, 2, 2, 2, 1], [1] * 5]


@pytest.mark.parametrize("initial", [np.array([5]), np.array([-2]), np.array([1, 1])])
def test_tier_matrix_rejects_bad_initial(initial: np.ndarray) -> None:
    with pytest.raises(ValueError, match="initial"):
        tier_matrix(np.zeros((1, 2)), TIERS, initial=initial)


def test_tier_matrix_rejects_one_dimensional_input() -> None:
    with pytest.raises(ValueError, match="customers"):
        tier_matrix(np.zeros(3), TIERS)


def test_tier_matrix_of_no_months() -> None:
    result = tier_matrix(np.zeros((2, 0)), TIERS)
    assert result.tier.shape == (2, 0)


def test_customer_loss_matrix_example() -> None:
    tier = np.array([[2, 2, 2, 1, 1], [-1, 3, 3, 3, 3], [2, 2, 1, 2, 1]], dtype=np.int8)
    loss = customer_loss_matrix(tier, np.array([-1, 2, 1]), CHURN)
    assert loss.tolist() == [
        [False, False, False, True, False],
        [False, False, True, False, False],
        [False, True, False, False, False],
    ]


def test_customer_loss_matrix_rejects_bad_closed_month() -> None:
    with pytest.raises(ValueError, match="closed_month"):
        customer_loss_matrix(np.zeros((1, 3), dtype=np.int8), np.array([3]), CHURN)


def test_asset_loss_matrix_example() -> None:
    aum = np.array([[1e6, 1e6, 1e6, 7e5, 6e5, 6e5, 6e5, 3e5], [NAN, NAN, 1e6, NAN, NAN, 0, 0, 0]])
    result = asset_loss_matrix(aum, CHURN)
    assert result.event.tolist() == [
        [False, False, False, True, False, False, False, True],
        [False, False, False, False, False, True, False, False],
    ]
    assert result.amount_lost.tolist() == [[0, 0, 0, 3e5, 0, 0, 0, 3e5], [0, 0, 0, 0, 0, 1e6, 0, 0]]
    assert result.base_aum.tolist() == [[0, 0, 0, 1e6, 0, 0, 0, 6e5], [0, 0, 0, 0, 0, 1e6, 0, 0]]


def test_asset_loss_matrix_shorter_than_lookback() -> None:
    result = asset_loss_matrix(np.ones((2, 2)), CHURN)
    assert result.event.tolist() == [[False, False], [False, False]]


# --- property: vectorised == scalar --------------------------------------------------------------

# Values on, just under and just over every threshold, plus anything from 0 to 15M and missing months.
_EDGES = [t + d for t in (0.0, 50_000.0, 500_000.0, 5_000_000.0, 10_000_000.0) for d in (-0.01, 0.0, 0.01)]
_AUM = st.one_of(
    st.sampled_from([e for e in _EDGES if e >= 0]),
    st.floats(min_value=0, max_value=15_000_000, allow_nan=False),
    st.just(NAN),
)


@st.composite
def _books(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, TierSettings, ChurnSettings]:
    months = draw(st.integers(min_value=1, max_value=14))
    n = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for _ in range(n):
        lead = draw(st.integers(min_value=0, max_value=months))
        rows.append([NAN] * lead + draw(st.lists(_AUM, min_size=months - lead, max_size=months - lead)))
    initial = draw(st.lists(st.integers(-1, len(TIER_ORDER) - 1), min_size=n, max_size=n))
    closed = draw(st.lists(st.integers(-1, months - 1), min_size=n, max_size=n))
    tiers = TierSettings(grace_months=draw(st.integers(1, 4)), private_grace_months=draw(st.integers(1, 7)))
    churn = ChurnSettings(
        asset_loss_drop=draw(st.sampled_from([0.3, 0.5, 0.25])),
        asset_loss_lookback_months=draw(st.integers(1, 4)),
        customer_loss_min_tier=draw(st.sampled_from(TIER_ORDER[1:])),
    )
    return np.array(rows, dtype=np.float64), np.array(initial), np.array(closed), tiers, churn


@settings(max_examples=400, deadline=None)
@given(_books())
def test_vectorised_equals_scalar(
    book: tuple[np.ndarray, np.ndarray, np.ndarray, TierSettings, ChurnSettings],
) -> None:
    aum, initial, closed, tiers, churn = book
    result = tier_matrix(aum, tiers, initial=initial)
    loss = customer_loss_matrix(result.tier, closed, churn)
    assets = asset_loss_matrix(aum, churn)
    months = aum.shape[1]
    for i, row in enumerate(aum):
        observed = np.flatnonzero(~np.isnan(row))
        start = int(observed[0]) if observed.size else months
        init = TIER_ORDER[initial[i]] if initial[i] >= 0 else None
        hist = tier_history(list(row[start:]), tiers, initial_tier=init)
        pad = [-1] * start
        assert result.tier[i].tolist() == pad + [h.tier.rank for h in hist]
        assert result.met[i].tolist() == pad + [h.met.rank for h in hist]
        assert result.watch[i].tolist() == [False] * start + [h.watch for h in hist]
        assert result.months_below[i].tolist() == [0] * start + [h.months_below for h in hist]
        assert result.event[i].tolist() == [0] * start + [EVENT_CODES[h.event] for h in hist]

        closed_rel = int(closed[i]) - start if closed[i] >= start else None
        expected_loss = (
            [] if closed[i] >= 0 and closed_rel is None else customer_loss_months(hist, closed_rel, churn)
        )
        assert np.flatnonzero(loss[i]).tolist() == [m + start for m in expected_loss]
        # The tier codes of a matrix row, leading -1s included, give the same answer.
        row_closed = int(closed[i]) if closed[i] >= 0 else None
        assert np.flatnonzero(loss[i]).tolist() == customer_loss_months(
            result.tier[i].tolist(), row_closed, churn
        )

        events = asset_loss_events(list(row), churn)
        assert np.flatnonzero(assets.event[i]).tolist() == [e.month_index for e in events]
        assert assets.amount_lost[i][assets.event[i]].tolist() == [e.amount_lost for e in events]
        assert assets.base_aum[i][assets.event[i]].tolist() == [e.base_aum for e in events]
        # Leading NaN ("not a customer yet") and 0 give the same asset-loss answer.
        trimmed = asset_loss_events(list(row[start:]), churn)
        assert [e.month_index + start for e in trimmed] == [e.month_index for e in events]
