"""Arrow tables in the exact column order of the data contract, built from the simulator's arrays.

Strings (IDs, months, enum values) are made with Arrow kernels from small dictionaries (``take``), never
one Python string per row, which is what keeps a million-customer run within minutes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wealthcrm.ingest.contract import BY_NAME
from wealthcrm.simulate.names import DISTRICTS, OCCUPATIONS
from wealthcrm.simulate.observe import (
    CHANNELS,
    COUNTERPARTIES,
    NOTES,
    OUTCOMES,
    POSITION_STATUS,
    PURPOSES,
    TXN_CHANNELS,
    Columns,
)
from wealthcrm.simulate.population import Demographics
from wealthcrm.simulate.products import ASSET_CLASSES, Shelf
from wealthcrm.simulate.staff import BRANCH_CITY, BRANCH_ID, BRANCH_NAME, Staff
from wealthcrm.simulate.timeline import Timeline

Ints = npt.NDArray[np.int64]
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")


def _take(values: tuple[str, ...] | list[str] | pa.Array, idx: npt.ArrayLike) -> pa.Array:
    dictionary = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return dictionary.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _dates(values: npt.NDArray[Any]) -> pa.Array:
    return pa.array(values.astype("datetime64[D]"), pa.date32())


_ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "money": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "bool": pa.bool_(),
}


def schema_for(name: str) -> pa.Schema:
    """The Arrow schema of a contract file: text for strings, enums and months, native types else."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES.get(c.type, pa.string())) for c in BY_NAME[name].columns])


def _table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    names = BY_NAME[name].column_names
    if tuple(columns) != names:  # a programming error, never a data error
        raise AssertionError(f"{name}: {tuple(columns)} != {names}")
    return pa.table(columns).cast(schema_for(name))


def _concat(parts: list[Columns], key: str) -> npt.NDArray[np.generic]:
    return np.concatenate([p[key] for p in parts])


def _joined(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _padded(values: npt.ArrayLike, width: int) -> pa.Array:
    return pc.utf8_lpad(
        pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), width=width, padding="0"
    )


def branch_tables(staff: Staff, shelf: Shelf, timeline: Timeline) -> dict[str, pa.Table]:
    """Branches, teams, staff (as at the end of the window) and products."""
    vis = timeline.visible
    hired = np.flatnonzero(staff.join_month < vis)
    left = staff.leave_month[hired] < vis
    team = staff.team[hired]
    team_ids = pa.array([staff.team_ids[t] if t >= 0 else None for t in team], pa.string())
    left_on = np.where(left, staff.left_on[hired], np.datetime64("NaT"))
    return {
        "branches": _table(
            "branches",
            {
                "branch_id": pa.array([BRANCH_ID]),
                "name": pa.array([BRANCH_NAME]),
                "city": pa.array([BRANCH_CITY]),
            },
        ),
        "teams": _table(
            "teams",
            {
                "team_id": pa.array(staff.team_ids),
                "branch_id": pa.array([BRANCH_ID] * len(staff.team_ids)),
                "name": pa.array(staff.team_names),
            },
        ),
        "staff": _table(
            "staff",
            {
                "staff_id": pa.array([staff.ids[i] for i in hired]),
                "branch_id": pa.array([BRANCH_ID] * len(hired)),
                "team_id": team_ids,
                "name": pa.array([staff.names[i] for i in hired]),
                "role": pa.array([staff.roles[i] for i in hired]),
                "status": pa.array(np.where(left, "left", "active").tolist()),
                "joined_on": _dates(staff.joined_on[hired]),
                "left_on": _dates(left_on),
            },
        ),
        "products": _table(
            "products",
            {
                "product_code": pa.array(shelf.codes),
                "name": pa.array(shelf.names),
                "product_type": _take(ASSET_CLASSES, shelf.asset_class),
                "risk_level": pa.array([f"R{r}" for r in shelf.risk]),
                "term_months": pa.array([int(t) if t > 0 else None for t in shelf.term], pa.int64()),
                "is_agency": pa.array(shelf.agency, pa.bool_()),
                "issuer": pa.array(list(shelf.issuer), pa.string()),
                "launched_on": _dates(shelf.launched_on),
                "status": pa.array(np.where(shelf.closed, "closed", "on_sale").tolist()),
            },
        ),
    }


