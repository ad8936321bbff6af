"""Time the churn features in DuckDB (``build_features``) against a plain pandas version of the same features.

Simulates a branch into a temporary folder, imports it into SQLite, extracts the tables, computes the
tier history once, then times both feature builders on it and checks they agree. Prints JSON.

    .venv/bin/python bench/nightly_features.py --customers 50000 --months 24

``pandas_features`` is also the reference the tests compare ``build_features`` with.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_rss_mb

from wealthcrm.analytics.features import FEATURES, build_features, history_table
from wealthcrm.config import Settings

REACHED = ("reached", "interested", "sold", "retained", "lost")


def _month_no(values: pd.Series) -> pd.Series:
    d = pd.to_datetime(values)
    return (d.dt.year * 12 + d.dt.month - 1).astype("Int64").astype("float64")


def _div(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype("float64")


def _agg_month(frame: pd.DataFrame, **columns: pd.Series) -> pd.DataFrame:
    data = pd.DataFrame({"customer_id": frame["customer_id"], "month_no": frame["month_no"], **columns})
    return data.groupby(["customer_id", "month_no"], as_index=False).sum()


def pandas_features(tables: dict[str, pa.Table], history: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The FEATURES of :func:`build_features`, written the straightforward pandas way."""
    g = history_table(history, settings)
    g["month_no"] = _month_no(g["month"])
    g = g.drop(columns="month").sort_values(["customer_id", "month_no"]).reset_index(drop=True)

    aum = tables["aum_monthly"].to_pandas()
    aum["month_no"] = _month_no(aum["month"])
    cls, bal = aum["asset_class"], aum["avg_daily_balance"]
    aum_m = _agg_month(
        aum,
        aum_end=aum["month_end_balance"],
        demand=bal.where(cls == "demand_deposit", 0.0),
        term=bal.where(cls.isin(["time_deposit", "wmp", "bond"]), 0.0),
        market=bal.where(cls.isin(["fund", "precious_metal", "custody"]), 0.0),
    )
    txn = tables["transactions"].to_pandas()
    txn["month_no"] = _month_no(txn["txn_date"])
    out, amt = txn["direction"] == "out", txn["amount"]
    ob_out = out & (txn["counterparty_kind"] == "other_bank")
    txn_m = _agg_month(
        txn,
        txn_n=pd.Series(1, index=txn.index),
        net_flow=amt.where(~out, -amt),
        outflow=amt.where(out, 0.0),
        ob_out=amt.where(ob_out, 0.0),
        ob_out_n=ob_out.astype("int64"),
        payroll_n=((~out) & (txn["counterparty_kind"] == "payroll")).astype("int64"),
    )
    max_out = (
        pd.DataFrame(
            {"customer_id": txn["customer_id"], "month_no": txn["month_no"], "max_out": amt.where(out, 0.0)}
        )
        .groupby(["customer_id", "month_no"], as_index=False)
        .max()
    )
    dig = tables["digital_activity"].to_pandas()
    dig["month_no"] = _month_no(dig["month"])
    dig = dig[["customer_id", "month_no", "logins", "digital_txn_count"]].rename(
        columns={"digital_txn_count": "digital_txn"}
    )
    staff = tables["staff"].to_pandas()
    inter = tables["interactions"].to_pandas()
    inter = inter[
        inter["staff_id"].isin(staff.loc[staff["role"].isin(["rm", "team_lead"]), "staff_id"])
    ].copy()
    inter["month_no"] = _month_no(inter["occurred_at"])
    inter_m = _agg_month(
        inter,
        contacts=pd.Series(1, index=inter.index),
        reached=inter["outcome"].isin(REACHED).astype("int64"),
        complaint_fu=(inter["purpose"] == "complaint_followup").astype("int64"),
        retention=(inter["purpose"] == "retention").astype("int64"),
    )
    grid_columns = list(g.columns)
    for part in (aum_m, txn_m, max_out, dig, inter_m):
        g = g.merge(part, on=["customer_id", "month_no"], how="left")
    filled = [c for c in g.columns if c not in grid_columns]
    g[filled] = g[filled].fillna(0)

    by = g.groupby("customer_id", sort=False)
    position = by.cumcount()

    def last(col: str, n: int) -> pd.Series:
        return by[col].rolling(n, min_periods=1).sum().reset_index(level=0, drop=True)

    def prev3(col: str) -> pd.Series:
        shifted = by[col].shift(3)
        return (
            shifted.groupby(g["customer_id"], sort=False)
            .rolling(3, min_periods=1)
            .sum()
            .reset_index(level=0, drop=True)
        )

    lag = {(c, k): by[c].shift(k) for c in ("aum", "demand", "term", "market") for k in (1, 3, 6)}
    sd6 = by["aum"].rolling(6, min_periods=1).std(ddof=1).reset_index(level=0, drop=True)
    mean6 = by["aum"].rolling(6, min_periods=1).mean().reset_index(level=0, drop=True)
    full_prev = (position.clip(upper=5) - 2).clip(lower=0) == 3
    max_out3 = by["max_out"].rolling(3, min_periods=1).max().reset_index(level=0, drop=True)

    def last_month_with(col: str) -> pd.Series:
        marked = g["month_no"].where(g[col] > 0)
        return marked.groupby(g["customer_id"], sort=False).ffill()

    last_reached, last_contact = last_month_with("reached"), last_month_with("contacts")

    f = pd.DataFrame({"customer_id": g["customer_id"], "month_no": g["month_no"], "aum": g["aum"]})
    f["aum_end_ratio"] = _div(g["aum_end"], g["aum"])
    for k in (1, 3, 6):
        f[f"aum_chg_{k}m"] = _div(g["aum"] - lag["aum", k], lag["aum", k])
    f["aum_volatility_6m"] = _div(sd6, mean6)
    for c in ("demand", "term", "market"):
        f[f"{c}_share"] = _div(g[c], g["aum"])
    for c in ("demand", "term", "market"):
        f[f"{c}_chg_3m"] = _div(g[c] - lag[c, 3], lag["aum", 3])
    f["tier_rank"] = g["tier_rank"]
    f["tier_headroom"] = _div(g["aum"], g["tier_min"]) - 1
    f["watch"], f["months_below"] = g["watch"], g["months_below"]
    f["net_flow_3m"] = _div(last("net_flow", 3), g["aum"])
    f["outflow_3m"] = _div(last("outflow", 3), g["aum"])
    f["other_bank_out_3m"] = _div(last("ob_out", 3), g["aum"])
    f["other_bank_out_count_3m"] = last("ob_out_n", 3)
    f["largest_out_3m"] = _div(max_out3, g["aum"])
    payroll3, payroll_prev = last("payroll_n", 3), prev3("payroll_n")
    f["payroll_3m"] = payroll3
    f["payroll_stopped"] = ((payroll_prev > 0) & (payroll3 == 0)).astype("float64").where(position >= 5)
    f["txn_count_3m"] = last("txn_n", 3)
    f["txn_trend"] = ((last("txn_n", 3) + 1) / (prev3("txn_n") + 1)).where(full_prev)
    f["logins_3m"] = last("logins", 3) / 3.0
    f["login_trend"] = ((last("logins", 3) + 1) / (prev3("logins") + 1)).where(full_prev)
    f["digital_txn_trend"] = ((last("digital_txn", 3) + 1) / (prev3("digital_txn") + 1)).where(full_prev)
    f = f.join(_positions(tables["positions"], g, settings.alerts.reinvest_days), how="left")
    f["contacts_3m"], f["reached_6m"] = last("contacts", 3), last("reached", 6)
    f["months_since_reached"] = g["month_no"] - last_reached
    f["complaint_followups_6m"] = last("complaint_fu", 6)
    f["retention_contacts_3m"] = last("retention", 3)
    f = f.join(_rm(inter, staff, g, last_contact), how="left")
    cust = tables["customers"].to_pandas().set_index("customer_id")

    def per_customer(values: pd.Series) -> pd.Series:
        return g["customer_id"].map(values)

    f["age_years"] = (g["month_no"] - per_customer(_month_no(cust["birth_date"]))) / 12.0
    f["tenure_months"] = g["month_no"] - per_customer(_month_no(cust["onboarded_on"]))
    risk_no = per_customer(_month_no(cust["risk_assessed_on"]))
    known = risk_no <= g["month_no"]
    f["risk_assessment_age_months"] = (g["month_no"] - risk_no).where(known)
    f["risk_assessment_expired"] = (g["month_no"] - risk_no >= 12).astype("float64").where(known)
    f = f.join(_service(tables, g), how="left")
    number = f.pop("month_no").astype("int64")
    f.insert(1, "month", pd.to_datetime({"year": number // 12, "month": number % 12 + 1, "day": 1}))
    f = f.sort_values(["month", "customer_id"], kind="stable").reset_index(drop=True)
    f[list(FEATURES)] = f[list(FEATURES)].astype("float64")
    return f[["customer_id", "month", *FEATURES]]


def _service(tables: dict[str, pa.Table], g: pd.DataFrame) -> pd.DataFrame:
    """complaints_3m, sla_breaches_3m, open_complaints and last_nps, customer by customer-month."""
    req = tables["service_requests"].to_pandas()
    req["open_no"], req["due_no"] = _month_no(req["opened_at"]), _month_no(req["due_at"])
    req["resolved_no"] = _month_no(req["resolved_at"])
    due, resolved = pd.to_datetime(req["due_at"]), pd.to_datetime(req["resolved_at"])
    req["late"] = due.notna() & (resolved.isna() | (resolved > due))
    rows = g[["customer_id", "month_no"]].reset_index().merge(req, on="customer_id")
    rows = rows[rows["open_no"] <= rows["month_no"]]
    complaint = rows["request_type"] == "complaint"
    out = (
        pd.DataFrame(
            {
                "index": rows["index"],
                "complaints_3m": complaint & rows["open_no"].between(rows["month_no"] - 2, rows["month_no"]),
                "sla_breaches_3m": rows["late"]
                & rows["due_no"].between(rows["month_no"] - 2, rows["month_no"]),
                "open_complaints": complaint
                & (rows["resolved_no"].isna() | (rows["resolved_no"] > rows["month_no"])),
            }
        )
        .groupby("index")
        .sum()
    )
    feats = pd.DataFrame(index=g.index).join(out).fillna(0.0).astype("float64")
    nps = tables["survey_responses"].to_pandas().dropna(subset=["nps_score"])
    nps["answer_no"] = _month_no(nps["answered_on"])
    pairs = g[["customer_id", "month_no"]].reset_index().merge(nps, on="customer_id")
    pairs = pairs[pairs["answer_no"] <= pairs["month_no"]]
    latest = pairs.sort_values(["answered_on", "response_id"]).groupby("index")["nps_score"].last()
    feats["last_nps"] = latest.reindex(g.index).astype("float64")
    return feats


def _positions(table: pa.Table, g: pd.DataFrame, reinvest_days: int) -> pd.DataFrame:
    pos = table.to_pandas()
    pos["open_no"], pos["close_no"] = _month_no(pos["opened_on"]), _month_no(pos["closed_on"])
    pos["mat_no"] = _month_no(pos["maturity_on"])
    opened, closed = pd.to_datetime(pos["opened_on"]), pd.to_datetime(pos["closed_on"])
    matured = pos.assign(closed=closed)[pos["status"] == "matured"][["position_id", "customer_id", "closed"]]
    pairs = matured.merge(
        pos.assign(opened=opened)[["position_id", "customer_id", "opened", "open_no"]],
        on="customer_id",
        suffixes=("", "_q"),
    )
    pairs = pairs[
        (pairs["position_id_q"] != pairs["position_id"])
        & (pairs["opened"] >= pairs["closed"] - pd.Timedelta(days=3))
        & (pairs["opened"] <= pairs["closed"] + pd.Timedelta(days=reinvest_days))
    ]
    pos["reinvest_no"] = pos["position_id"].map(pairs.groupby("position_id")["open_no"].min())
    grid = g[["customer_id", "month_no"]].reset_index()
    j = grid.merge(pos, on="customer_id")
    t = j["month_no"]
    j = j[j["open_no"] <= t]
    t = j["month_no"]
    open_now = j["close_no"].isna() | (j["close_no"] > t)
    open_then = (j["open_no"] <= t - 3) & (j["close_no"].isna() | (j["close_no"] > t - 3))
    maturing = open_now & j["mat_no"].between(t + 1, t + 3)
    recent = j["close_no"].between(t - 2, t)
    matured_recent = (j["status"] == "matured") & recent
    parts = pd.DataFrame(
        {
            "index": j["index"],
            "open_positions": open_now.astype("int64"),
            "open_then": open_then.astype("int64"),
            "maturing_next_3m": maturing.astype("int64"),
            "maturing_amount": j["principal"].where(maturing, 0.0),
            "matured_3m": matured_recent.astype("int64"),
            "matured_not_reinvested_3m": (
                matured_recent & (j["reinvest_no"].isna() | (j["reinvest_no"] > t))
            ).astype("int64"),
            "redeemed_3m": ((j["status"] == "redeemed") & recent).astype("int64"),
        }
    )
    s = parts.groupby("index").sum().reindex(g.index, fill_value=0)
    return pd.DataFrame(
        {
            "open_positions": s["open_positions"],
            "positions_chg_3m": s["open_positions"] - s["open_then"],
            "maturing_next_3m": s["maturing_next_3m"],
            "maturing_next_3m_share": _div(s["maturing_amount"].astype("float64"), g["aum"]),
            "matured_3m": s["matured_3m"],
            "matured_not_reinvested_3m": s["matured_not_reinvested_3m"],
            "redeemed_3m": s["redeemed_3m"],
        },
        index=g.index,
    )


def _rm(inter: pd.DataFrame, staff: pd.DataFrame, g: pd.DataFrame, last_contact: pd.Series) -> pd.DataFrame:
    staff = staff.assign(joined_no=_month_no(staff["joined_on"]), left_no=_month_no(staff["left_on"]))
    pair = inter.groupby(["customer_id", "staff_id"], as_index=False).agg(first_no=("month_no", "min"))
    pair = pair.merge(staff[["staff_id", "joined_no", "left_no"]], on="staff_id")
    grid = g[["customer_id", "month_no"]].reset_index()
    j = grid.merge(pair, on="customer_id")
    j = j[j["first_no"] <= j["month_no"]]
    left6 = j["left_no"].between(j["month_no"] - 5, j["month_no"]).astype("int64")
    rm_left = left6.groupby(j["index"]).max().reindex(g.index, fill_value=0)
    k = grid.merge(inter[["customer_id", "month_no", "staff_id"]], on="customer_id", suffixes=("", "_c"))
    k = k[k["month_no_c"].between(k["month_no"] - 11, k["month_no"])]
    rm_count = k.groupby("index")["staff_id"].nunique().reindex(g.index, fill_value=0)
    latest = inter.sort_values(["occurred_at", "staff_id"], ascending=[False, True]).drop_duplicates(
        ["customer_id", "month_no"]
    )
    lookup = grid.assign(last_no=last_contact.to_numpy()).merge(
        latest[["customer_id", "month_no", "staff_id"]].rename(columns={"month_no": "last_no"}),
        on=["customer_id", "last_no"],
        how="left",
    )
    lookup = (
        lookup.merge(pair, on=["customer_id", "staff_id"], how="left").set_index("index").reindex(g.index)
    )
    return pd.DataFrame(
        {
            "rm_count_12m": rm_count,
            "rm_left_6m": rm_left,
            "rm_tenure_months": g["month_no"] - lookup["joined_no"],
            "rm_relationship_months": g["month_no"] - lookup["first_no"],
        },
        index=g.index,
    )


def compare(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    """Largest absolute difference per feature (NaN in one and not the other counts as infinite)."""
    out = {}
    for name in FEATURES:
        x, y = a[name].to_numpy(dtype=np.float64), b[name].to_numpy(dtype=np.float64)
        if (np.isnan(x) != np.isnan(y)).any():
            out[name] = float("inf")
        else:
            both = ~np.isnan(x)
            out[name] = float(
                np.max(np.abs(x[both] - y[both]) / np.maximum(1.0, np.abs(y[both])), initial=0.0)
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from wealthcrm import schema
    from wealthcrm.analytics.extract import extract_tables
    from wealthcrm.analytics.tiering import tier_history
    from wealthcrm.db import make_engine
    from wealthcrm.ingest.importer import import_path
    from wealthcrm.simulate import simulate_branch

    today = date(2026, 11, 28)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simulate_branch(
            customers=args.customers, months=args.months, seed=args.seed, out=root / "files",
            fmt="parquet", end_month="2026-10", today=today, workers=2,
        )  # fmt: skip
        settings = Settings(data_dir=root / "data", field_key=base64.b64encode(bytes(32)).decode())
        engine = make_engine(f"sqlite:///{root / 'sim.db'}")
        schema.upgrade(engine)
        import_path(engine, root / "files", settings=settings, today=today)
        tables = extract_tables(engine, until=date(2026, 10, 1))
        engine.dispose()
    result: dict[str, Any] = {"customers": args.customers, "months": args.months, "seed": args.seed}
    start = time.perf_counter()
    history = tier_history(tables, settings)
    result["tier_history_seconds"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    duck = build_features(tables, settings=settings, history=history)
    result["duckdb_seconds"] = round(time.perf_counter() - start, 3)
    result["rss_after_duckdb_mb"] = peak_rss_mb()
    start = time.perf_counter()
    reference = pandas_features(tables, history, settings)
    result["pandas_seconds"] = round(time.perf_counter() - start, 3)
    result["pandas_over_duckdb"] = round(result["pandas_seconds"] / result["duckdb_seconds"], 2)
    result["rows"] = len(duck)
    result["features"] = len(FEATURES)
    result["max_relative_difference"] = max(compare(duck, reference).values())
    result["peak_rss_mb"] = peak_rss_mb()
    result["machine"] = machine()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
