"""Every early-warning rule fires on a hand-made case and stays quiet on its near miss."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest

from tests.alerts import factories as f
from wealthcrm.alerts.actions import ACTION_FOR, action_text
from wealthcrm.alerts.rules import (
    CANDIDATE_COLUMNS,
    complaint_alerts,
    detractor_alerts,
    evaluate_rules,
    sla_breach_alerts,
)
from wealthcrm.config import Settings
from wealthcrm.vocab import AlertType

OCT = date(2026, 10, 1)
S = Settings()
SUN = "sunflower"


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame[CANDIDATE_COLUMNS].itertuples(index=False)]


def of_type(frame: pd.DataFrame, alert_type: AlertType) -> list[tuple[Any, ...]]:
    return rows(frame[frame["alert_type"] == alert_type.value])


def flat(cid: str, aum: float = 1_000_000, tier: str = SUN, months: int = 10) -> list[dict[str, Any]]:
    return f.history_rows(cid, [aum] * months, [tier] * months)


def run(history: pd.DataFrame, month: date = OCT, **frames: list[dict[str, Any]]) -> pd.DataFrame:
    frames.setdefault("customers", [f.customer(c) for c in history["customer_id"].unique()])
    frames.setdefault("staff", [f.staff("S1")])
    return evaluate_rules(f.tables(**frames), history, month, S)


def test_large_outflow_by_amount_or_share_not_purchases() -> None:
    h = f.history(flat("A"), flat("B", 100_000, "gold"), flat("C", 100_000, "gold"), flat("D"))
    txns = [
        f.txn("T1", "A", date(2026, 10, 5), 200_000, kind="same_bank"),  # amount, 20% share
        f.txn("T2", "A", date(2026, 10, 6), 199_999.99, kind="cash"),  # near miss
        f.txn("T3", "B", date(2026, 10, 7), 30_000, kind="merchant"),  # 30% share
        f.txn("T4", "C", date(2026, 10, 7), 29_999.99, kind="merchant"),  # near miss
        f.txn("T5", "D", date(2026, 10, 8), 900_000, kind="product"),  # buying a product
        f.txn("T6", "A", date(2026, 9, 30), 500_000, kind="same_bank"),  # last month
    ]
    out = run(h, transactions=txns)
    assert of_type(out, AlertType.large_outflow) == [
        (
            "A",
            "large_outflow",
            "medium",
            "large_outflow:A:T1",
            {
                "txn_id": "T1",
                "txn_date": "2026-10-05",
                "amount": 200000.0,
                "share_of_aum": 0.2,
                "aum": 1000000.0,
                "counterparty_kind": "same_bank",
                "channel": "mobile",
            },
            "call_about_outflow",
        ),
        # gold customer: medium one step lower
        (
            "B",
            "large_outflow",
            "low",
            "large_outflow:B:T3",
            {
                "txn_id": "T3",
                "txn_date": "2026-10-07",
                "amount": 30000.0,
                "share_of_aum": 0.3,
                "aum": 100000.0,
                "counterparty_kind": "merchant",
                "channel": "mobile",
            },
            "call_about_outflow",
        ),
    ]


def test_large_outflow_both_conditions_is_high_and_share_uses_last_month() -> None:
    h = f.history(f.history_rows("A", [600_000, 300_000], [SUN, SUN], start=date(2026, 9, 1)))
    out = run(h, transactions=[f.txn("T1", "A", date(2026, 10, 2), 200_000)])
    got = of_type(out, AlertType.large_outflow)
    assert [(r[2], r[4]["share_of_aum"], r[4]["aum"]) for r in got] == [("high", 0.3333, 600000.0)]


def test_transfers_to_other_banks_summed_over_the_month() -> None:
    h = f.history(flat("A", 10_000_000, "private"), flat("B", 10_000_000, "private"))
    txns = [
        f.txn("T1", "A", date(2026, 10, 1), 30_000),
        f.txn("T2", "A", date(2026, 10, 31), 20_000),
        f.txn("T3", "B", date(2026, 10, 3), 49_999.99),  # near miss
        f.txn("T4", "B", date(2026, 10, 3), 80_000, direction="in"),  # money coming in
    ]
    out = run(h, transactions=txns)
    assert of_type(out, AlertType.outflow_other_bank) == [
        (
            "A",
            "outflow_other_bank",
            "medium",
            "outflow_other_bank:A:2026-10",
            {
                "month": "2026-10",
                "total": 50000.0,
                "transfers": 2,
                "largest": 30000.0,
                "share_of_aum": 0.005,
                "aum": 10000000.0,
            },
            "call_about_outflow",
        ),
    ]


def test_matured_and_not_reinvested_within_the_window() -> None:
    h = f.history(*(flat(c) for c in "ABCDE"))
    positions = [
        f.position("P1", "A", date(2025, 10, 3), date(2026, 10, 3), "matured"),  # nothing after
        f.position("P2", "B", date(2025, 10, 3), date(2026, 10, 3), "matured"),
        f.position("P3", "C", date(2025, 10, 3), date(2026, 10, 3), "matured"),
        f.position("P3b", "C", date(2026, 10, 10), None, "open"),  # new position on the 7th day
        f.position("P4", "D", date(2025, 10, 3), date(2026, 10, 3), "redeemed"),  # not a maturity
        f.position("P5", "E", date(2025, 10, 28), date(2026, 10, 28), "matured"),  # deadline in Nov
    ]
    txns = [
        f.txn("T1", "B", date(2026, 10, 11), 100_000, kind="product"),  # one day too late
        f.txn("T2", "A", date(2026, 10, 5), 100_000, direction="in", kind="product"),  # proceeds
    ]
    out = run(h, positions=positions, transactions=txns)
    evidence = {
        "product_code": "TD1",
        "principal": 100000.0,
        "closed_on": "2026-10-03",
        "deadline": "2026-10-10",
    }
    assert of_type(out, AlertType.not_reinvested) == [
        (
            "A",
            "not_reinvested",
            "medium",
            "not_reinvested:A:P1",
            {"position_id": "P1", **evidence},
            "offer_reinvestment",
        ),
        (
            "B",
            "not_reinvested",
            "medium",
            "not_reinvested:B:P2",
            {"position_id": "P2", **evidence},
            "offer_reinvestment",
        ),
    ]
    nov = run(h, month=date(2026, 11, 1), positions=positions, transactions=txns)
    assert [r[3] for r in of_type(nov, AlertType.not_reinvested)] == ["not_reinvested:E:P5"]


def test_payroll_stopped_after_three_months_and_holds_until_it_resumes() -> None:
    h = f.history(*(f.history_rows(c, [1e6] * 11, [SUN] * 11) for c in "ABC"))
    pay = [(m, c) for c in "ABC" for m in (7, 8, 9)]
    txns = [
        f.txn(f"P{c}{m}", c, date(2026, m, 12), 20_000, "in", "payroll") for m, c in pay if (c, m) != ("B", 7)
    ]
    txns.append(f.txn("PC10", "C", date(2026, 10, 12), 20_000, "in", "payroll"))
    out = run(h, transactions=txns)
    evidence = {"stopped_from": "2026-10", "last_payroll_month": "2026-09", "average_payroll": 20000.0}
    assert of_type(out, AlertType.payroll_stopped) == [
        ("A", "payroll_stopped", "medium", "payroll_stopped:A:2026-10", evidence, "check_payroll"),
    ]
    nov = run(h, month=date(2026, 11, 1), transactions=txns)
    # A is still stopped (same episode); C's payroll stopped in November
    assert [r[3] for r in of_type(nov, AlertType.payroll_stopped)] == [
        "payroll_stopped:A:2026-10",
        "payroll_stopped:C:2026-11",
    ]


def test_watch_keyed_by_the_month_it_began() -> None:
    watch = [False] * 8 + [True, True]
    below = [0] * 8 + [1, 2]
    a = f.history_rows(
        "A",
        [1e6] * 8 + [450_000] * 2,
        [SUN] * 10,
        watch=watch,
        months_below=below,
        tier_met=[SUN] * 8 + ["gold"] * 2,
    )
    b = f.history_rows(
        "B",
        [1e6] * 9 + [450_000],
        [SUN] * 10,
        watch=[False] * 9 + [True],
        months_below=[0] * 9 + [1],
        tier_met=[SUN] * 9 + ["gold"],
    )
    out = run(f.history(a, b))
    assert of_type(out, AlertType.watch) == [
        (
            "A",
            "watch",
            "high",
            "watch:A:sunflower:2026-09",
            {
                "tier": SUN,
                "tier_met": "gold",
                "aum": 450000.0,
                "threshold": 500000.0,
                "months_below": 2,
                "grace_months": 3,
                "since": "2026-09",
            },
            "retention_call",
        ),
        (
            "B",
            "watch",
            "medium",
            "watch:B:sunflower:2026-10",
            {
                "tier": SUN,
                "tier_met": "gold",
                "aum": 450000.0,
                "threshold": 500000.0,
                "months_below": 1,
                "grace_months": 3,
                "since": "2026-10",
            },
            "retention_call",
        ),
    ]


def test_near_threshold_and_falling() -> None:
    a = f.history_rows("A", [800_000] * 8 + [560_000, 549_999.99], [SUN] * 10)
    b = f.history_rows("B", [800_000] * 9 + [550_000], [SUN] * 10)  # not within 10%
    c = f.history_rows("C", [500_000] * 9 + [540_000], [SUN] * 10)  # rising
    d = f.history_rows("D", [60_000] * 9 + [40_000], ["mass"] * 10)  # mass has no threshold
    out = run(f.history(a, b, c, d))
    assert of_type(out, AlertType.near_threshold) == [
        (
            "A",
            "near_threshold",
            "medium",
            "near_threshold:A:sunflower:2026-10",
            {
                "tier": SUN,
                "aum": 549999.99,
                "previous_aum": 560000.0,
                "threshold": 500000.0,
                "since": "2026-10",
            },
            "review_portfolio",
        ),
    ]


def test_activity_collapse_against_three_month_average() -> None:
    h = f.history(*(f.history_rows(c, [1e6] * 4, [SUN] * 4, start=date(2026, 7, 1)) for c in "ABC"))
    da = [f.activity(c, date(2026, m, 1), 8, 2) for c in "ABC" for m in (7, 8, 9)]
    da += [f.activity("A", OCT, 3, 1), f.activity("B", OCT, 4, 1)]  # A: 4 < 5; B: 5, a near miss
    # C has no row in October while others do: no activity at all
    out = run(h, digital_activity=da)
    assert of_type(out, AlertType.activity_collapse) == [
        (
            "A",
            "activity_collapse",
            "medium",
            "activity_collapse:A:2026-10",
            {"activity": 4.0, "baseline": 10.0, "since": "2026-10"},
            "care_contact",
        ),
        (
            "C",
            "activity_collapse",
            "medium",
            "activity_collapse:C:2026-10",
            {"activity": 0.0, "baseline": 10.0, "since": "2026-10"},
            "care_contact",
        ),
    ]


def test_activity_of_a_month_nobody_reported_is_unknown() -> None:
    h = f.history(f.history_rows("A", [1e6] * 4, [SUN] * 4, start=date(2026, 7, 1)))
    da = [f.activity("A", date(2026, m, 1), 8, 2) for m in (7, 8, 9)]
    assert of_type(run(h, digital_activity=da), AlertType.activity_collapse) == []


def test_risk_assessment_missing_or_expired() -> None:
    h = f.history(*(flat(c) for c in "ABCDE"))
    customers = [
        f.customer("A", risk_assessed_on=date(2025, 10, 31)),  # expires 2026-10-31
        f.customer("B", risk_assessed_on=date(2025, 11, 1)),  # near miss
        f.customer("C", risk_level=None, risk_assessed_on=None),
        f.customer("D", risk_assessed_on=date(2024, 1, 1), status="closed", closed_on=date(2026, 9, 1)),
        f.customer("E", risk_assessed_on=date(2026, 11, 2)),  # known only later: level and date unknown now
    ]
    out = run(h, customers=customers)
    assert of_type(out, AlertType.risk_assessment_expired) == [
        (
            "A",
            "risk_assessment_expired",
            "low",
            "risk_assessment_expired:A:2025-10-31",
            {"risk_level": "C3", "assessed_on": "2025-10-31", "expired_on": "2026-10-31"},
            "renew_risk_assessment",
        ),
        (
            "C",
            "risk_assessment_expired",
            "low",
            "risk_assessment_expired:C:none",
            {"risk_level": None, "assessed_on": None, "expired_on": None},
            "renew_risk_assessment",
        ),
        (
            "E",
            "risk_assessment_expired",
            "low",
            "risk_assessment_expired:E:none",
            {"risk_level": None, "assessed_on": None, "expired_on": None},
            "renew_risk_assessment",
        ),
    ]


def test_rm_left_or_contact_staff_changed() -> None:
    h = f.history(*(flat(c) for c in "ABCD"))
    staff = [
        f.staff("S1"),
        f.staff("S2", status="left", left_on=date(2026, 10, 15)),
        f.staff("S3", status="left", left_on=date(2026, 11, 2)),  # leaves later
        f.staff("S4"),
        f.staff("SV", role="service"),
    ]
    customers = [f.customer("A", rm_id="S2"), f.customer("B", rm_id="S3"), f.customer("C"), f.customer("D")]

    def contact(i: str, cid: str, sid: str, at: datetime) -> dict[str, Any]:
        return {
            "interaction_id": i,
            "customer_id": cid,
            "staff_id": sid,
            "occurred_at": at,
            "channel": "phone",
            "purpose": "care",
            "outcome": "reached",
        }

    interactions = [
        contact("I1", "C", "S1", datetime(2026, 9, 5, 10)),
        contact("I2", "C", "S4", datetime(2026, 10, 5, 10)),  # new RM
        contact("I3", "D", "S1", datetime(2026, 9, 5, 10)),
        contact("I4", "D", "SV", datetime(2026, 10, 5, 10)),  # service staff, not an RM
        contact("I5", "D", "S1", datetime(2026, 10, 6, 10)),
    ]
    out = run(h, customers=customers, staff=staff, interactions=interactions)
    assert of_type(out, AlertType.rm_changed) == [
        (
            "A",
            "rm_changed",
            "medium",
            "rm_changed:A:S2:rm_left",
            {"rm_id": "S2", "left_on": "2026-10-15", "reason": "rm_left"},
            "introduce_new_rm",
        ),
        (
            "C",
            "rm_changed",
            "medium",
            "rm_changed:C:S1>S4:2026-10",
            {"previous_staff_id": "S1", "staff_id": "S4", "reason": "contact_staff_changed"},
            "introduce_new_rm",
        ),
    ]


REQUESTS = pd.DataFrame(
    [
        ("R1", "A", "complaint", datetime(2026, 10, 2, 9), datetime(2026, 10, 6, 9), None),
        (
            "R2",
            "B",
            "inquiry",
            datetime(2026, 10, 2, 9),
            datetime(2026, 10, 2, 11),
            datetime(2026, 10, 2, 10),
        ),
        (
            "R3",
            "B",
            "inquiry",
            datetime(2026, 10, 2, 9),
            datetime(2026, 10, 2, 11),
            datetime(2026, 10, 2, 12),
        ),
        ("R4", "C", "complaint", datetime(2026, 9, 30, 9), datetime(2026, 11, 3, 9), None),  # Sept, due Nov
    ],
    columns=["request_id", "customer_id", "request_type", "opened_at", "due_at", "resolved_at"],
)


def test_complaint_and_sla_breach_on_hand_made_requests() -> None:
    assert rows(complaint_alerts(REQUESTS, OCT)) == [
        (
            "A",
            "complaint",
            "high",
            "complaint:A:R1",
            {"request_id": "R1", "opened_at": "2026-10-02"},
            "follow_up_complaint",
        ),
    ]
    assert rows(sla_breach_alerts(REQUESTS, OCT)) == [
        (
            "A",
            "sla_breach",
            "high",
            "sla_breach:A:R1",
            {"request_id": "R1", "request_type": "complaint", "due_at": "2026-10-06", "resolved_at": None},
            "escalate_request",
        ),
        (
            "B",
            "sla_breach",
            "medium",
            "sla_breach:B:R3",
            {
                "request_id": "R3",
                "request_type": "inquiry",
                "due_at": "2026-10-02",
                "resolved_at": "2026-10-02",
            },
            "escalate_request",
        ),
    ]


def test_detractor_on_hand_made_answers() -> None:
    answers = pd.DataFrame(
        [
            ("N1", "A", date(2026, 10, 9), 6),
            ("N2", "B", date(2026, 10, 9), 7),
            ("N3", "C", date(2026, 9, 9), 0),
        ],
        columns=["response_id", "customer_id", "answered_on", "nps_score"],
    )
    assert rows(detractor_alerts(answers, OCT, S)) == [
        (
            "A",
            "detractor",
            "medium",
            "detractor:A:N1",
            {"response_id": "N1", "answered_on": "2026-10-09", "nps_score": 6},
            "follow_up_detractor",
        ),
    ]


@pytest.mark.parametrize("rule", [complaint_alerts, sla_breach_alerts])
def test_service_rules_return_nothing_without_data(rule: Any) -> None:
    assert rule(None, OCT).empty
    assert list(rule(None, OCT).columns) == CANDIDATE_COLUMNS


def test_evaluate_rules_reads_service_requests_and_surveys_when_present() -> None:
    h = f.history(*(flat(c) for c in "ABC"))
    frames = {
        "service_requests": REQUESTS.to_dict("records"),
        "survey_responses": [
            {"response_id": "N1", "customer_id": "C", "answered_on": date(2026, 10, 9), "nps_score": 2}
        ],
    }
    out = run(h, **frames)
    assert out["dedupe_key"].tolist() == [
        "complaint:A:R1",
        "detractor:C:N1",
        "sla_breach:A:R1",
        "sla_breach:B:R3",
    ]
    assert run(h).empty


def test_only_data_up_to_the_month_is_read() -> None:
    h = f.history(f.history_rows("A", [1e6] * 12, [SUN] * 12))  # Jan … Dec 2026
    txns = [f.txn("T1", "A", date(2026, 11, 3), 900_000)]
    assert run(h, transactions=txns).empty
    assert of_type(run(h, month=date(2026, 11, 1), transactions=txns), AlertType.large_outflow) != []


def test_every_alert_type_has_an_action_in_both_languages() -> None:
    assert set(ACTION_FOR) == set(AlertType)
    for code in ACTION_FOR.values():
        assert action_text(code, "en") != code and action_text(code, "zh_CN") != code
    assert action_text("unknown", "en") == "unknown"