def rm_truth(staff: Staff, timeline: Timeline) -> pa.Table:
    rms = [
        i for i in range(len(staff.ids)) if staff.roles[i] == "rm" and staff.join_month[i] < timeline.visible
    ]
    return pa.table(
        {"staff_id": pa.array([staff.ids[i] for i in rms]), "skill": pa.array(np.round(staff.skill[rms], 4))}
    )


class BlockTables:
    """Builds one block's contract tables from its records."""

    def __init__(self, demo: Demographics, timeline: Timeline, shelf: Shelf, staff: Staff) -> None:
        self.demo = demo
        self.tl = timeline
        self.numbers = pa.array([f"{x:08d}" for x in demo.number])
        self.cids = pc.binary_join_element_wise("C", self.numbers, "")
        self.months = pa.array(list(timeline.labels))
        self.compact_months = pa.array([x.replace("-", "") for x in timeline.labels])
        self.products = pa.array(shelf.codes)
        self.staff_ids = pa.array(staff.ids)

    def customers(
        self, rm: Ints, risk: Ints, closed_month: Ints, close_day: Ints, national_ids: list[str]
    ) -> pa.Table:
        d = self.demo
        closed = (closed_month >= 0) & (closed_month < self.tl.visible)
        closed_on = np.where(
            closed,
            self.tl.start[np.maximum(closed_month, 0)] + (close_day - 1).astype("timedelta64[D]"),
            np.datetime64("NaT"),
        )
        return _table(
            "customers",
            {
                "customer_id": self.cids,
                "branch_id": pa.array([BRANCH_ID] * len(rm)),
                "name": pa.array(d.names),
                "gender": pa.array(np.where(d.female, "F", "M").tolist()),
                "birth_date": _dates(d.birth),
                "occupation": _take([o[0] for o in OCCUPATIONS], d.occupation),
                "district": _take(DISTRICTS, d.district),
                "onboarded_on": _dates(d.onboarded_on),
                "rm_id": _take(self.staff_ids, rm),
                "risk_level": _take(RISK_LEVELS, risk - 1),
                "risk_assessed_on": _dates(d.assessed_on),
                "consent_marketing": pa.array(d.consent[:, 0]),
                "consent_sms": pa.array(d.consent[:, 1]),
                "consent_phone": pa.array(d.consent[:, 2]),
                "national_id": pa.array(national_ids),
                "mobile": pa.array(d.mobile),
                "status": pa.array(np.where(closed, "closed", "active").tolist()),
                "closed_on": _dates(closed_on),
            },
        )

    def aum_monthly(self, parts: list[Columns]) -> pa.Table:
        if not parts:
            return schema_for("aum_monthly").empty_table()
        return _table(
            "aum_monthly",
            {
                "customer_id": _take(self.cids, _concat(parts, "row")),
                "month": _take(self.months, _concat(parts, "month")),
                "asset_class": _take(ASSET_CLASSES, _concat(parts, "asset_class")),
                "avg_daily_balance": pa.array(_concat(parts, "avg_daily_balance"), pa.float64()),
                "month_end_balance": pa.array(_concat(parts, "month_end_balance"), pa.float64()),
            },
        )

    def digital_activity(self, parts: list[Columns]) -> pa.Table:
        if not parts:
            return schema_for("digital_activity").empty_table()
        return _table(
            "digital_activity",
            {
                "customer_id": _take(self.cids, _concat(parts, "row")),
                "month": _take(self.months, _concat(parts, "month")),
                "logins": pa.array(_concat(parts, "logins"), pa.int64()),
                "digital_txn_count": pa.array(_concat(parts, "digital_txn_count"), pa.int64()),
                "last_login_on": _dates(_concat(parts, "last_login_on")),
            },
        )

    def positions(self, parts: list[Columns]) -> pa.Table:
        if not parts:
            return schema_for("positions").empty_table()
        row = _concat(parts, "row").astype(np.int64)
        pid = _concat(parts, "pid").astype(np.int64)
        order = np.lexsort((pid, row))
        row, pid = row[order], pid[order]

        def col(key: str) -> npt.NDArray[np.generic]:
            return _concat(parts, key)[order]

        return _table(
            "positions",
            {
                "position_id": _joined("P", _take(self.numbers, row), "-", _padded(pid + 1, 4)),
                "customer_id": _take(self.cids, row),
                "product_code": _take(self.products, col("product")),
                "opened_on": _dates(col("opened_on")),
                "maturity_on": _dates(col("maturity_on")),
                "principal": pa.array(np.round(col("principal").astype(np.float64), 2)),
                "market_value": pa.array(col("market_value").astype(np.float64)),
                "status": _take(POSITION_STATUS, col("status")),
                "closed_on": _dates(col("closed_on")),
            },
        )

    def transactions(self, parts: list[Columns]) -> pa.Table:
        if not parts:
            return schema_for("transactions").empty_table()
        row = _concat(parts, "row").astype(np.int64)
        month = _concat(parts, "month").astype(np.int64)
        day = _concat(parts, "day").astype(np.int64)
        order = np.lexsort((day, month, row))
        row, month, day = row[order], month[order], day[order]
        seq = _rank_within(row * 10_000 + month)
        date = self.tl.start[month] + (day - 1).astype("timedelta64[D]")
        product = _concat(parts, "product").astype(np.int64)[order]
        product_col = self.products.take(pa.array(np.maximum(product, 0)))
        product_col = pc.if_else(pa.array(product >= 0), product_col, pa.scalar(None, pa.string()))
        return _table(
            "transactions",
            {
                "txn_id": _joined(
                    "T",
                    _take(self.numbers, row),
                    "-",
                    _take(self.compact_months, month),
                    "-",
                    _padded(seq + 1, 3),
                ),
                "customer_id": _take(self.cids, row),
                "txn_date": _dates(date),
                "amount": pa.array(_concat(parts, "amount").astype(np.float64)[order]),
                "direction": _take(("in", "out"), _concat(parts, "out").astype(np.int64)[order]),
                "channel": _take(TXN_CHANNELS, _concat(parts, "channel")[order]),
                "counterparty_kind": _take(COUNTERPARTIES, _concat(parts, "counterparty")[order]),
                "product_code": product_col,
            },
        )

    def interactions(self, parts: list[Columns]) -> pa.Table:
        if not parts:
            return schema_for("interactions").empty_table()
        row = _concat(parts, "row").astype(np.int64)
        month = _concat(parts, "month").astype(np.int64)
        nth = _concat(parts, "nth").astype(np.int64)
        order = np.lexsort((nth, month, row))
        row, month, nth = row[order], month[order], nth[order]
        note = _concat(parts, "note").astype(np.int64)[order]
        notes = _take(NOTES, note)
        notes = pc.if_else(pa.array(note > 0), notes, pa.scalar(None, pa.string()))
        when = _concat(parts, "occurred_at").astype("datetime64[s]")[order]
        return _table(
            "interactions",
            {
                "interaction_id": _joined(
                    "I",
                    _take(self.numbers, row),
                    "-",
                    _take(self.compact_months, month),
                    "-",
                    _padded(nth + 1, 2),
                ),
                "customer_id": _take(self.cids, row),
                "staff_id": _take(self.staff_ids, _concat(parts, "staff")[order]),
                "occurred_at": pa.array(when, pa.timestamp("s")),
                "channel": _take(CHANNELS, _concat(parts, "channel")[order]),
                "purpose": _take(PURPOSES, _concat(parts, "purpose")[order]),
                "outcome": _take(OUTCOMES, _concat(parts, "outcome")[order]),
                "notes": notes,
            },
        )


def _rank_within(keys: Ints) -> Ints:
    """0, 1, 2 … within runs of equal sorted keys."""
    if len(keys) == 0:
        return keys
    starts = np.r_[True, keys[1:] != keys[:-1]]
    idx = np.arange(len(keys))
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    return np.asarray(idx - first)
