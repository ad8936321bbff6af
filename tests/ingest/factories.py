"""Hand-made contract files: a small valid branch, written as CSV (any encoding) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TODAY_ISO = "2026-11-28"

VALID: dict[str, list[dict[str, str]]] = {
    "branches": [{"branch_id": "B001", "name": "深圳福田支行", "city": "深圳"}],
    "teams": [{"team_id": "T01", "branch_id": "B001", "name": "财富一组"}],
    "staff": [
        {
            "staff_id": "S001",
            "branch_id": "B001",
            "team_id": "T01",
            "name": "王经理",
            "role": "rm",
            "status": "active",
            "joined_on": "2020-03-01",
            "left_on": "",
        },
        {
            "staff_id": "S002",
            "branch_id": "B001",
            "team_id": "T01",
            "name": "李主管",
            "role": "team_lead",
            "status": "active",
            "joined_on": "2018-01-15",
            "left_on": "",
        },
        {
            "staff_id": "S003",
            "branch_id": "B001",
            "team_id": "",
            "name": "张大堂",
            "role": "service",
            "status": "left",
            "joined_on": "2021-06-01",
            "left_on": "2026-06-30",
        },
    ],
    "customers": [
        {
            "customer_id": "C001",
            "branch_id": "B001",
            "name": "陈一",
            "gender": "M",
            "birth_date": "1949-12-31",
            "onboarded_on": "2015-01-01",
            "rm_id": "S001",
            "risk_level": "C3",
            "risk_assessed_on": "2026-01-10",
            "consent_marketing": "1",
            "national_id": "11010519491231002X",
            "mobile": "13812345678",
            "status": "active",
            "closed_on": "",
        },
        {
            "customer_id": "C002",
            "branch_id": "B001",
            "name": "刘二",
            "gender": "F",
            "birth_date": "",
            "onboarded_on": "2016-05-01",
            "rm_id": "S002",
            "risk_level": "",
            "risk_assessed_on": "",
            "consent_marketing": "0",
            "national_id": "",
            "mobile": "+86 139 0000 1111",
            "status": "closed",
            "closed_on": "2026-10-15",
        },
    ],
    "products": [
        {
            "product_code": "WMP001",
            "name": "稳健理财6个月",
            "product_type": "wmp",
            "risk_level": "R2",
            "term_months": "6",
            "is_agency": "0",
        },
        {
            "product_code": "DEP001",
            "name": "活期存款",
            "product_type": "demand_deposit",
            "risk_level": "R1",
            "term_months": "",
            "is_agency": "0",
        },
    ],
    "aum_monthly": [
        {
            "customer_id": "C001",
            "month": "2026-09",
            "asset_class": "demand_deposit",
            "avg_daily_balance": "600000",
            "month_end_balance": "610000",
        },
        {
            "customer_id": "C001",
            "month": "2026-09",
            "asset_class": "wmp",
            "avg_daily_balance": "1,000,000.50",
            "month_end_balance": "1000000",
        },
        {
            "customer_id": "C002",
            "month": "2026-09",
            "asset_class": "demand_deposit",
            "avg_daily_balance": "60000",
            "month_end_balance": "60000",
        },
    ],
    "positions": [
        {
            "position_id": "P1",
            "customer_id": "C001",
            "product_code": "WMP001",
            "opened_on": "2026-04-01",
            "maturity_on": "2026-10-01",
            "principal": "1000000",
            "market_value": "1010000",
            "status": "matured",
            "closed_on": "2026-10-01",
        },
        {
            "position_id": "P2",
            "customer_id": "C001",
            "product_code": "WMP001",
            "opened_on": "2026-10-08",
            "maturity_on": "2027-04-08",
            "principal": "500000",
            "market_value": "500000",
            "status": "open",
            "closed_on": "",
        },
    ],
    "transactions": [
        {
            "txn_id": "X1",
            "customer_id": "C001",
            "txn_date": "2026-10-02",
            "amount": "300000",
            "direction": "out",
            "channel": "mobile",
            "counterparty_kind": "other_bank",
            "product_code": "",
        },
        {
            "txn_id": "X2",
            "customer_id": "C001",
            "txn_date": "2026-10-08",
            "amount": "500000",
            "direction": "out",
            "channel": "rm",
            "counterparty_kind": "product",
            "product_code": "WMP001",
        },
    ],
    "digital_activity": [
        {
            "customer_id": "C001",
            "month": "2026-09",
            "logins": "12",
            "digital_txn_count": "3",
            "last_login_on": "2026-09-28",
        },
    ],
    "interactions": [
        {
            "interaction_id": "I1",
            "customer_id": "C001",
            "staff_id": "S001",
            "occurred_at": "2026-10-03 10:30",
            "channel": "phone",
            "purpose": "maturity",
            "outcome": "reached",
            "notes": "客户考虑转他行",
        },
    ],
    "service_requests": [
        {
            "request_id": "R1",
            "customer_id": "C001",
            "request_type": "complaint",
            "channel": "branch",
            "priority": "high",
            "root_cause": "fees",
            "staff_id": "S001",
            "opened_at": "2026-10-05 09:00",
            "acknowledged_at": "2026-10-05 10:00",
            "due_at": "2026-10-07 18:00",
            "resolved_at": "2026-10-08 11:00",
            "status": "closed",
            "rating": "2",
        },
        {
            "request_id": "R2",
            "customer_id": "C001",
            "request_type": "inquiry",
            "channel": "phone",
            "priority": "",
            "root_cause": "",
            "staff_id": "",
            "opened_at": "2026-11-20 15:30",
            "acknowledged_at": "",
            "due_at": "2026-12-02 18:00",
            "resolved_at": "",
            "status": "new",
            "rating": "",
        },
    ],
    "survey_answers": [
        {
            "response_id": "SV1",
            "item_id": "REL1",
            "customer_id": "C001",
            "questionnaire_id": "branch2026",
            "answered_on": "2026-10-20",
            "score": "4",
            "text": "",
        },
        {
            "response_id": "SV1",
            "item_id": "NPS",
            "customer_id": "C001",
            "questionnaire_id": "branch2026",
            "answered_on": "2026-10-20",
            "score": "3",
            "text": "",
        },
        {
            "response_id": "SV1",
            "item_id": "COMMENT",
            "customer_id": "C001",
            "questionnaire_id": "branch2026",
            "answered_on": "2026-10-20",
            "score": "",
            "text": "理财经理换得太频繁",
        },
    ],
}

#: rows per table after VALID is imported
VALID_COUNTS = {name: len(rows) for name, rows in VALID.items()}


def write_folder(
    folder: Path,
    files: dict[str, list[dict[str, str]]] | None = None,
    *,
    encoding: str = "utf-8",
    fmt: str = "csv",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (files or VALID).items():
        frame = pd.DataFrame(rows, dtype="str")
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False, encoding=encoding)
        else:
            frame.replace("", None).to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def changed(name: str, index: int, **values: str) -> dict[str, list[dict[str, str]]]:
    """A copy of VALID with one row of one file changed."""
    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    files[name][index].update(values)
    return files
