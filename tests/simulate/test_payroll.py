"""Payroll (代发) in the synthetic branch: defectors redirect their salary to the other bank months
before they leave, job changers stop it without leaving, and the true loss probability knows it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd

from wealthcrm.simulate import SimParams, SimulationSummary
from wealthcrm.simulate.dynamics import step
from wealthcrm.simulate.oracle import p_loss
from wealthcrm.simulate.population import make_block
from wealthcrm.simulate.run import make_world_for
from wealthcrm.simulate.state import ACTIVE, DEFECTING, ENGAGED, State, World

from .conftest import END

Runs = dict[int, tuple[Path, SimulationSummary]]
MONTHS = pd.period_range(end=END, periods=24, freq="M")


def _block(params: SimParams, n: int = 400) -> tuple[World, State]:
    world = make_world_for(n, 12, 7, "2026-06", params)
    st, _, _ = make_block(world, 1, n, np.random.default_rng(0))
    st.start[:] = 0  # everyone a customer from the first month
    st.active[:] = ACTIVE
    return world, st


def test_a_defector_paid_here_redirects_the_salary_and_an_engaged_customer_does_not() -> None:
    world, st = _block(SimParams(payroll_switch=1.0, close_defecting=0.0, close_drained_extra=0.0))
    st.payroll[:] = np.arange(len(st)) % 2 == 0
    st.phase[:] = np.where(np.arange(len(st)) % 4 < 2, DEFECTING, ENGAGED)
    defecting_payroll = (st.phase == DEFECTING) & st.payroll
    mo = step(st, 1, world, np.random.default_rng(1), oracle=False)
    still = defecting_payroll & mo.defecting & mo.live & ~mo.closing  # not won back this month
    assert still.sum() > 50
    assert st.pay_away[still].all()
    assert (mo.income[still] == 0).all()  # the salary no longer arrives here
    others = mo.live & ~mo.closing & ~st.pay_away
    assert (mo.income[others] > 0).all()
    assert not st.pay_away[~st.payroll].any()  # only a salary paid here can move
    assert not st.pay_away[(st.phase == ENGAGED) & ~mo.winback & ~defecting_payroll].any()


def test_won_back_customers_bring_the_salary_back_half_the_time() -> None:
    world, st = _block(SimParams(winback_base=1.0), n=2_000)
    st.payroll[:] = True
    st.phase[:] = DEFECTING
    st.pay_away[:] = True
    mo = step(st, 1, world, np.random.default_rng(2), oracle=False)
    won = mo.winback & ~mo.closing
    assert won.sum() > 1_000
    assert 0.4 < (~st.pay_away[won]).mean() < 0.6
    assert (mo.income[won & ~st.pay_away] > 0).all()


def test_the_oracle_copies_the_payroll_state() -> None:
    """Every State field reaches the forward paths, so p_loss_3m accounts for a redirected salary."""
    assert "pay_away" in {f.name for f in fields(State)}
    world, st = _block(SimParams(payroll_switch=1.0), n=50)
    st.pay_away[:] = np.arange(len(st)) % 2 == 0
    copy = st.take(np.arange(len(st)))
    assert np.array_equal(copy.pay_away, st.pay_away)
    rows = np.arange(len(st))
    p = p_loss(st, rows, 1, world, np.random.default_rng(3), 8)
    assert p.shape == (len(st),)
    assert ((p >= 0) & (p <= 1)).all()


def _payroll_months(folder: Path) -> pd.DataFrame:
    """Customers × months: a payroll credit in the month."""
    t = pd.read_csv(folder / "transactions.csv", usecols=["customer_id", "counterparty_kind", "txn_date"])
    pay = t[t["counterparty_kind"] == "payroll"]
    month = pd.PeriodIndex(pay["txn_date"].str[:7], freq="M")
    return pd.crosstab(pay["customer_id"], month).reindex(columns=MONTHS, fill_value=0) > 0


def _stopped(paid: pd.DataFrame) -> pd.DataFrame:
    """As the payroll_stopped alert: credits in each of the 3 months before some month s within the
    last 3 months, none from s on."""
    m = paid.to_numpy()
    flag = np.zeros_like(m)
    for j in range(3, m.shape[1]):
        for s in range(max(3, j - 2), j + 1):
            flag[:, j] |= m[:, s - 3 : s].all(1) & ~m[:, s : j + 1].any(1)
    return pd.DataFrame(flag, index=paid.index, columns=MONTHS)


def test_payroll_stops_before_closures_and_without_them(runs: Runs) -> None:
    folder = runs[1][0]
    paid = _payroll_months(folder)
    m = paid.to_numpy()
    first_stop = np.array(
        [
            next((j for j in range(3, m.shape[1]) if m[i, j - 3 : j].all() and not m[i, j]), -1)
            for i in range(len(m))
        ]
    )
    customers = pd.read_csv(folder / "customers.csv", usecols=["customer_id", "closed_on"])
    closed = pd.PeriodIndex(
        customers.set_index("customer_id")["closed_on"].reindex(paid.index).str[:7], freq="M"
    )
    closed_idx = np.array([MONTHS.get_loc(c) if not pd.isna(c) else -1 for c in closed])
    stopped = first_stop >= 0
    early = stopped & (closed_idx > first_stop)  # payroll gone at least a month before closing
    assert early.sum() >= 100
    lead = closed_idx[early] - first_stop[early]
    assert np.median(lead) >= 2
    assert (stopped & (closed_idx < 0)).sum() >= 100  # benign stops: the customer stays
    # a job changer's salary keeps coming, now as a transfer from another bank
    t = pd.read_csv(folder / "transactions.csv", usecols=["customer_id", "counterparty_kind", "direction"])
    from_other = set(
        t.loc[(t["counterparty_kind"] == "other_bank") & (t["direction"] == "in"), "customer_id"]
    )
    stayers = paid.index[stopped & (closed_idx < 0)]
    assert np.mean([c in from_other for c in stayers]) > 0.5
    # and some salaries come back (a new employer paying here, or a won-back customer)
    resumed = [m[i, first_stop[i] + 1 :].any() for i in np.flatnonzero(stopped)]
    assert sum(resumed) >= 20


def test_the_true_probability_is_high_and_right_after_a_payroll_stop(runs: Runs) -> None:
    """A stop is a consequence of the hidden defection: p_loss_3m is many times higher on those
    customer-months, and still matches what happened there."""
    parts = []
    for folder, _ in runs.values():
        flag = _stopped(_payroll_months(folder))
        flag.columns = flag.columns.astype(str)
        long = flag.stack().rename("stopped").rename_axis(["customer_id", "month"]).reset_index()
        truth = pd.read_csv(folder / "ground_truth.csv").merge(long, on=["customer_id", "month"], how="left")
        parts.append(truth.assign(stopped=truth["stopped"].astype("boolean").fillna(False).astype(bool)))
    truth = pd.concat(parts, ignore_index=True)
    after, rest = truth[truth["stopped"]], truth[~truth["stopped"]]
    assert len(after) >= 500
    assert after["p_loss_3m"].mean() > 5 * rest["p_loss_3m"].mean()
    assert abs(after["p_loss_3m"].mean() - after["lost_within_3m"].mean()) < 0.05
    assert abs(rest["p_loss_3m"].mean() - rest["lost_within_3m"].mean()) < 0.003
