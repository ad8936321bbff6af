"""The per-customer state the monthly step moves forward, and the branch-wide world it moves in.

``State`` holds one row per customer (or, for the oracle, per customer × forward path): the hidden
satisfaction and defection phase, balances per asset class, maturity slots, the RM seat and the tier
state. Every field is a numpy array whose first axis is the row, so ``take`` can copy any subset.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from wealthcrm.config import TierSettings
from wealthcrm.simulate.params import SimParams
from wealthcrm.simulate.products import Shelf
from wealthcrm.simulate.staff import Staff
from wealthcrm.simulate.timeline import Timeline

SLOTS = 4  # maturity slots per customer: at most four deposits/WMPs/bonds running at once

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

NOT_YET, ACTIVE, CLOSED = 0, 1, 2
ENGAGED, DEFECTING = 0, 1


@dataclass
class State:
    # static per customer
    mu: Floats  # long-run satisfaction
    income: Floats  # monthly household income, CNY
    save: Floats  # share of income left at the bank
    payroll: Bools  # salary or pension paid in
    risk: Ints  # risk level 1..5 (C1..C5)
    comp_sens: Floats  # sensitivity to a competitor's rate advantage
    cash_pref: Floats  # share of AUM the customer keeps in demand deposits
    start: Ints  # first month as a customer (0 for customers from before the window)
    onboard_day: Ints  # day of month of the first deposit (new customers)
    hold_prod: Ints  # (n, 3) product of the fund / insurance / gold holding, -1 none
    # dynamic
    active: npt.NDArray[np.int8]
    z: Floats  # hidden satisfaction
    phase: npt.NDArray[np.int8]  # ENGAGED or DEFECTING
    away: Floats  # money moved to other banks during the current defection
    defect_aum: Floats  # AUM when the current defection began
    pay_away: Bools  # salary credits redirected to another bank while defecting (income stops here)
    dd: Floats  # demand deposits
    hold: Floats  # (n, 3) fund, insurance cash value, gold
    cust: Floats  # third-party custody
    sv: Floats  # (n, SLOTS) value of each maturing product
    sm: Ints  # (n, SLOTS) maturity month, -1 empty
    sp: Ints  # (n, SLOTS) product, -1 empty
    seat: Ints
    rm: Ints  # staff index of the RM now
    rm_recent: Ints  # months since the RM changed
    since_contact: Ints
    complaint_recent: Ints  # months since the last complaint was opened (99 none)
    c_open: Ints  # the last complaint: opened, SLA due and resolved, seconds since 1970 (-1 none)
    c_due: Ints
    c_res: Ints
    mat_nc: Floats  # decaying count of maturities nobody called about
    life_recent: Ints  # months since a relocation
    tier: npt.NDArray[np.int8]  # effective tier code this month, -1 before the first month
    tier_next: npt.NDArray[np.int8]  # effective tier of the coming month, -1 before the first
    carried: Ints  # consecutive months below the effective tier

    def take(self, idx: Ints) -> State:
        """A copy of the rows ``idx`` (repeats allowed)."""
        return State(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})

    def __len__(self) -> int:
        return len(self.z)

    def total(self) -> Floats:
        """Total balance of each row now."""
        return self.dd + rowsum(self.hold) + self.cust + rowsum(self.sv)


def rowsum(a: npt.NDArray[np.generic]) -> Floats:
    """Sum over the (few) columns of a 2-D array, column by column.

    numpy's ``a.sum(1)`` on an (n, 4) array is several times slower than four vector additions,
    and the monthly step sums narrow arrays many times per month.
    """
    out = np.array(a[:, 0], dtype=np.float64)
    for k in range(1, a.shape[1]):
        out += np.asarray(a[:, k], dtype=np.float64)
    return out


def rowany(a: Bools) -> Bools:
    out = np.array(a[:, 0], dtype=np.bool_)
    for k in range(1, a.shape[1]):
        out |= a[:, k]
    return out


@dataclass(frozen=True)
class World:
    """Everything branch-wide: params, months, shelf, staff and the market path."""

    params: SimParams
    tiers: TierSettings
    timeline: Timeline
    shelf: Shelf
    staff: Staff
    equity: Floats  # monthly equity return per month
    gold: Floats
    competitor: Floats  # competitor's rate advantage, percentage points
    contact_rate: Floats  # mean reached contacts a month by tier code
    class_cum: Floats  # (5, 2) cumulative chance of TD / WMP (else bond) by risk level
    fallback_product: int  # a 12-month time deposit, when nothing else is on sale
    thresholds: Floats

    def met(self, total: Floats) -> npt.NDArray[np.int8]:
        """Tier code a month-average AUM meets (the rule of ``tiers.matrix.met_codes``)."""
        idx = np.searchsorted(self.thresholds, total, side="right") - 1
        return np.maximum(idx, 0).astype(np.int8)


def make_world(
    params: SimParams, timeline: Timeline, shelf: Shelf, staff: Staff, rng: np.random.Generator
) -> World:
    total = timeline.total
    equity = rng.normal(params.equity_mu, params.equity_sigma, total)
    gold = rng.normal(params.gold_mu, params.gold_sigma, total)
    comp = np.empty(total)
    level = params.competitor_mean
    for m in range(total):  # AR(1): rate gaps persist for months, as they do between banks
        level = params.competitor_mean + params.competitor_ar * (level - params.competitor_mean)
        level += rng.normal(0.0, params.competitor_sigma)
        comp[m] = level
    tiers = TierSettings()
    contact = np.array(
        [0.03, params.contact_gold, params.contact_sunflower, params.contact_diamond, params.contact_private]
    )
    # C1 … C5: share of new maturing money into time deposits, WMPs, the rest into savings bonds
    td_wmp = np.array([[0.55, 0.35], [0.35, 0.57], [0.25, 0.70], [0.2, 0.77], [0.2, 0.8]])
    fallback = int(np.flatnonzero((shelf.asset_class == 1) & (shelf.term == 12))[0])
    return World(
        params=params,
        tiers=tiers,
        timeline=timeline,
        shelf=shelf,
        staff=staff,
        equity=equity,
        gold=gold,
        competitor=comp,
        contact_rate=contact,
        class_cum=np.cumsum(td_wmp, axis=1),
        fallback_product=fallback,
        thresholds=np.asarray(tiers.thresholds(), dtype=np.float64),
    )
