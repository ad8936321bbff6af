"""Hand-made extracted tables and tier histories for the alert and lifecycle tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

COLUMNS: dict[str, list[str]] = {
    "customers": [
        "customer_id", "gender", "birth_date", "occupation", "district", "onboarded_on", "rm_id",
        "risk_level", "risk_assessed_on", "consent_marketing", "status", "closed_on",
    ],
    "staff": ["staff_id", "branch_id", "team_id", "name", "role", "status", "joined_on", "left_on"],
    "products": ["product_code", "name", "product_type", "risk_level", "term_months", "status"],
    "positions": [
        "position_id", "customer_id", "product_code", "opened_on", "maturity_on", "principal",
        "market_value", "status", "closed_on",
    ],
    "aum_monthly": ["customer_id", "month", "asset_class", "avg_daily_balance", "month_end_balance"],
    "digital_activity": ["customer_id", "month", "logins", "digital_txn_count", "last_login_on"],
    "transactions": [
        "txn_id", "customer_id", "txn_date", "amount", "direction", "channel", "counterparty_kind",
        "product_code",
    ],
    "interactions": [
        "interaction_id", "customer_id", "staff_id", "occurred_at", "channel", "purpose", "outcome",
    ],
}  # fmt: skip

HISTORY_COLUMNS = [
    "customer_id", "month", "aum", "tier", "tier_met", "watch", "months_below", "tier_event",
    "customer_loss", "asset_loss_amount",
]  # fmt: skip


def customer(cid: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS["customers"])
    row.update(
        customer_id=cid,
        onboarded_on=date(2015, 1, 1),
        rm_id="S1",
        risk_level="C3",
        risk_assessed_on=date(2026, 6, 1),
        consent_marketing=True,
        status="active",
    )
    row.update(values)
    return row


def staff(sid: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS["staff"])
    row.update(staff_id=sid, branch_id="B1", name=sid, role="rm", status="active", joined_on=date(2020, 1, 1))
    row.update(values)
    return row


def txn(
    tid: str, cid: str, on: date, amount: float, direction: str = "out", kind: str = "other_bank"
) -> dict[str, Any]:
    return {
        "txn_id": tid,
        "customer_id": cid,
        "txn_date": on,
        "amount": amount,
        "direction": direction,
        "channel": "mobile",
        "counterparty_kind": kind,
        "product_code": "W1" if kind == "product" else None,
    }


def position(
    pid: str, cid: str, opened: date, closed: date | None, status: str, principal: float = 100_000
) -> dict[str, Any]:
    return {
        "position_id": pid,
        "customer_id": cid,
        "product_code": "TD1",
        "opened_on": opened,
        "maturity_on": closed,
        "principal": principal,
        "market_value": 0.0 if closed else principal,
        "status": status,
        "closed_on": closed,
    }


def activity(cid: str, month: date, logins: int, txns: int = 0) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "month": month,
        "logins": logins,
        "digital_txn_count": txns,
        "last_login_on": None,
    }


def history_rows(
    cid: str, aums: list[float], tiers: list[str], start: date = date(2026, 1, 1), **cols: list[Any]
) -> list[dict[str, Any]]:
    """One customer's history from ``start``: aum and tier per month, other columns per keyword."""
    months = pd.date_range(start, periods=len(aums), freq="MS")
    rows = []
    for i, (month, aum, tier) in enumerate(zip(months, aums, tiers, strict=True)):
        row = {
            "customer_id": cid, "month": month, "aum": float(aum), "tier": tier, "tier_met": tier,
            "watch": False, "months_below": 0, "tier_event": None, "customer_loss": False,
            "asset_loss_amount": float("nan"),
        }  # fmt: skip
        row.update({k: v[i] for k, v in cols.items()})
        rows.append(row)
    return rows


def history(*customers: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [r for c in customers for r in c]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def tables(**frames: list[dict[str, Any]]) -> dict[str, pa.Table]:
    """Arrow tables like ``extract_tables`` gives; a table not named is empty (with its columns).
    Extra names (``service_requests``, ``survey_responses``) are passed through."""
    out: dict[str, pa.Table] = {}
    for name, cols in COLUMNS.items():
        rows = frames.get(name, [])
        frame = pd.DataFrame(rows, columns=cols)
        if not rows:
            frame = frame.astype(object)
        out[name] = pa.Table.from_pandas(frame, preserve_index=False)
    for name, rows in frames.items():
        if name not in COLUMNS:
            out[name] = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    return out
