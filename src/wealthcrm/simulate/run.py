"""``simulate_branch``: draw the branch, simulate every block of customers, write the files."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from wealthcrm.simulate.block import BLOCK_SIZE, BlockResult, run_block
from wealthcrm.simulate.names import REGION_CODES, bump_sequence, next_region
from wealthcrm.simulate.params import SimParams, SimulationSummary
from wealthcrm.simulate.products import make_shelf
from wealthcrm.simulate.staff import make_staff
from wealthcrm.simulate.state import World, make_world
from wealthcrm.simulate.tables import branch_tables, rm_truth, schema_for
from wealthcrm.simulate.timeline import last_complete_month, make_timeline, parse_month
from wealthcrm.simulate.writers import DecimalCsv, Sink, contract_sink
from wealthcrm.vocab import TIER_ORDER

Progress = Callable[[str, int, int], None]

BLOCK_FILES = (
    "customers",
    "aum_monthly",
    "positions",
    "transactions",
    "digital_activity",
    "interactions",
    "service_requests",
    "survey_answers",
)
GROUND_TRUTH = "ground_truth.csv"
GROUND_TRUTH_RMS = "ground_truth_rms.csv"


def make_world_for(customers: int, months: int, seed: int, end_month: str, params: SimParams) -> World:
    """The branch-wide draws (staff history, shelf, market path) of a run, from its own seed stream."""
    timeline = make_timeline(end_month, months, params.hidden_months)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    staff = make_staff(customers, timeline, params, rng)
    shelf = make_shelf(timeline, params, rng)
    return make_world(params, timeline, shelf, staff, rng)


def simulate_branch(
    *,
    customers: int,
    months: int,
    seed: int,
    out: Path,
    fmt: Literal["csv", "parquet"] = "csv",
    end_month: str | None = None,
    params: SimParams | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    today: date | None = None,
) -> SimulationSummary:
    """Simulate a branch and write its data-contract files plus the ground truth into ``out``.

    ``end_month`` (``YYYY-MM``) is the last simulated month, by default the last complete month before
    ``today``; it must be before the month ``today`` is in, so no written date lies in the future except
    maturity dates. ``workers`` > 1 simulates blocks in that many processes; the files are the same
    byte for byte whatever the number.

    >>> s = simulate_branch(customers=500, months=12, seed=1, out=tmp, end_month="2026-06")  # doctest: +SKIP
    >>> s.rows["customers"]  # doctest: +SKIP
    500
    """
    started = time.perf_counter()
    params = params or SimParams()
    today = today or date.today()
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if months < 4:
        raise ValueError("months must be at least 4 (the loss horizon is 3 months)")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be csv or parquet, not {fmt!r}")
    if params.hidden_months < 3:
        raise ValueError("hidden_months must be at least 3, the loss horizon")
    end_month = end_month or last_complete_month(today)
    if parse_month(end_month) >= (today.year, today.month):
        raise ValueError(f"end_month {end_month} is not a complete month before {today.isoformat()}")
    out.mkdir(parents=True, exist_ok=True)
    world = make_world_for(customers, months, seed, end_month, params)
    tl = world.timeline
    summary = SimulationSummary(
        customers=customers, months=months, seed=seed, end_month=end_month, fmt=fmt, out=str(out)
    )

    for name, table in branch_tables(world.staff, world.shelf, tl).items():
        sink = contract_sink(out, name, table.schema, fmt)
        sink.write(table)
        sink.close()
        summary.rows[name] = sink.rows

    sinks: dict[str, Sink] = {name: contract_sink(out, name, schema_for(name), fmt) for name in BLOCK_FILES}
    gt_schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("month", pa.string()),
            ("p_loss_3m", pa.float64()),
            ("lost_within_3m", pa.int8()),
        ]
    )
    gt = DecimalCsv(out / GROUND_TRUTH, gt_schema, {"p_loss_3m": 6})
    seen_ids: set[str] = set()
    p_parts: list[npt.NDArray[np.float64]] = []
    y_parts: list[npt.NDArray[np.int8]] = []
    aum_parts: list[npt.NDArray[np.float64]] = []
    at_risk = losses = 0
    tier_counts = np.zeros(len(TIER_ORDER), dtype=np.int64)
    n_blocks = math.ceil(customers / BLOCK_SIZE)
    try:
        for done, res in enumerate(_results(world, seed, customers, workers), start=1):
            customers_table = _unique_national_ids(res.tables["customers"], seen_ids)
            for name in BLOCK_FILES:
                sinks[name].write(customers_table if name == "customers" else res.tables[name])
            gt.write(res.ground_truth)
            p_parts.append(res.p)
            y_parts.append(res.y)
            aum_parts.append(res.last_aum)
            at_risk += res.at_risk
            losses += res.losses
            tier_counts += res.tier_counts
            summary.closed_customers += res.closed
            summary.won_back += res.won_back
            if progress is not None:
                progress("simulate", done, n_blocks)
    finally:
        for sink in sinks.values():
            sink.close()
        gt.close()
    for name in BLOCK_FILES:
        summary.rows[name] = sinks[name].rows
    summary.rows["ground_truth"] = gt.rows
    rms = DecimalCsv(
        out / GROUND_TRUTH_RMS, pa.schema([("staff_id", pa.string()), ("skill", pa.float64())]), {"skill": 4}
    )
    rm_table = rm_truth(world.staff, tl)
    rms.write(rm_table)
    rms.close()
    summary.rows["ground_truth_rms"] = rms.rows

    p = np.concatenate(p_parts)
    y = np.concatenate(y_parts)
    hazard = losses / at_risk if at_risk else 0.0
    summary.annual_loss_rate = round(1.0 - (1.0 - hazard) ** 12, 4)
    summary.oracle_auc = round(roc_auc(p, y), 4)
    summary.mean_p_loss = round(float(p.mean()) if len(p) else 0.0, 4)
    summary.observed_loss_3m = round(float(y.mean()) if len(y) else 0.0, 4)
    active = max(int(tier_counts.sum()), 1)
    summary.tier_mix = {
        t.value: round(int(c) / active, 4) for t, c in zip(TIER_ORDER, tier_counts, strict=True)
    }
    aum = np.sort(np.concatenate(aum_parts))[::-1]
    summary.total_aum = round(float(aum.sum()), 2)
    if len(aum):
        summary.top1_share = round(float(aum[: max(1, len(aum) // 100)].sum() / aum.sum()), 4)
        summary.top10_share = round(float(aum[: max(1, len(aum) // 10)].sum() / aum.sum()), 4)
    summary.rms = rm_table.num_rows
    summary.rms_left = int(
        ((world.staff.leave_month < tl.visible) & (np.array(world.staff.roles) == "rm")).sum()
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _results(world: World, seed: int, customers: int, workers: int) -> Iterator[BlockResult]:
    """Block results in block order; with workers > 1, computed ahead in a bounded process pool."""
    spans = [
        (b, b * BLOCK_SIZE + 1, min(BLOCK_SIZE, customers - b * BLOCK_SIZE))
        for b in range(math.ceil(customers / BLOCK_SIZE))
    ]
    if workers <= 1 or len(spans) == 1:
        for b, first, n in spans:
            yield run_block(world, seed, b, first, n)
        return
    # "spawn": forking a process that has started Arrow's thread pool can deadlock.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future[BlockResult]] = deque()
        queue = iter(spans)
        for b, first, n in queue:
            pending.append(pool.submit(run_block, world, seed, b, first, n))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(run_block, world, seed, *nxt))
            yield result


def _unique_national_ids(table: pa.Table, seen: set[str]) -> pa.Table:
    """Resolve the rare clash of two synthetic IDs (same birth place, date and sequence number)."""
    ids = table.column("national_id").to_pylist()
    changed = False
    limit = 500 * len(REGION_CODES)  # every sequence number of the sex, in every birth place
    for i, nid in enumerate(ids):
        attempts = 0
        while nid in seen:
            attempts += 1
            if attempts > limit:
                raise RuntimeError(f"no free national ID for birth date {nid[6:14]}")
            nid = next_region(nid) if attempts % 500 == 0 else bump_sequence(nid)
            changed = True
        ids[i] = nid
        seen.add(nid)
    if not changed:
        return table
    idx = table.schema.get_field_index("national_id")
    return table.set_column(idx, "national_id", pa.array(ids, pa.string()))


def roc_auc(score: npt.NDArray[np.float64], label: npt.NDArray[np.int8]) -> float:
    """ROC AUC by the rank-sum (Mann–Whitney) formula with tied scores sharing their mean rank."""
    pos = int(label.sum())
    neg = len(label) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0
    ranks = mean_rank[inverse]
    return float((ranks[label == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))
