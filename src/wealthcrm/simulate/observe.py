"""The observable layer: what a bank's systems would record about each month of the real path.

Turns a :class:`~wealthcrm.simulate.dynamics.Month` into rows of the contract files (monthly AUM,
positions, notable transactions, digital activity, interactions). It draws from its own random stream,
so details such as the hour of a call never change the dynamics. Records are kept as numpy columns
with row indices into the block; :mod:`wealthcrm.simulate.tables` turns them into Arrow tables.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.dynamics import Month
from wealthcrm.simulate.names import OCCUPATIONS
from wealthcrm.simulate.population import Book, Demographics
from wealthcrm.simulate.products import HOLDINGS
from wealthcrm.simulate.state import SLOTS, State, World

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Dates = npt.NDArray[np.datetime64]
Columns = dict[str, npt.NDArray[np.generic]]

# Codes for the enum columns (index into these tuples).
TXN_CHANNELS = ("counter", "mobile", "online", "atm", "rm", "batch")
COUNTERPARTIES = ("own_account", "same_bank", "other_bank", "payroll", "merchant", "product", "cash")
CHANNELS = ("phone", "visit", "branch", "video", "wechat", "sms", "email")
PURPOSES = ("service", "review", "retention", "sales", "maturity", "complaint_followup", "care", "other")
OUTCOMES = ("reached", "no_answer", "declined", "interested", "sold", "retained", "lost", "other")
POSITION_STATUS = ("open", "matured", "redeemed")
NOTES = (
    "",
    "客户提到他行理财收益更高",
    "客户对上次服务不满意，已致歉并跟进",
    "到期资金续作沟通",
    "客户近期有购房计划",
)

_CH = {c: i for i, c in enumerate(TXN_CHANNELS)}
_CP = {c: i for i, c in enumerate(COUNTERPARTIES)}


def month_date(first_month: np.datetime64, month: Ints, day: Ints) -> Dates:
    """The date ``day`` of month number ``month`` (any month, also past the window), clipped to its end."""
    ms = first_month + month.astype("timedelta64[M]")
    last = ((ms + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")).astype(
        "datetime64[D]"
    )
    return np.asarray(np.minimum(ms.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]"), last))


def day_of_month(dates: Dates) -> Ints:
    return np.asarray((dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1)


class Recorder:
    """Collects one block's records month by month."""

    def __init__(self, world: World, demo: Demographics, book: Book, rng: np.random.Generator) -> None:
        self.w = world
        self.demo = demo
        self.book = book
        self.rng = rng
        self.first_month = world.timeline.first_day.astype("datetime64[M]")
        self.parts: dict[str, list[Columns]] = defaultdict(list)
        self.open_day = np.ones(len(demo.number), dtype=np.int64)
        # After a job change, the month from which salary credits arrive here again (-1: no change;
        # a month past the end: the new employer pays elsewhere for good).
        self.pay_resume = np.full(len(demo.number), -1, dtype=np.int64)
        self.working = demo.occupation != len(OCCUPATIONS) - 1  # pensions do not change employer

    # ------------------------------------------------------------------------------------------------
    def record(self, mo: Month, st: State, m: int) -> None:
        tl = self.w.timeline
        days = int(tl.days[m])
        self._aum(mo, m)
        close_day = np.where(mo.closing, mo.flow_day, days)
        # Nothing happens to a new customer before the day the relationship began.
        self.open_day = np.where(mo.new, st.onboard_day, 1)
        self._digital(mo, st, m, close_day)
        self._interactions(mo, st, m, close_day)
        self._positions_and_transactions(mo, st, m, close_day)

    def _add(self, name: str, **cols: npt.NDArray[np.generic]) -> None:
        self.parts[name].append(cols)

    def _aum(self, mo: Month, m: int) -> None:
        i, c = np.nonzero(mo.live[:, None] & ((mo.avg > 0) | (mo.end > 0)))
        self._add(
            "aum_monthly",
            row=i,
            month=np.full(len(i), m, dtype=np.int64),
            asset_class=c.astype(np.int64),
            avg_daily_balance=mo.avg[i, c],
            month_end_balance=mo.end[i, c],
        )

    def _digital(self, mo: Month, st: State, m: int, close_day: Ints) -> None:
        p = self.w.params
        rng = self.rng
        n = len(st)
        rate = self.demo.login_base * np.exp(0.35 * np.clip(st.z, -3, 3))
        rate *= np.where(mo.defecting, p.login_defect_factor, 1.0)
        rate *= np.where(mo.closing, close_day / self.w.timeline.days[m], 1.0)
        logins = rng.poisson(rate)
        txns = rng.binomial(2 * logins, 0.3)
        gap = rng.exponential(1.0, n) * close_day / (logins + 1.0)
        day = np.maximum(self.open_day, close_day - gap.astype(np.int64))
        login_on = self.w.timeline.start[m] + (day - 1).astype("timedelta64[D]")
        last = np.where(logins > 0, login_on, self.book.last_login)
        self.book.last_login = np.where(mo.live, last, self.book.last_login)
        i = np.flatnonzero(mo.live)
        self._add(
            "digital_activity",
            row=i,
            month=np.full(len(i), m, dtype=np.int64),
            logins=logins[i],
            digital_txn_count=txns[i],
            last_login_on=self.book.last_login[i],
        )

    def _interactions(self, mo: Month, st: State, m: int, close_day: Ints) -> None:
        rng = self.rng
        attempts = np.where(mo.live, rng.poisson(0.25 * mo.contacts + 0.05 * (mo.tier >= 2)), 0)
        k = mo.contacts + attempts
        row = np.repeat(np.arange(len(st)), k)
        if len(row) == 0:
            return
        nth = np.arange(len(row)) - np.repeat(np.cumsum(k) - k, k)
        reached = nth < mo.contacts[row]
        opened = self.open_day[row]
        day = opened + (rng.random(len(row)) * (close_day[row] - opened + 1)).astype(np.int64)
        seconds = (9 * 3600 + rng.integers(0, 9 * 3600, len(row))) // 60 * 60
        when = (self.w.timeline.start[m] + (day - 1).astype("timedelta64[D]")).astype("datetime64[s]")
        when = when + seconds.astype("timedelta64[s]")
        rich = mo.tier[row] >= 3
        weights = np.array([0.35, 0.08, 0.15, 0.05, 0.30, 0.04, 0.03])
        channel = rng.choice(len(CHANNELS), len(row), p=weights)
        channel = np.where(rich & (rng.random(len(row)) < 0.2), CHANNELS.index("visit"), channel)
        channel = np.where(reached, channel, CHANNELS.index("phone"))
        purpose = rng.choice((0, 1, 3, 6, 7), len(row), p=(0.2, 0.35, 0.25, 0.15, 0.05))
        first = nth == 0
        purpose = np.where(first & mo.matured[row].any(1), PURPOSES.index("maturity"), purpose)
        purpose = np.where(first & mo.complaint_open[row], PURPOSES.index("complaint_followup"), purpose)
        purpose = np.where(reached & mo.defecting[row] & (rng.random(len(row)) < 0.5), 2, purpose)
        purpose = np.where(nth == 0, np.where(mo.winback[row], 2, purpose), purpose)
        outcome = np.where(reached, 0, 1)
        sold = np.zeros(len(st), dtype=np.bool_)
        sold[mo.bought_i] = True
        sales = reached & (purpose == PURPOSES.index("sales"))
        outcome = np.where(sales, np.where(sold[row], 4, np.where(rng.random(len(row)) < 0.4, 3, 2)), outcome)
        retention = reached & (purpose == 2)
        outcome = np.where(retention, np.where(mo.winback[row], 5, 2), outcome)
        outcome = np.where(reached & first & mo.closing[row], 6, outcome)
        note = np.zeros(len(row), dtype=np.int64)
        note = np.where(retention & (rng.random(len(row)) < 0.4), 1, note)
        note = np.where(reached & (purpose == 5), 2, note)
        note = np.where(reached & (purpose == 4) & (rng.random(len(row)) < 0.3), 3, note)
        self._add(
            "interactions",
            row=row,
            month=np.full(len(row), m, dtype=np.int64),
            nth=nth,
            staff=st.rm[row],
            occurred_at=when,
            channel=channel.astype(np.int64),
            purpose=purpose.astype(np.int64),
            outcome=outcome.astype(np.int64),
            note=note,
        )

    # ------------------------------------------------------------------------------------------------
    def _txn(
        self,
        row: Ints,
        m: int,
        day: Ints,
        amount: Floats,
        out: bool | npt.NDArray[np.bool_],
        channel: int | Ints,
        counterparty: int | Ints,
        product: Ints | None = None,
    ) -> None:
        amount = np.round(amount, 2)
        day = np.maximum(day, self.open_day[row])
        keep = amount >= 0.01
        n = int(keep.sum())
        if n == 0:
            return
        self._add(
            "transactions",
            row=row[keep],
            month=np.full(n, m, dtype=np.int64),
            day=np.broadcast_to(day, row.shape)[keep],
            amount=amount[keep],
            out=np.broadcast_to(out, row.shape)[keep],
            channel=np.broadcast_to(channel, row.shape)[keep].astype(np.int64),
            counterparty=np.broadcast_to(counterparty, row.shape)[keep].astype(np.int64),
            product=(np.full(n, -1, dtype=np.int64) if product is None else product[keep]),
        )

    def _positions_and_transactions(self, mo: Month, st: State, m: int, close_day: Ints) -> None:
        rng = self.rng
        book = self.book
        n = len(st)
        days = int(self.w.timeline.days[m])
        flow = np.minimum(mo.flow_day, close_day)

        live = np.flatnonzero(mo.live)
        here = self._payroll_here(mo, st, m)
        pay = live[here[live] & (mo.income[live] > 0)]
        self._txn(pay, m, rng.integers(10, 16, len(pay)), mo.income[pay], False, _CH["batch"], _CP["payroll"])
        moved = live[st.payroll[live] & ~here[live] & (mo.income[live] > 0)]
        day = rng.integers(10, 19, len(moved))
        self._txn(moved, m, day, mo.income[moved], False, _CH["online"], _CP["other_bank"])
        biz = live[~st.payroll[live] & (mo.income[live] >= 10_000)]
        cp = np.where(rng.random(len(biz)) < 0.6, _CP["other_bank"], _CP["same_bank"])
        self._txn(biz, m, rng.integers(1, days + 1, len(biz)), mo.income[biz], False, _CH["online"], cp)
        new = np.flatnonzero(mo.new)
        self._txn(new, m, flow[new], mo.end[new].sum(1), False, _CH["counter"], _CP["other_bank"])

        # Matured and early-redeemed slot positions: close the record, pay the proceeds in.
        done = mo.matured | mo.early
        i, s = np.nonzero(done & (book.slot_pid >= 0))
        prod = mo.slot_prod[i, s]
        opened = book.slot_open[i, s]
        early = mo.early[i, s]
        maturity = month_date(self.first_month, mo.due[i, s], day_of_month(opened))
        flow_date = self.w.timeline.start[m] + (flow[i] - 1).astype("timedelta64[D]")
        closed_on = np.where(early, flow_date, maturity)
        self._add(
            "positions",
            pid=book.slot_pid[i, s],
            row=i,
            product=prod,
            opened_on=opened,
            maturity_on=maturity,
            principal=book.slot_prin[i, s],
            market_value=np.zeros(len(i)),
            status=np.where(early, 2, 1).astype(np.int64),
            closed_on=closed_on,
        )
        self._txn(i, m, day_of_month(closed_on), mo.proceeds[i, s], False, _CH["batch"], _CP["product"], prod)
        book.slot_pid[i, s] = -1

        # Purchases into slots: a reinvestment opens a few days after the maturity, else on the flow day.
        bi, bs, bp, amt = mo.bought_i, mo.bought_s, mo.bought_p, mo.bought_amt
        reinvested = np.zeros((n, SLOTS), dtype=np.bool_)
        reinvested[mo.matured] = True
        mat_day = np.full((n, SLOTS), 1, dtype=np.int64)
        mat_day[i, s] = day_of_month(closed_on)
        day = np.where(
            reinvested[bi, bs], np.minimum(mat_day[bi, bs] + rng.integers(0, 4, len(bi)), days), flow[bi]
        )
        book.slot_pid[bi, bs] = book.next_seq[bi] + _occurrence(bi)  # two buys in a month: two ids
        np.add.at(book.next_seq, bi, 1)
        book.slot_open[bi, bs] = self.w.timeline.start[m] + (day - 1).astype("timedelta64[D]")
        book.slot_prin[bi, bs] = amt
        ch = rng.choice((_CH["mobile"], _CH["counter"], _CH["rm"]), len(bi), p=(0.5, 0.3, 0.2))
        self._txn(bi, m, day, amt, True, ch, _CP["product"], bp)

        # Fund / insurance / gold holdings: buys, redemptions, positions opened and closed.
        for k, _cls in enumerate(HOLDINGS):
            prod_k = st.hold_prod[:, k]
            buy = np.flatnonzero(mo.hold_buy[:, k] >= 0.01)
            opening = buy[book.hold_pid[buy, k] < 0]
            book.hold_pid[opening, k] = book.next_seq[opening]
            book.next_seq[opening] += 1
            book.hold_open[opening, k] = self.w.timeline.start[m] + (flow[opening] - 1).astype(
                "timedelta64[D]"
            )
            book.hold_prin[opening, k] = 0.0
            book.hold_prin[buy, k] += mo.hold_buy[buy, k]
            self._txn(
                buy, m, flow[buy], mo.hold_buy[buy, k], True, _CH["mobile"], _CP["product"], prod_k[buy]
            )
            sell = np.flatnonzero((mo.hold_sell[:, k] >= 0.01) & (book.hold_pid[:, k] >= 0))
            self._txn(
                sell, m, flow[sell], mo.hold_sell[sell, k], False, _CH["mobile"], _CP["product"], prod_k[sell]
            )
            remaining = st.hold[sell, k]
            book.hold_prin[sell, k] *= remaining / np.maximum(remaining + mo.hold_sell[sell, k], 1e-9)
            gone = sell[remaining < 0.01]
            closed_on = self.w.timeline.start[m] + (flow[gone] - 1).astype("timedelta64[D]")
            self._add(
                "positions",
                pid=book.hold_pid[gone, k],
                row=gone,
                product=prod_k[gone],
                opened_on=book.hold_open[gone, k],
                maturity_on=np.full(len(gone), np.datetime64("NaT"), dtype="datetime64[D]"),
                principal=book.hold_prin[gone, k],
                market_value=np.zeros(len(gone)),
                status=np.full(len(gone), 2, dtype=np.int64),
                closed_on=closed_on,
            )
            book.hold_pid[gone, k] = -1

        # Money to and from other banks: defection outflows in one to three transfers.
        out = np.flatnonzero(mo.out_other - mo.shop >= 0.01)
        parts = 1 + rng.binomial(2, 0.5, len(out))
        row = np.repeat(out, parts)
        share = rng.gamma(2.0, 1.0, len(row))
        total_share = np.add.reduceat(share, np.cumsum(parts) - parts) if len(row) else share
        share /= np.repeat(total_share, parts)
        amount = np.repeat(mo.out_other[out] - mo.shop[out], parts) * share
        day = np.clip(
            np.repeat(flow[out], parts) + rng.integers(-6, 7, len(row)), 1, np.repeat(close_day[out], parts)
        )
        ch = np.where(rng.random(len(row)) < 0.7, _CH["mobile"], _CH["counter"])
        self._txn(row, m, day, amount, True, ch, _CP["other_bank"])
        shop = np.flatnonzero(mo.shop >= 0.01)
        self._txn(shop, m, flow[shop], mo.shop[shop], True, _CH["mobile"], _CP["other_bank"])
        cust = np.flatnonzero(mo.custody_out >= 0.01)
        self._txn(cust, m, flow[cust], mo.custody_out[cust], True, _CH["online"], _CP["other_bank"])
        back = np.flatnonzero(mo.in_other >= 0.01)
        self._txn(back, m, flow[back], mo.in_other[back], False, _CH["counter"], _CP["other_bank"])
        exp = np.flatnonzero(mo.expense >= 0.01)
        cp = np.where(rng.random(len(exp)) < 0.7, _CP["other_bank"], _CP["merchant"])
        self._txn(exp, m, flow[exp], mo.expense[exp], True, _CH["counter"], cp)
        wind = np.flatnonzero(mo.windfall >= 0.01)
        cp = np.where(rng.random(len(wind)) < 0.6, _CP["other_bank"], _CP["same_bank"])
        self._txn(wind, m, flow[wind], mo.windfall[wind], False, _CH["counter"], cp)

    def _payroll_here(self, mo: Month, st: State, m: int) -> npt.NDArray[np.bool_]:
        """Who is paid through the bank this month after this month's job changes (benign: the
        dynamics do not know about them, the salary now comes in as a transfer from another bank)."""
        p = self.w.params
        n = len(st)
        u = self.rng.random((n, 2))
        gap = self.rng.integers(1, 4, n)
        settled = self.pay_resume <= m
        change = mo.live & ~mo.new & st.payroll & self.working & settled & (u[:, 0] < p.payroll_job_change)
        never = np.iinfo(np.int64).max
        self.pay_resume = np.where(
            change, np.where(u[:, 1] < p.payroll_rehire, m + gap, never), self.pay_resume
        )
        return np.asarray(st.payroll & (self.pay_resume <= m))

    # ------------------------------------------------------------------------------------------------
    def snapshot_open_positions(self, st: State) -> None:
        """Positions still open at the end of the last visible month."""
        book = self.book
        i, s = np.nonzero((book.slot_pid >= 0) & (st.sp >= 0))
        opened = book.slot_open[i, s]
        self._add(
            "positions",
            pid=book.slot_pid[i, s],
            row=i,
            product=st.sp[i, s],
            opened_on=opened,
            maturity_on=month_date(self.first_month, st.sm[i, s], day_of_month(opened)),
            principal=book.slot_prin[i, s],
            market_value=np.round(st.sv[i, s], 2),
            status=np.zeros(len(i), dtype=np.int64),
            closed_on=np.full(len(i), np.datetime64("NaT"), dtype="datetime64[D]"),
        )
        i, k = np.nonzero((book.hold_pid >= 0) & (st.hold >= 0.01))
        self._add(
            "positions",
            pid=book.hold_pid[i, k],
            row=i,
            product=st.hold_prod[i, k],
            opened_on=book.hold_open[i, k],
            maturity_on=np.full(len(i), np.datetime64("NaT"), dtype="datetime64[D]"),
            principal=book.hold_prin[i, k],
            market_value=np.round(st.hold[i, k], 2),
            status=np.zeros(len(i), dtype=np.int64),
            closed_on=np.full(len(i), np.datetime64("NaT"), dtype="datetime64[D]"),
        )


def _occurrence(values: Ints) -> Ints:
    """For each element, how many equal elements come before it (0 for the first)."""
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    starts = np.r_[True, sorted_vals[1:] != sorted_vals[:-1]] if len(values) else np.zeros(0, dtype=bool)
    idx = np.arange(len(values))
    first = np.maximum.accumulate(np.where(starts, idx, 0)) if len(values) else idx
    out = np.empty(len(values), dtype=np.int64)
    out[order] = idx - first
    return out
