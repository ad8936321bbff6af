"""The tier and churn rules of :mod:`wealthcrm.tiers.rules` for many customers at once.

The input is a (customers × months) float array of month-average AUM. NaN before a customer's first
observed month means "not a customer yet" (tier code -1 there); NaN after it counts as AUM 0. The
engine loops over months only and is vectorised across customers with numpy; its results equal
:func:`~wealthcrm.tiers.rules.tier_history` on each row from the first observed month (property-tested
in ``tests/tiers/test_matrix.py``). Tier codes are indices into ``TIER_ORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wealthcrm.config import ChurnSettings, TierSettings
from wealthcrm.tiers.rules import ASSET_LOSS_REL_TOL
from wealthcrm.vocab import TIER_ORDER, Tier

NOT_A_CUSTOMER = -1
EVENT_UPGRADE = 1
EVENT_DOWNGRADE = -1

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int8]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class TierMatrix:
    """Per customer and month: effective ``tier`` and ``met`` tier codes (-1 before the first month),
    ``watch``, ``months_below`` and ``event`` (1 upgrade, -1 downgrade, 0 none)."""

    tier: Codes
    met: Codes
    watch: Bools
    months_below: Ints
    event: Codes

    @property
    def started(self) -> Bools:
        """True from each customer's first observed month on."""
        return np.asarray(self.tier >= 0)


def _as_matrix(aum: npt.ArrayLike) -> Floats:
    arr = np.asarray(aum, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"AUM must be a (customers × months) array, got shape {arr.shape}")
    return arr


def met_codes(aum: npt.ArrayLike, tiers: TierSettings) -> Codes:
    """Tier code each AUM meets (same rule as ``tier_for_aum``); NaN must be replaced first."""
    thresholds = np.asarray(tiers.thresholds(), dtype=np.float64)
    idx = np.searchsorted(thresholds, np.asarray(aum, dtype=np.float64), side="right") - 1
    return np.maximum(idx, 0).astype(np.int8)


def tier_matrix(
    aum: npt.ArrayLike, tiers: TierSettings, *, initial: npt.ArrayLike | None = None
) -> TierMatrix:
    """Run the tier rules on every row of ``aum``.

    ``initial`` holds, per customer, the tier code of the first observed month (-1: the tier that
    month meets), like ``initial_tier`` of ``tier_history``.
    """
    x = _as_matrix(aum)
    n, months = x.shape
    init = np.full(n, NOT_A_CUSTOMER, dtype=np.int8)
    if initial is not None:
        given = np.asarray(initial, dtype=np.int64)
        if given.shape != (n,) or given.min(initial=0) < -1 or given.max(initial=0) >= len(TIER_ORDER):
            raise ValueError("initial must hold one tier code (or -1) per customer")
        init = given.astype(np.int8)
    private = TIER_ORDER.index(Tier.private)

    tier = np.full((n, months), NOT_A_CUSTOMER, dtype=np.int8)
    met = np.full((n, months), NOT_A_CUSTOMER, dtype=np.int8)
    watch = np.zeros((n, months), dtype=np.bool_)
    months_below = np.zeros((n, months), dtype=np.int32)
    event = np.zeros((n, months), dtype=np.int8)

    started = np.zeros(n, dtype=np.bool_)
    prev = np.full(n, NOT_A_CUSTOMER, dtype=np.int8)  # effective tier of the month before
    nxt = np.full(n, NOT_A_CUSTOMER, dtype=np.int8)  # effective tier of the coming month
    carried = np.zeros(n, dtype=np.int32)  # months below carried into the coming month
    for m in range(months):
        col = x[:, m]
        observed = ~np.isnan(col)
        first = observed & ~started
        was_started = started
        started = started | observed
        met_m = np.where(started, met_codes(np.where(observed, col, 0.0), tiers), NOT_A_CUSTOMER)
        met_m = met_m.astype(np.int8)
        cur = np.where(first, np.where(init >= 0, init, met_m), nxt).astype(np.int8)
        ev = np.where(was_started, np.sign(cur.astype(np.int16) - prev), 0)
        below = started & (met_m < cur)
        count = np.where(below, carried + 1, 0).astype(np.int32)
        grace = np.where(cur == private, tiers.private_grace_months, tiers.grace_months)
        down = below & (count >= grace)
        up = started & (met_m > cur)

        tier[:, m] = cur
        met[:, m] = met_m
        watch[:, m] = below
        months_below[:, m] = count
        event[:, m] = ev
        nxt = np.where(up | down, met_m, cur).astype(np.int8)
        carried = np.where(down, 0, count).astype(np.int32)  # the count restarts after a downgrade
        prev = cur
    return TierMatrix(tier, met, watch, months_below, event)


def customer_loss_matrix(
    tier: npt.ArrayLike, closed_month: npt.ArrayLike | None, settings: ChurnSettings
) -> Bools:
    """Customer loss per customer and month, as ``customer_loss_months`` on each row.

    ``tier`` is the effective tier code matrix (-1 before the first month); ``closed_month`` holds,
    per customer, the index of the closing month (-1: not closed within the matrix).
    """
    codes = np.asarray(tier, dtype=np.int16)
    if codes.ndim != 2:
        raise ValueError(f"tier must be a (customers × months) array, got shape {codes.shape}")
    n, months = codes.shape
    closed = np.full(n, -1, dtype=np.int64)
    if closed_month is not None:
        closed = np.asarray(closed_month, dtype=np.int64)
        if closed.shape != (n,) or closed.min(initial=0) < -1 or closed.max(initial=0) >= months:
            raise ValueError("closed_month must hold one month index (or -1) per customer")
    floor = settings.customer_loss_min_tier.rank
    month_idx = np.arange(months)[None, :]
    prev = np.concatenate([np.full((n, 1), NOT_A_CUSTOMER, dtype=np.int16), codes[:, :-1]], axis=1)
    downgraded = (prev >= floor) & (codes < floor)
    closing = month_idx == closed[:, None]
    in_relationship = (closed[:, None] < 0) | (month_idx <= closed[:, None])
    return np.asarray((downgraded & in_relationship) | (closing & (codes >= floor)))


@dataclass(frozen=True, slots=True)
class AssetLossMatrix:
    """Asset-loss episodes per customer and month: ``event`` in the first month of each episode, with
    ``base_aum`` (AUM ``lookback`` months earlier) and ``amount_lost`` there (0 elsewhere)."""

    event: Bools
    base_aum: Floats
    amount_lost: Floats


def asset_loss_matrix(aum: npt.ArrayLike, settings: ChurnSettings) -> AssetLossMatrix:
    """Asset loss on every row, as ``asset_loss_events``; NaN counts 0 (a leading NaN never has a
    positive base, so "not a customer yet" and 0 give the same answer)."""
    x = np.nan_to_num(_as_matrix(aum), nan=0.0)
    k = settings.asset_loss_lookback_months
    base = np.zeros_like(x)
    if k < x.shape[1]:
        base[:, k:] = x[:, :-k]
    drop = settings.asset_loss_drop
    qualified = (base > 0) & (x <= base * (1.0 - drop) * (1.0 + ASSET_LOSS_REL_TOL))
    before = np.zeros_like(qualified)
    before[:, 1:] = qualified[:, :-1]
    event = qualified & ~before
    return AssetLossMatrix(event, np.where(event, base, 0.0), np.where(event, base - x, 0.0))
