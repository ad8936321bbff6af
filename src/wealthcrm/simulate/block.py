"""Simulating one block of customers from its first month to the last hidden month.

A block is the unit of randomness: block ``b`` draws from ``SeedSequence(seed, spawn_key=(1, b))``
whatever else runs, so the output does not depend on how many blocks run at once or where.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from wealthcrm.config import ChurnSettings
from wealthcrm.simulate.dynamics import step
from wealthcrm.simulate.observe import Recorder
from wealthcrm.simulate.oracle import HORIZON, p_loss
from wealthcrm.simulate.population import make_block
from wealthcrm.simulate.service import ServiceRecorder, service_requests_table, survey_answers_table
from wealthcrm.simulate.state import World, rowsum
from wealthcrm.simulate.tables import BlockTables
from wealthcrm.tiers.matrix import customer_loss_matrix, tier_matrix

#: Customers per block. Fixed, because it is the unit of randomness: changing it changes the data.
BLOCK_SIZE = 8192

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass
class BlockResult:
    index: int
    tables: dict[str, pa.Table]  # the per-customer contract files (run.BLOCK_FILES)
    ground_truth: pa.Table
    p: Floats  # p_loss_3m of the ground-truth rows
    y: npt.NDArray[np.int8]  # lost_within_3m
    at_risk: int  # sunflower+ customer-months with a following visible month
    losses: int  # customer-loss events in visible months 1..
    tier_counts: Ints  # active customers per tier code in the last visible month
    last_aum: Floats  # month-average AUM of active customers in the last visible month
    closed: int
    won_back: int


def block_seed(seed: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(1, index))


def run_block(world: World, seed: int, index: int, first_number: int, n: int) -> BlockResult:
    dyn, obs, mc, srv = (np.random.default_rng(s) for s in block_seed(seed, index).spawn(4))
    tl = world.timeline
    st, demo, book = make_block(world, first_number, n, dyn)
    rec = Recorder(world, demo, book, obs)
    service = ServiceRecorder(world, demo, srv)
    total = np.full((n, tl.total), np.nan)
    inc_tier = np.full((n, tl.total), -1, dtype=np.int8)
    closed_month = np.full(n, -1, dtype=np.int64)
    close_day = np.ones(n, dtype=np.int64)
    gt_row: list[Ints] = []
    gt_month: list[Ints] = []
    gt_p: list[Floats] = []
    rm_end = st.rm.copy()
    for m in range(tl.total):
        mo = step(st, m, world, dyn, oracle=False)
        total[mo.live, m] = rowsum(mo.avg)[mo.live]  # as dynamics.step sums it
        inc_tier[:, m] = mo.tier
        closed_month[mo.closing] = m
        close_day[mo.closing] = mo.flow_day[mo.closing]
        if m >= tl.visible:
            continue
        rec.record(mo, st, m)
        service.record(mo, st, m)
        rows = np.flatnonzero(mo.live & (mo.tier >= 2) & ~mo.closing)
        gt_row.append(rows)
        gt_month.append(np.full(len(rows), m, dtype=np.int64))
        gt_p.append(p_loss(st, rows, m, world, mc, world.params.oracle_paths))
        if m == tl.visible - 1:
            rec.snapshot_open_positions(st)
            rm_end = st.rm.copy()

    # The tier engine on the AUM a reader of the files would sum, plus the hidden months; the
    # simulator's own running tiers must agree with it (they drive contact cadence and the oracle).
    tiers = tier_matrix(total, world.tiers)
    live = inc_tier >= 0
    if not np.array_equal(tiers.tier[live], inc_tier[live]):
        raise RuntimeError("simulator tiers disagree with wealthcrm.tiers.matrix: a bug in dynamics.step")
    loss = customer_loss_matrix(tiers.tier, closed_month, ChurnSettings())
    row = np.concatenate(gt_row)
    month = np.concatenate(gt_month)
    p = np.round(np.concatenate(gt_p), 6).astype(np.float64)
    future = np.zeros((n, tl.total + HORIZON), dtype=np.bool_)
    future[:, : tl.total] = loss
    ahead = np.cumsum(future, axis=1)
    y = np.asarray(ahead[row, month + HORIZON] - ahead[row, month] > 0).astype(np.int8)

    vis = tl.visible
    at_risk = int((month < vis - 1).sum())
    losses = int(loss[:, 1:vis].sum())
    last = vis - 1
    active_end = live[:, last] & (closed_month != last)
    tier_counts = np.bincount(inc_tier[active_end, last].astype(np.int64), minlength=5)
    lost_at = np.where(loss[:, :vis].any(1), np.argmax(loss[:, :vis], axis=1), vis)
    later_high = (inc_tier[:, :vis] >= 2) & (np.arange(vis)[None, :] > lost_at[:, None])
    won_back = int(later_high.any(1).sum())

    builder = BlockTables(demo, tl, world.shelf, world.staff)
    parts = rec.parts
    tables = {
        "customers": builder.customers(rm_end, st.risk, closed_month, close_day, demo.national_id),
        "aum_monthly": builder.aum_monthly(parts["aum_monthly"]),
        "positions": builder.positions(parts["positions"]),
        "transactions": builder.transactions(parts["transactions"]),
        "digital_activity": builder.digital_activity(parts["digital_activity"]),
        "interactions": builder.interactions(parts["interactions"]),
        "service_requests": service_requests_table(
            builder, service.parts["service_requests"], builder.staff_ids
        ),
        "survey_answers": survey_answers_table(builder, service.parts["survey_answers"]),
    }
    ground_truth = pa.table(
        {
            "customer_id": builder.cids.take(pa.array(row)),
            "month": builder.months.take(pa.array(month)),
            "p_loss_3m": pa.array(p),
            "lost_within_3m": pa.array(y),
        }
    )
    return BlockResult(
        index=index,
        tables=tables,
        ground_truth=ground_truth,
        p=p,
        y=y,
        at_risk=at_risk,
        losses=losses,
        tier_counts=tier_counts,
        last_aum=total[active_end, last],
        closed=int(((closed_month >= 0) & (closed_month < vis)).sum()),
        won_back=won_back,
    )
