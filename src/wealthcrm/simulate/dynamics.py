"""One month of the generative model for every row of a :class:`State`, vectorised with numpy.

The same function moves the real customers forward and the oracle's forward paths, so the true loss
probability is a probability under exactly the model that produced the data. The order within a month:
RM handover, contacts, hidden events (complaints, life events), satisfaction, defection / win-back,
closure, money flows (income, markets, maturities, purchases, outflows), balances and the tier rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.products import BOND, DD, FUND, GOLD, INS, MATURING, TD, WMP
from wealthcrm.simulate.products import CUST as CUSTODY
from wealthcrm.simulate.sla import COMPLAINT, DAY, due_time, sla_days
from wealthcrm.simulate.state import (
    ACTIVE,
    CLOSED,
    DEFECTING,
    ENGAGED,
    NOT_YET,
    SLOTS,
    State,
    World,
    rowany,
    rowsum,
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

N_CLASSES = 8


@dataclass
class Month:
    """What happened to each row in one month: the observable layer writes its records from this."""

    live: Bools  # a customer this month (including the closing month)
    new: Bools  # first month as a customer
    tier: npt.NDArray[np.int8]  # effective tier this month
    loss: Bools  # customer loss this month (downgrade below sunflower, or closing at sunflower+)
    h_close: Floats  # closure hazard this month (the oracle integrates it instead of drawing)
    closing: Bools
    flow_day: Ints  # day of month most money moved
    avg: Floats  # (n, 8) month-average daily balance per asset class, rounded to cents
    end: Floats  # (n, 8) month-end balance
    contacts: Ints  # reached contacts
    rm_changed: Bools
    complaint_new: Bools
    complaint_open: Bools  # a complaint was open at some time in the month
    defecting: Bools  # after this month's transitions
    defect_new: Bools
    winback: Bools
    income: Floats
    matured: Bools  # (n, SLOTS) products that matured this month
    early: Bools  # (n, SLOTS) products redeemed early because the customer closed
    proceeds: Floats  # (n, SLOTS) what the matured or redeemed products paid out
    slot_prod: Ints  # (n, SLOTS) the product each slot held at the start of the month
    due: Ints  # (n, SLOTS) the maturity month of that product
    bought_i: Ints  # purchases into slots: row, slot, product, amount
    bought_s: Ints
    bought_p: Ints
    bought_amt: Floats
    hold_buy: Floats  # (n, 3)
    hold_sell: Floats  # (n, 3) redemptions (defection, expenses, closure)
    out_other: Floats  # moved to other banks: defection outflows, rate shopping, closure
    shop: Floats  # part of out_other that chased a competitor's rate
    in_other: Floats  # won-back money returning from other banks
    expense: Floats
    windfall: Floats
    custody_out: Floats


def _buy(
    st: State, mask: Bools, amount: Floats, m: int, w: World, rng: np.random.Generator
) -> tuple[Ints, Ints, Ints, Floats]:
    """Put ``amount`` into the slots of ``mask``: a product class by risk level, then a product on sale."""
    i, s = np.nonzero(mask)
    if len(i) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0)
    r = st.risk[i]
    cls_idx = (rng.random(len(i))[:, None] > w.class_cum[r - 1]).sum(1)
    u = rng.random(len(i))
    prod = np.full(len(i), w.fallback_product, dtype=np.int64)
    key = cls_idx * 8 + r
    month = min(m, w.timeline.visible - 1)  # after the window the shelf stays as it was
    for k in np.unique(key):
        sel = key == k
        on_sale = w.shelf.on_sale(MATURING[int(k) // 8], int(k) % 8, month)
        if len(on_sale):
            prod[sel] = on_sale[(u[sel] * len(on_sale)).astype(np.int64)]
    amt = amount[i, s]
    st.sp[i, s] = prod
    st.sv[i, s] = amt
    st.sm[i, s] = m + w.shelf.term[prod]
    return i, s, prod, amt


def step(st: State, m: int, w: World, rng: np.random.Generator, *, oracle: bool) -> Month:
    """Move every row of ``st`` (in place) through month ``m``."""
    p = w.params
    n = len(st)
    days = int(w.timeline.days[m])
    new = (st.active == NOT_YET) & (st.start == m)
    st.active[new] = ACTIVE
    live = st.active == ACTIVE

    # --- RM handover: a seat's new occupant inherits the book; some customers go to a colleague
    staff = w.staff
    changed = live & ~new & (staff.slot_rm[st.seat, m] != st.rm)
    teams = len(staff.team_ids)
    seats = len(staff.seat_load)
    team = staff.seat_team[st.seat]
    in_team = (seats - team + teams - 1) // teams
    other = team + teams * (rng.random(n) * in_team).astype(np.int64)
    st.seat = np.where(changed & (rng.random(n) < 0.35), other, st.seat)
    st.rm = np.where(live, staff.slot_rm[st.seat, m], st.rm)
    st.rm_recent = np.where(changed, 0, np.minimum(st.rm_recent + 1, 99))
    skill = staff.skill[st.rm]
    load = staff.seat_load[st.seat]

    start_bal = _balances(st, w)
    start_total = rowsum(start_bal)
    tier_now = np.where(st.tier_next >= 0, st.tier_next, w.met(start_total)).astype(np.int64)

    # --- contacts
    maturing = (st.sm == m) & (st.sp >= 0)
    any_mat = rowany(maturing)
    defecting0 = live & (st.phase == DEFECTING)
    lam = w.contact_rate[tier_now] * (0.25 + 0.75 * skill) / np.sqrt(load)
    lam = lam * (1.0 + p.contact_maturity_boost * any_mat + p.contact_defect_boost * defecting0 * skill)
    contacts = np.where(live, rng.poisson(lam), 0)
    reached = contacts > 0
    st.since_contact = np.where(reached, 0, np.minimum(st.since_contact + 1, 99))

    # --- hidden events: complaints (written as the complaint rows of service_requests), life events
    u = rng.random((n, 6))
    m0 = int(w.timeline.start[m].astype("datetime64[s]").astype(np.int64))
    m1 = m0 + days * DAY
    unattended = rowsum(maturing & ~reached[:, None])
    was_open = st.c_res >= m0
    sunflower = tier_now >= 2
    hazard = (
        p.complaint_rate * (1.5 - skill) * np.exp(p.complaint_sat * np.clip(p.sat_mean - st.z, -3.0, 3.0))
    )
    hazard *= (1.0 + p.complaint_maturity * unattended) * (1.0 + p.complaint_rm_change * (st.rm_recent < 3))
    complaint_new = live & ~was_open & (u[:, 0] < hazard)
    ci = np.flatnonzero(complaint_new)
    lo = np.where(new[ci], st.onboard_day[ci], 1)
    day = lo + (rng.random(len(ci)) * (days - lo + 1)).astype(np.int64)
    opened = m0 + (day - 1) * DAY + (8 * 3600 + rng.integers(0, 13 * 3600, len(ci))) // 60 * 60
    hours = (
        p.complaint_resolve_hours
        * (1.5 - skill[ci])
        * np.exp(p.complaint_resolve_sigma * rng.standard_normal(len(ci)))
    )
    hours *= np.where(sunflower[ci], p.complaint_priority_factor, 1.0)
    st.c_open[ci] = opened
    st.c_due[ci] = due_time(opened, sla_days(np.full(len(ci), COMPLAINT), sunflower[ci]))
    st.c_res[ci] = opened + np.maximum(600, (hours * 3600.0).astype(np.int64))
    st.complaint_recent = np.where(complaint_new, 0, np.minimum(st.complaint_recent + 1, 99))
    open_end = st.c_res >= m1  # still unresolved at the end of the month
    breach = (st.c_due >= m0) & (st.c_due < m1) & (st.c_res > st.c_due)  # the SLA passes this month
    expense = live & ~new & (u[:, 2] < p.expense_rate)
    windfall = live & ~new & (u[:, 3] < p.windfall_rate)
    relocate = live & (u[:, 4] < p.relocation_rate)
    st.life_recent = np.where(relocate, 0, np.minimum(st.life_recent + 1, 99))

    # --- satisfaction
    dz = p.sat_reversion * (st.mu - st.z) + p.sat_noise * rng.standard_normal(n)
    dz += p.contact_effect * (skill - 0.35) * np.minimum(contacts, 2)
    dz += np.where((tier_now >= 2) & ~reached, p.neglect_effect, 0.0)
    dz += np.where(complaint_new, p.complaint_effect, 0.0) + np.where(breach, p.complaint_breach_effect, 0.0)
    dz += np.where(open_end, p.complaint_open_effect, 0.0)
    dz += np.where(changed, p.rm_change_effect, 0.0)
    dz += p.maturity_neglect_effect * unattended
    risky = (start_bal[:, FUND] + start_bal[:, CUSTODY]) / np.maximum(start_total, 1.0)
    dz += 3.0 * min(0.0, float(w.equity[m]) + 0.04) * risky  # a market fall hurts fund holders
    st.z = np.where(live, st.z + dz, st.z)
    st.mat_nc = 0.6 * st.mat_nc + unattended

    # --- defection and win-back
    logit = (
        p.defect_base_logit
        + p.defect_sat * st.z
        + p.defect_competitor * float(w.competitor[m]) * st.comp_sens
        + p.defect_matured_no_contact * st.mat_nc
        + p.defect_rm_change * (st.rm_recent < 6)
        + p.defect_complaint * ((st.complaint_recent < 3) | open_end)
        + p.defect_life_event * (st.life_recent < 3)
    )
    engaged = live & (st.phase == ENGAGED)
    defect_new = engaged & ~new & (u[:, 5] < 1.0 / (1.0 + np.exp(-logit)))
    u2 = rng.random((n, 8))
    winback = defecting0 & (u2[:, 0] < p.winback_base + p.winback_contact * skill * reached)
    returned = np.where(
        winback, st.away * (p.winback_return_lo + (p.winback_return_hi - p.winback_return_lo) * u2[:, 1]), 0.0
    )
    st.away = np.where(winback, 0.0, st.away)
    st.z = np.where(winback, np.maximum(st.z, st.mu), st.z)
    st.phase = np.where(defect_new, DEFECTING, np.where(winback, ENGAGED, st.phase)).astype(np.int8)
    st.defect_aum = np.where(defect_new, start_total, st.defect_aum)
    defecting = live & (st.phase == DEFECTING)
    engaged = live & ~defecting
    # A defector paid through the bank redirects the salary to the other bank (代发 moves), so it no
    # longer arrives here; a won-back customer brings it back along with the larger returns.
    st.pay_away = np.where(winback & (u2[:, 1] >= 0.5), False, st.pay_away)
    pay_switch = defecting & st.payroll & ~st.pay_away & (u2[:, 7] < p.payroll_switch)
    st.pay_away = st.pay_away | pay_switch

    # --- closure: drawn for the real path, integrated by the oracle
    drained = start_total < 0.3 * st.defect_aum
    h_close = np.where(
        defecting,
        p.close_defecting + p.close_drained_extra * drained,
        p.close_engaged * np.where(st.life_recent < 3, 20.0, 1.0),
    )
    h_close = np.where(live & ~new, h_close, 0.0)
    closing = np.zeros(n, dtype=np.bool_) if oracle else (u2[:, 2] < h_close)

    # --- markets and accrual
    eq = float(w.equity[m])
    beta = np.where(st.hold_prod[:, 0] >= 0, w.shelf.beta[np.maximum(st.hold_prod[:, 0], 0)], 0.0)
    st.hold[:, 0] *= np.maximum(0.0, 1.0 + beta * eq + 0.015 * rng.standard_normal(n))
    st.hold[:, 1] *= 1.0 + p.insurance_growth_annual / 12.0
    st.hold[:, 2] *= 1.0 + float(w.gold[m])
    st.cust *= np.maximum(0.0, 1.0 + 1.2 * eq + 0.04 * rng.standard_normal(n))
    st.sv *= 1.0 + np.where(st.sp >= 0, w.shelf.rate[np.maximum(st.sp, 0)], 0.0) / 12.0
    st.dd *= 1.0 + p.demand_rate_annual / 12.0

    # --- income (salary or business income; spending is netted out)
    income = np.where(live & ~closing, st.income * np.exp(0.05 * rng.standard_normal(n)), 0.0)
    income = np.where(st.pay_away, 0.0, income)
    st.dd += income * st.save

    # --- maturities and reinvestment
    proceeds = np.where(maturing & live[:, None], st.sv, 0.0)
    matured = maturing & live[:, None]
    slot_prod = st.sp.copy()
    due = st.sm.copy()
    st.dd += rowsum(proceeds)
    st.sv = np.where(matured, 0.0, st.sv)
    st.sm = np.where(matured, -1, st.sm)
    st.sp = np.where(matured, -1, st.sp)
    p_reinvest = np.where(defecting, p.defect_reinvest, 0.55 + 0.35 * reached)
    reinvest = matured & (rng.random((n, SLOTS)) < p_reinvest[:, None]) & ~closing[:, None]
    amount = proceeds * rng.uniform(0.85, 1.0, (n, SLOTS))
    b1 = _buy(st, reinvest, amount, m, w, rng)
    st.dd -= rowsum(np.where(reinvest, amount, 0.0))

    # --- idle cash goes into a free slot (engaged customers only)
    total = st.total()
    target = st.cash_pref * total
    empty = st.sp < 0
    first_empty = np.argmax(empty, axis=1)
    excess = st.dd - target
    alloc = engaged & ~closing & rowany(empty) & (excess > np.maximum(20_000.0, 0.5 * target))
    alloc &= u2[:, 3] < 0.35
    amt = np.zeros((n, SLOTS))
    amt[np.arange(n), first_empty] = np.where(alloc, excess, 0.0)
    b2 = _buy(st, amt > 0, amt, m, w, rng)
    st.dd -= np.where(alloc, excess, 0.0)

    # --- fund top-ups
    hold_buy = np.zeros((n, 3))
    top_up = engaged & ~closing & (st.hold_prod[:, 0] >= 0) & (st.risk >= 2) & (u2[:, 4] < 0.06)
    hold_buy[:, 0] = np.where(top_up, 0.3 * np.maximum(st.dd - target, 0.0), 0.0)
    st.hold += hold_buy
    st.dd -= rowsum(hold_buy)

    # --- money leaving: rate shopping, defection, life events
    shop_p = p.rate_shop_base * np.exp(st.comp_sens * float(w.competitor[m]))
    shop = engaged & ~closing & (u2[:, 5] < shop_p)
    shop_amt = np.where(shop, st.dd * rng.uniform(0.1, p.rate_shop_share_hi, n), 0.0)
    st.dd -= shop_amt
    hold_sell = np.where(defecting[:, None], st.hold * p.defect_redeem, 0.0)
    hold_sell[:, 1] = 0.0  # insurance is not surrendered while defecting, only on closure
    custody_out = np.where(defecting, st.cust * p.defect_redeem, 0.0)
    st.hold -= hold_sell
    st.cust -= custody_out
    st.dd += rowsum(hold_sell)
    phi = p.defect_outflow_lo + (p.defect_outflow_hi - p.defect_outflow_lo) * u2[:, 6]
    out_defect = np.where(defecting, st.dd * phi, 0.0)
    st.dd -= out_defect
    st.away += out_defect + custody_out

    total = st.total()
    liquid = st.dd + st.hold[:, 0] + st.hold[:, 2]
    exp_amt = np.where(expense, np.minimum(rng.uniform(0.25, 0.7, n) * total, liquid), 0.0)
    from_dd = np.minimum(exp_amt, st.dd)
    rest = exp_amt - from_dd
    market = st.hold[:, 0] + st.hold[:, 2]
    frac = np.where(market > 0, rest / np.maximum(market, 1e-9), 0.0)
    sold = st.hold * np.stack([frac, np.zeros(n), frac], axis=1)
    st.hold -= sold
    hold_sell += sold
    st.dd -= from_dd
    wind_amt = np.where(windfall, rng.uniform(0.2, 1.5, n) * np.maximum(total, 50_000.0), 0.0)
    st.dd += wind_amt + returned

    # --- closure: everything goes, positions redeemed early
    close_amt = np.where(closing, st.total() - st.cust, 0.0)  # custody leaves on its own
    hold_sell += np.where(closing[:, None], st.hold, 0.0)
    custody_out += np.where(closing, st.cust, 0.0)
    early = closing[:, None] & (st.sp >= 0)
    proceeds_close = np.where(early, st.sv, 0.0)
    for arr in (st.dd, st.cust):
        arr[closing] = 0.0
    st.hold[closing] = 0.0
    st.sv[closing] = 0.0
    st.active[closing] = CLOSED

    # --- balances, averages and the tier rules
    end_bal = _balances(st, w)
    flow_day = np.where(new, st.onboard_day, rng.integers(1, days + 1, n))
    weight = (days - flow_day + 0.5) / days
    avg = np.round(start_bal + (end_bal - start_bal) * weight[:, None], 2)
    avg = np.where(live[:, None], np.maximum(avg, 0.0), 0.0)
    end_bal = np.where(live[:, None], np.round(end_bal, 2), 0.0)
    met = w.met(rowsum(avg))
    cur = np.where(st.tier_next >= 0, st.tier_next, met).astype(np.int8)
    below = met < cur
    count = np.where(below, st.carried + 1, 0)
    grace = np.where(cur == 4, w.tiers.private_grace_months, w.tiers.grace_months)
    down = below & (count >= grace)
    loss = live & (((st.tier >= 2) & (cur < 2)) | (closing & (cur >= 2)))
    st.tier = np.where(live, cur, st.tier).astype(np.int8)
    st.tier_next = np.where(live, np.where((met > cur) | down, met, cur), st.tier_next).astype(np.int8)
    st.carried = np.where(live, np.where(down, 0, count), st.carried)
    st.sp = np.where(early, -1, st.sp)
    st.sm = np.where(early, -1, st.sm)

    empty_i = np.zeros(0, dtype=np.int64)
    return Month(
        live=live,
        new=new,
        tier=np.where(live, cur, -1).astype(np.int8),
        loss=loss,
        h_close=h_close,
        closing=closing,
        flow_day=flow_day.astype(np.int64),
        avg=avg,
        end=end_bal,
        contacts=contacts.astype(np.int64),
        rm_changed=changed,
        complaint_new=complaint_new,
        complaint_open=live & (was_open | complaint_new),
        defecting=defecting,
        defect_new=defect_new,
        winback=winback,
        income=income,
        matured=matured,
        early=early,
        proceeds=proceeds + proceeds_close,
        slot_prod=slot_prod,
        due=due,
        bought_i=np.concatenate([b1[0], b2[0]]) if not oracle else empty_i,
        bought_s=np.concatenate([b1[1], b2[1]]) if not oracle else empty_i,
        bought_p=np.concatenate([b1[2], b2[2]]) if not oracle else empty_i,
        bought_amt=np.concatenate([b1[3], b2[3]]) if not oracle else np.zeros(0),
        hold_buy=hold_buy,
        hold_sell=hold_sell,
        out_other=out_defect + shop_amt + close_amt,
        shop=shop_amt,
        in_other=returned,
        expense=exp_amt,
        windfall=wind_amt,
        custody_out=custody_out,
    )


def _balances(st: State, w: World) -> Floats:
    """(n, 8) balances per asset class, in ``ASSET_CLASSES`` order."""
    out = np.zeros((len(st), N_CLASSES))
    out[:, DD] = st.dd
    cls = np.where(st.sp >= 0, w.shelf.asset_class[np.maximum(st.sp, 0)], -1)
    for s in range(SLOTS):
        for c in (TD, WMP, BOND):
            out[:, c] += np.where(cls[:, s] == c, st.sv[:, s], 0.0)
    out[:, FUND] = st.hold[:, 0]
    out[:, INS] = st.hold[:, 1]
    out[:, GOLD] = st.hold[:, 2]
    out[:, CUSTODY] = st.cust
    return out
