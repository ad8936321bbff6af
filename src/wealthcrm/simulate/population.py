"""Drawing one block of customers: demographics, hidden traits, starting balances and positions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.names import DISTRICTS, OCCUPATIONS, mobiles, national_ids, person_names
from wealthcrm.simulate.products import FUND, GOLD, INS, MATURING
from wealthcrm.simulate.state import ACTIVE, DEFECTING, ENGAGED, NOT_YET, SLOTS, State, World

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Dates = npt.NDArray[np.datetime64]

# Starting allocation by risk level C1..C5 (rows): demand, maturing, fund, insurance, gold, custody.
_ALLOCATION = np.array(
    [
        [0.30, 0.62, 0.00, 0.08, 0.00, 0.00],
        [0.22, 0.58, 0.08, 0.10, 0.00, 0.00],
        [0.15, 0.45, 0.20, 0.10, 0.04, 0.06],
        [0.12, 0.35, 0.30, 0.08, 0.05, 0.10],
        [0.10, 0.25, 0.35, 0.06, 0.06, 0.18],
    ]
)
_HOLD_CHANCE = np.array([1.0, 1.0, 0.8, 0.35, 0.3, 0.35])
_RISK_YOUNG = np.cumsum([0.08, 0.27, 0.37, 0.20, 0.08])
_RISK_OLD = np.cumsum([0.20, 0.40, 0.30, 0.08, 0.02])
_CASH_PREF = np.array([0.30, 0.22, 0.15, 0.12, 0.10])


@dataclass
class Demographics:
    """What the customers file says about each customer of the block (plus the login habit)."""

    number: Ints  # global customer number (1-based)
    names: list[str]
    female: npt.NDArray[np.bool_]
    birth: Dates
    occupation: Ints
    district: Ints
    onboarded_on: Dates
    assessed_on: Dates
    consent: npt.NDArray[np.bool_]  # (n, 3) marketing, sms, phone
    national_id: list[str]
    mobile: list[str]
    login_base: Floats


@dataclass
class Book:
    """Position bookkeeping of the real path (the oracle does not need it): ids, dates, principal."""

    slot_pid: Ints  # (n, SLOTS) position sequence number, -1 none
    slot_open: Dates  # (n, SLOTS)
    slot_prin: Floats
    hold_pid: Ints  # (n, 3)
    hold_open: Dates
    hold_prin: Floats
    next_seq: Ints
    last_login: Dates  # last login so far (NaT never)


def _wealth(rng: np.random.Generator, n: int, world: World, shift: Floats) -> Floats:
    """Heavy-tailed AUM: a lognormal truncated below at the floor, with a Pareto tail mixed in."""
    p = world.params
    w = np.exp(np.log(p.wealth_median) + shift + p.wealth_sigma * rng.standard_normal(n))
    low = w < p.wealth_floor
    while low.any():  # rejection keeps the lognormal shape above the floor
        w[low] = np.exp(
            np.log(p.wealth_median) + shift[low] + p.wealth_sigma * rng.standard_normal(low.sum())
        )
        low = w < p.wealth_floor
    tail = rng.random(n) < p.tail_share
    pareto = p.tail_min * (1.0 - rng.random(n)) ** (-1.0 / p.tail_alpha)
    return np.where(tail, np.minimum(pareto, 3e8), w)


def make_block(
    world: World, first_number: int, n: int, rng: np.random.Generator
) -> tuple[State, Demographics, Book]:
    p = world.params
    tl = world.timeline
    shelf = world.shelf
    window_start = tl.first_day

    female = rng.random(n) < 0.52
    age = rng.normal(47.0, 13.0, n)
    outside = (age < 22.0) | (age > 85.0)
    while outside.any():  # resample, not clip: clipping would give thousands the same birthday
        age[outside] = rng.normal(47.0, 13.0, int(outside.sum()))
        outside = (age < 22.0) | (age > 85.0)
    birth = window_start - (age * 365.25).astype(np.int64).astype("timedelta64[D]")
    occ_share = np.array([o[1] for o in OCCUPATIONS])
    occupation = rng.choice(len(OCCUPATIONS), n, p=occ_share / occ_share.sum())
    # Retirement follows age: everyone over 62 is retired, nobody under 50 is.
    retired = len(OCCUPATIONS) - 1
    working = rng.choice(retired, n, p=occ_share[:retired] / occ_share[:retired].sum())
    occupation = np.where(
        age > 62, retired, np.where((occupation == retired) & (age < 50), working, occupation)
    )
    district = rng.choice(len(DISTRICTS), n)

    new = rng.random(n) < p.new_customer_share
    start = np.where(new, rng.integers(1, max(2, tl.visible), n), 0).astype(np.int64)
    start = np.minimum(start, tl.visible - 1)
    new &= start > 0
    onboard_day = rng.integers(1, 29, n)
    years_before = rng.uniform(0.3, 20.0, n)
    years_before = np.minimum(years_before, age - 20.0)
    onboarded = window_start - (years_before * 365.25).astype(np.int64).astype("timedelta64[D]")
    new_day = tl.start[start] + (onboard_day - 1).astype("timedelta64[D]")
    onboarded = np.where(new, new_day, onboarded)

    wealth = _wealth(rng, n, world, 0.012 * (age - 47.0) + np.where(new, -0.3, 0.0))
    risk_u = rng.random(n)
    risk = 1 + np.where(
        age > 60, (risk_u[:, None] > _RISK_OLD).sum(1), (risk_u[:, None] > _RISK_YOUNG).sum(1)
    )
    risk = np.minimum(risk, 5).astype(np.int64)
    mult = np.array([o[2] for o in OCCUPATIONS])[occupation]
    income = p.income_median * mult * np.exp(p.income_sigma * rng.standard_normal(n))
    income *= (wealth / 150_000.0) ** p.income_wealth_elasticity
    payroll = rng.random(n) < np.array([o[3] for o in OCCUPATIONS])[occupation]
    save = rng.beta(2.0, 6.0, n) * p.save_rate_mean / 0.25

    # Starting allocation: the risk level's mix, jittered, over the classes the customer holds.
    shares = _ALLOCATION[risk - 1] * rng.lognormal(0.0, 0.4, (n, 6))
    held = rng.random((n, 6)) < _HOLD_CHANCE
    held[:, 0] = True
    shares = np.where(held, shares, 0.0)
    shares /= shares.sum(1, keepdims=True)
    amounts = shares * wealth[:, None]

    hold_prod = np.full((n, 3), -1, dtype=np.int64)
    for k, cls in enumerate((FUND, INS, GOLD)):
        for r in range(1, 6):
            legacy = shelf.legacy(cls, r)
            sel = risk == r
            if len(legacy):
                hold_prod[sel, k] = legacy[rng.integers(0, len(legacy), int(sel.sum()))]
    hold = amounts[:, [2, 3, 4]].copy()
    hold = np.where(hold_prod >= 0, hold, 0.0)
    dd = amounts[:, 0] + (amounts[:, [2, 3, 4]] - hold).sum(1)  # nothing suitable to hold: cash

    # Maturity slots: 1-4 running products; a pre-window product matures somewhere in its term.
    k_slots = 1 + rng.binomial(SLOTS - 1, np.clip(0.25 + 0.12 * np.log10(wealth / 1e5), 0.1, 0.9))
    split = rng.gamma(1.0, 1.0, (n, SLOTS)) * (np.arange(SLOTS)[None, :] < k_slots[:, None])
    split /= split.sum(1, keepdims=True)
    sv = split * amounts[:, 1:2]
    cls_u = rng.random((n, SLOTS))
    cls_idx = (cls_u[..., None] > world.class_cum[risk - 1][:, None, :]).sum(2)
    prod_u = rng.random((n, SLOTS))
    sp = np.full((n, SLOTS), -1, dtype=np.int64)
    for c_i, cls in enumerate(MATURING):
        for r in range(1, 6):
            legacy = shelf.legacy(cls, r)
            sel = (cls_idx == c_i) & (risk == r)[:, None]
            sp[sel] = legacy[(prod_u[sel] * len(legacy)).astype(np.int64)]
    sp = np.where(sv > 0, sp, -1)
    term = np.where(sp >= 0, shelf.term[np.maximum(sp, 0)], 1)
    remaining = (rng.random((n, SLOTS)) * term).astype(np.int64)  # months until maturity
    opened_month = np.where(new[:, None], start[:, None], remaining - term)
    sm = np.where(sp >= 0, opened_month + term, -1)
    open_day = np.where(new[:, None], onboard_day[:, None], rng.integers(1, 29, (n, SLOTS)))
    elapsed = np.maximum(0, -opened_month)
    rate = shelf.rate[np.maximum(sp, 0)]
    prin = np.where(sp >= 0, sv / (1.0 + rate / 12.0 * elapsed), 0.0)

    first_m = window_start.astype("datetime64[M]")
    slot_open = (first_m + opened_month.astype("timedelta64[M]")).astype("datetime64[D]") + (
        open_day - 1
    ).astype("timedelta64[D]")
    hold_back = rng.integers(1, 60, (n, 3))
    hold_open = np.where(
        new[:, None],
        onboarded[:, None],
        (first_m - hold_back.astype("timedelta64[M]")).astype("datetime64[D]")
        + rng.integers(0, 28, (n, 3)).astype("timedelta64[D]"),
    )
    hold_open = np.maximum(hold_open, onboarded[:, None])
    slot_open = np.where(sp >= 0, np.maximum(slot_open, onboarded[:, None]), slot_open)
    hold_prin = hold * rng.uniform(0.85, 1.15, (n, 3))
    seq = np.cumsum(np.concatenate([sp >= 0, hold > 0], axis=1), axis=1) - 1
    slot_pid = np.where(sp >= 0, seq[:, :SLOTS], -1)
    hold_pid = np.where(hold > 0, seq[:, SLOTS:], -1)
    next_seq = seq[:, -1] + 1

    mu = rng.normal(p.sat_mean, p.sat_sd, n)
    defecting = (rng.random(n) < 0.02) & ~new
    seat_cum = np.cumsum(world.staff.seat_load)
    seat = np.searchsorted(seat_cum, rng.random(n) * seat_cum[-1], side="right")
    seat = np.minimum(seat, len(seat_cum) - 1).astype(np.int64)

    state = State(
        mu=mu,
        income=income,
        save=save,
        payroll=payroll,
        risk=risk,
        comp_sens=rng.lognormal(0.0, 0.5, n),
        cash_pref=_CASH_PREF[risk - 1] * rng.uniform(0.6, 1.4, n),
        start=start,
        onboard_day=onboard_day.astype(np.int64),
        hold_prod=hold_prod,
        active=np.where(new, NOT_YET, ACTIVE).astype(np.int8),
        z=mu + rng.normal(0.0, 0.3, n),
        phase=np.where(defecting, DEFECTING, ENGAGED).astype(np.int8),
        away=np.zeros(n),
        defect_aum=np.where(defecting, wealth, 0.0),
        pay_away=np.zeros(n, dtype=np.bool_),
        dd=dd,
        hold=hold,
        cust=amounts[:, 5].copy(),
        sv=np.where(sp >= 0, sv, 0.0),
        sm=sm.astype(np.int64),
        sp=sp,
        seat=seat,
        rm=world.staff.slot_rm[seat, start].astype(np.int64),
        rm_recent=np.full(n, 24, dtype=np.int64),
        since_contact=np.zeros(n, dtype=np.int64),
        complaint_recent=np.full(n, 99, dtype=np.int64),
        c_open=np.full(n, -1, dtype=np.int64),
        c_due=np.full(n, -1, dtype=np.int64),
        c_res=np.full(n, -1, dtype=np.int64),
        mat_nc=np.zeros(n),
        life_recent=np.full(n, 99, dtype=np.int64),
        tier=np.full(n, -1, dtype=np.int8),
        tier_next=np.full(n, -1, dtype=np.int8),
        carried=np.zeros(n, dtype=np.int64),
    )

    # Risk assessments: most within the last year, some expired (older than 12 months).
    end = tl.last_visible_day
    expired = rng.random(n) < p.assessment_expired_share
    back = np.where(expired, rng.integers(370, 1100, n), rng.integers(0, 360, n))
    assessed = np.maximum(end - back.astype("timedelta64[D]"), onboarded)
    login_base = np.exp(np.log(p.login_median) + p.login_sigma * rng.standard_normal(n))
    login_base *= np.where(age > 65, 0.4, 1.0)
    demo = Demographics(
        number=np.arange(first_number, first_number + n, dtype=np.int64),
        names=person_names(rng, n, female),
        female=female,
        birth=birth,
        occupation=occupation.astype(np.int64),
        district=district.astype(np.int64),
        onboarded_on=onboarded,
        assessed_on=assessed,
        consent=rng.random((n, 3)) < np.array([0.55, 0.75, 0.65]),
        national_id=national_ids(rng, birth, female),
        mobile=mobiles(rng, n),
        login_base=login_base,
    )
    book = Book(
        slot_pid=slot_pid.astype(np.int64),
        slot_open=slot_open,
        slot_prin=prin,
        hold_pid=hold_pid.astype(np.int64),
        hold_open=hold_open,
        hold_prin=np.where(hold > 0, hold_prin, 0.0),
        next_seq=next_seq.astype(np.int64),
        last_login=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
    )
    return state, demo, book
