"""The tier and churn rules for one customer, as pure functions (SPEC "Core domain rules": Tiers, Churn).

Tiers are set on the month-average daily AUM (月日均) of total AUM:

* A month's AUM *meets* the highest tier whose threshold it reaches (``aum >= threshold``): with the
  default settings exactly 500,000 CNY is sunflower and 499,999.99 is gold.
* **Upgrade.** A month whose AUM meets a higher tier than the customer's effective tier moves the
  customer, *in the next month*, to the tier that month met (several tiers at once if so).
* **Downgrade.** After ``tiers.grace(tier)`` consecutive months below the effective tier's threshold
  (3 months; 6 for private) the customer moves, *in the next month*, to the tier the last of those
  months met. Each month below, the Nth included, the customer is on *watch* (关注).
* A month at or above the threshold ends the run of months below: two months below and a
  recovery mean no downgrade.

Edge cases decided here (the SPEC is silent on them):

* The sequence starts in the customer's first month. Its effective tier is ``initial_tier`` when
  given (e.g. carried over from before the data starts), else the tier that month meets; the first
  month is then judged like any other (it may already count as a month below, or trigger an upgrade).
* A missing month (``None`` or NaN) counts as AUM 0.
* After any tier change the count of months below restarts from zero against the new tier.
* A month that meets a higher tier while the customer is on watch ends the watch and triggers an
  upgrade in the next month.
* The tier a downgrade moves to is what the Nth month met, even if an earlier month of the run was
  lower or higher.
* Customer loss: months after the closing month are ignored (the relationship is over), and a
  downgrade below the loss tier in the closing month counts once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wealthcrm.config import ChurnSettings, TierSettings
from wealthcrm.vocab import TIER_ORDER, Tier

TierEvent = Literal["upgrade", "downgrade"]

#: Relative slack in the asset-loss comparison, so that a drop of exactly the configured share is not
#: lost to binary rounding (``(1 - 0.3) * 3`` is ``2.0999999999999996``); 1e-12 is below one cent
#: on ten billion CNY.
ASSET_LOSS_REL_TOL = 1e-12


def tier_for_aum(aum: float, tiers: TierSettings) -> Tier:
    """The tier a month-average AUM meets: the highest tier with ``aum >= threshold``.

    Negative AUM meets mass; NaN is not an AUM and raises ``ValueError``.

    >>> from wealthcrm.config import TierSettings
    >>> tier_for_aum(500_000, TierSettings()), tier_for_aum(499_999.99, TierSettings())
    (<Tier.sunflower: 'sunflower'>, <Tier.gold: 'gold'>)
    """
    if math.isnan(aum):
        raise ValueError("AUM is NaN; a missing month counts as 0 and must be replaced first")
    for tier in reversed(TIER_ORDER[1:]):
        if aum >= tiers.threshold(tier):
            return tier
    return Tier.mass


@dataclass(frozen=True, slots=True)
class TierMonth:
    """One customer's tier state in one month.

    ``tier`` is the effective tier this month; ``met`` the tier this month's AUM meets; ``watch`` is
    true when ``met`` is below ``tier``; ``months_below`` counts the consecutive months below
    ``tier`` up to and including this one (0 when not below); ``event`` says whether ``tier`` was
    reached by an upgrade or a downgrade this month; ``previous_tier`` is last month's effective tier
    (None in the first month).
    """

    tier: Tier
    met: Tier
    watch: bool
    months_below: int
    event: TierEvent | None
    previous_tier: Tier | None
    aum: float


def clean_aum(value: float | None) -> float:
    """A month's AUM with a missing month (None or NaN) counted as 0."""
    if value is None or math.isnan(value):
        return 0.0
    return float(value)


def tier_history(
    aum: Sequence[float | None], tiers: TierSettings, *, initial_tier: Tier | None = None
) -> list[TierMonth]:
    """Apply the tier rules (module docstring) to one customer's monthly AUM, first month first."""
    out: list[TierMonth] = []
    current = initial_tier
    previous: Tier | None = None
    carried_below = 0
    for raw in aum:
        value = clean_aum(raw)
        met = tier_for_aum(value, tiers)
        if current is None:
            current = met
        event: TierEvent | None = None
        if previous is not None and current is not previous:
            event = "upgrade" if current.rank > previous.rank else "downgrade"
        below = met.rank < current.rank
        months_below = carried_below + 1 if below else 0
        out.append(TierMonth(current, met, below, months_below, event, previous, value))
        previous = current
        carried_below = months_below
        if met.rank > current.rank:
            current = met
        elif below and months_below >= tiers.grace(current):
            current = met
            carried_below = 0  # the count restarts against the new tier
    return out


def _rank(item: TierMonth | Tier | int) -> int:
    """Tier index in ``TIER_ORDER``; an int is taken as already one (-1: not a customer yet)."""
    if isinstance(item, TierMonth):
        return item.tier.rank
    if isinstance(item, Tier):
        return item.rank
    return int(item)


def customer_loss_months(
    tiers: Sequence[TierMonth] | Sequence[Tier] | Sequence[int],
    closed_month_index: int | None,
    settings: ChurnSettings,
) -> list[int]:
    """Month indices of customer loss (客户流失), ascending.

    ``tiers`` is a customer's effective tier per month (``TierMonth``s, ``Tier``s or ``TIER_ORDER``
    indices with -1 for "not a customer yet"). With ``L = settings.customer_loss_min_tier``
    (sunflower): a loss happens in the month a downgrade from ``>= L`` to ``< L`` takes effect, and in
    the closing month ``closed_month_index`` if the effective tier that month is ``>= L``. Months
    after the closing month are ignored; a month counts at most once.
    """
    ranks = [_rank(t) for t in tiers]
    if closed_month_index is not None and not 0 <= closed_month_index < len(ranks):
        raise ValueError(f"closed_month_index {closed_month_index} outside 0..{len(ranks) - 1}")
    floor = settings.customer_loss_min_tier.rank
    last = len(ranks) - 1 if closed_month_index is None else closed_month_index
    out: list[int] = []
    for m in range(last + 1):
        downgraded = m > 0 and ranks[m - 1] >= floor > ranks[m]
        closed = m == closed_month_index and ranks[m] >= floor
        if downgraded or closed:
            out.append(m)
    return out


@dataclass(frozen=True, slots=True)
class AssetLossEvent:
    """An asset-loss episode (资产流失), recorded in its first qualifying month."""

    month_index: int
    base_aum: float  # AUM ``lookback`` months earlier
    aum: float  # AUM this month
    amount_lost: float  # base_aum - aum, CNY
    drop_share: float  # amount_lost / base_aum


def asset_loss_qualifies(value: float, base: float, drop: float) -> bool:
    """``value`` is at least ``drop`` below a positive ``base`` (with ``ASSET_LOSS_REL_TOL`` slack)."""
    return base > 0 and value <= base * (1.0 - drop) * (1.0 + ASSET_LOSS_REL_TOL)


def asset_loss_events(aum: Sequence[float | None], settings: ChurnSettings) -> list[AssetLossEvent]:
    """Asset-loss episodes of one customer's monthly AUM (missing months count 0).

    Month ``m`` qualifies when ``aum[m] <= (1 - drop) * aum[m - k]`` and ``aum[m - k] > 0``, with
    ``drop = settings.asset_loss_drop`` (30%) and ``k = settings.asset_loss_lookback_months`` (3). A
    run of consecutive qualifying months is one episode, recorded in its first month with the CNY
    amount lost ``aum[m - k] - aum[m]`` of that month.
    """
    values = [clean_aum(v) for v in aum]
    k = settings.asset_loss_lookback_months
    out: list[AssetLossEvent] = []
    previous_qualified = False
    for m, value in enumerate(values):
        base = values[m - k] if m >= k else 0.0
        qualified = asset_loss_qualifies(value, base, settings.asset_loss_drop)
        if qualified and not previous_qualified:
            lost = base - value
            out.append(AssetLossEvent(m, base, value, lost, lost / base))
        previous_qualified = qualified
    return out
