"""The task rules on hand-made facts: exactly which tasks a customer's facts call for, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from wealthcrm.config import Settings
from wealthcrm.tasks.rules import (
    AlertFact,
    ComplaintFact,
    CustomerFacts,
    PositionFact,
    SurveyFact,
    candidates,
    identity_of,
    is_save,
    next_birthday,
    task_outcome_for,
)
from wealthcrm.vocab import InteractionOutcome, TaskKind, TaskOutcome

ON = date(2026, 11, 28)
S = Settings()


def facts(**values: Any) -> CustomerFacts:
    base: dict[str, Any] = {
        "customer_id": "C1",
        "rm_id": "S1",
        "risk_level": "C3",
        "risk_assessed_on": date(2026, 6, 1),  # valid until 2027-06-01
        "month": date(2026, 10, 1),
        "tier": "sunflower",
        "stage": "mature",
        "aum": 1_000_000.0,
        "previous_aum": 1_000_000.0,
        "p_loss": 0.02,
        "aum_at_risk": 20_000.0,
        "last_contact": date(2026, 11, 20),  # 8 days ago: the monthly cadence is met
    }
    return CustomerFacts(**(base | values))


def keys(found: list[Any]) -> list[str]:
    return [c.source_key for c in found]


def test_a_calm_well_looked_after_customer_needs_nothing() -> None:
    assert candidates(facts(), on=ON, settings=S) == []


def test_retention_from_the_score_carries_the_facts_and_ranks_by_aum_at_risk() -> None:
    reasons = [{"feature": f"f{i}", "zh": f"原因{i}", "en": f"reason {i}", "value": i} for i in range(4)]
    alerts = [
        AlertFact(7, "payroll_stopped", "medium", "check_payroll"),
        AlertFact(8, "risk_assessment_expired", "low", "renew_risk_assessment"),
    ]
    (task,) = candidates(
        facts(p_loss=0.4, aum_at_risk=400_000.0, reasons=reasons, alerts=alerts), on=ON, settings=S
    )
    assert (task.kind, task.source_key, task.assignee_id, task.due_on, task.priority_amount) == (
        TaskKind.retention,
        "retention:C1@2026-10",
        "S1",
        ON,
        400_000.0,
    )
    assert task.evidence == {
        "month": "2026-10-01",
        "at_risk": True,
        "tier": "sunflower",
        "stage": "mature",
        "aum": 1_000_000.0,
        "p_loss": 0.4,
        "aum_at_risk": 400_000.0,
        "reasons": [{"feature": f"f{i}", "zh": f"原因{i}", "en": f"reason {i}"} for i in range(3)],
        # the expired assessment is its own task, not a retention alert
        "alerts": [
            {"id": 7, "alert_type": "payroll_stopped", "severity": "medium", "action": "check_payroll"}
        ],
    }
    assert task.alert_id is None


@pytest.mark.parametrize(
    ("p_loss", "aum_at_risk", "wanted"),
    [(0.10, 50_000.0, True), (0.09, 90_000.0, False), (0.5, 49_999.0, False), (None, None, False)],
)
def test_retention_thresholds(p_loss: float | None, aum_at_risk: float | None, wanted: bool) -> None:
    found = candidates(facts(p_loss=p_loss, aum_at_risk=aum_at_risk), on=ON, settings=S)
    assert [c.kind for c in found] == ([TaskKind.retention] if wanted else [])


def test_a_high_severity_alert_makes_a_retention_task_without_a_score() -> None:
    alert = AlertFact(3, "large_outflow", "high", "call_about_outflow", {"amount": 300_000})
    (task,) = candidates(facts(p_loss=None, aum_at_risk=None, alerts=[alert]), on=ON, settings=S)
    assert (task.kind, task.source_key, task.priority_amount, task.alert_id) == (
        TaskKind.retention,
        "retention:C1@2026-10",
        300_000.0,
        3,
    )
    assert task.evidence["at_risk"] is False
    unscored = candidates(facts(month=None, tier=None, alerts=[alert]), on=ON, settings=S)
    assert keys(unscored) == ["retention:C1@alert-3"]


def test_maturities_ahead_and_just_matured_unless_reinvested() -> None:
    positions = [
        PositionFact("P1", "WMP1", "稳健理财", 300_000.0, date(2026, 12, 12), matured=False),  # in 14 days
        PositionFact("P2", "WMP1", "稳健理财", 100_000.0, date(2026, 12, 13), matured=False),  # in 15 days
        PositionFact("P3", "WMP2", "季季盈", 200_000.0, date(2026, 11, 21), matured=True),  # 7 days ago
        PositionFact("P4", "WMP2", "季季盈", 200_000.0, date(2026, 11, 20), matured=True),  # 8 days ago
    ]
    found = candidates(facts(positions=positions), on=ON, settings=S)
    assert [(c.source_key, c.priority_amount, c.evidence["matured"]) for c in found] == [
        ("maturity:P1", 300_000.0, False),
        ("maturity:P3", 200_000.0, True),
    ]
    assert found[0].evidence == {
        "position_id": "P1",
        "product_code": "WMP1",
        "product_name": "稳健理财",
        "principal": 300_000.0,
        "maturity_on": "2026-12-12",
        "matured": False,
        "days": 14,
    }
    reinvested = candidates(facts(positions=positions, last_opened_on=date(2026, 11, 22)), on=ON, settings=S)
    assert keys(reinvested) == ["maturity:P1"]


@pytest.mark.parametrize(
    ("tier", "last", "wanted"),
    [
        ("sunflower", date(2026, 10, 29), "cadence:C1@2026-11-28"),  # 30 days: due today
        ("sunflower", date(2026, 10, 30), None),
        ("diamond", date(2026, 11, 14), "cadence:C1@2026-11-28"),
        ("diamond", date(2026, 11, 15), None),
        ("private", date(2026, 11, 21), "cadence:C1@2026-11-28"),
        ("private", None, "cadence:C1@never"),
        ("gold", None, None),  # not a prospect: AUM below 300k (see below)
        ("mass", None, None),
    ],
)
def test_cadence_per_tier(tier: str, last: date | None, wanted: str | None) -> None:
    found = candidates(facts(tier=tier, aum=200_000.0, last_contact=last), on=ON, settings=S)
    assert keys(found) == ([wanted] if wanted else [])


def test_gold_prospects_are_contacted_quarterly() -> None:
    prospect = facts(tier="gold", aum=350_000.0, previous_aum=320_000.0, last_contact=date(2026, 8, 30))
    (task,) = candidates(prospect, on=ON, settings=S)
    assert (task.source_key, task.evidence) == (
        "cadence:C1@2026-11-28",
        {
            "tier": "gold",
            "prospect": True,
            "interval_days": 90,
            "last_contact": "2026-08-30",
            "days_since": 90,
        },
    )
    falling = facts(tier="gold", aum=350_000.0, previous_aum=360_000.0, last_contact=None)
    assert candidates(falling, on=ON, settings=S) == []


def test_birthdays_within_a_week_for_managed_customers() -> None:
    (task,) = candidates(facts(birth_date=date(1970, 12, 5)), on=ON, settings=S)
    assert (task.source_key, task.due_on, task.evidence) == (
        "birthday:C1@2026",
        date(2026, 12, 5),
        {"birthday": "2026-12-05", "age": 56, "days": 7},
    )
    assert candidates(facts(birth_date=date(1970, 12, 6)), on=ON, settings=S) == []
    assert candidates(facts(birth_date=date(1970, 12, 5), tier="gold"), on=ON, settings=S) == []
    assert next_birthday(date(2000, 2, 29), date(2027, 1, 1)) == date(2027, 2, 28)
    assert next_birthday(date(2000, 2, 29), date(2028, 1, 1)) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("assessed", "expected"),
    [
        (date(2025, 12, 28), ("assessment_expiry:C1@2025-12-28", "2026-12-28", False)),  # in 30 days
        (date(2025, 12, 29), None),  # in 31 days
        (date(2025, 11, 1), ("assessment_expiry:C1@2025-11-01", "2026-11-01", True)),
        (None, ("assessment_expiry:C1@none", None, True)),
    ],
)
def test_assessment_expiry(assessed: date | None, expected: tuple[str, str | None, bool] | None) -> None:
    alert = AlertFact(9, "risk_assessment_expired", "low", "renew_risk_assessment")
    found = candidates(facts(risk_assessed_on=assessed, alerts=[alert]), on=ON, settings=S)
    if expected is None:
        assert found == []
        return
    (task,) = found
    assert (task.source_key, task.evidence["expires_on"], task.evidence["expired"]) == expected
    assert task.alert_id == 9


def test_an_expired_assessment_of_a_gold_customer_is_a_task_only_when_a_product_matures() -> None:
    gold = facts(tier="gold", aum=100_000.0, risk_assessed_on=None)
    assert candidates(gold, on=ON, settings=S) == []
    maturing = PositionFact("P1", "WMP1", "稳健理财", 60_000.0, date(2026, 12, 1), matured=False)
    assert keys(candidates(replace_positions(gold, [maturing]), on=ON, settings=S)) == [
        "maturity:P1",
        "assessment_expiry:C1@none",
    ]


def replace_positions(c: CustomerFacts, positions: list[PositionFact]) -> CustomerFacts:
    return replace(c, positions=positions)


def test_open_complaints_and_recent_detractors() -> None:
    complaint = ComplaintFact("R9", datetime(2026, 11, 20, 9), datetime(2026, 11, 24, 18), "in_progress")
    nps = SurveyFact("SV9", date(2026, 9, 1), 6.0)  # 88 days ago, a detractor
    found = candidates(facts(complaints=[complaint], latest_nps=nps), on=ON, settings=S)
    assert [(c.source_key, c.evidence) for c in found] == [
        (
            "service_followup:R9",
            {
                "request_id": "R9",
                "opened_on": "2026-11-20",
                "due_at": "2026-11-24T18:00",
                "status": "in_progress",
                "breached": True,
                "request_type": "complaint",
            },
        ),
        ("survey_recovery:SV9", {"response_id": "SV9", "answered_on": "2026-09-01", "nps": 6.0}),
    ]
    late = ComplaintFact("R8", datetime(2026, 11, 2, 9), datetime(2026, 11, 27, 18), "new", "inquiry")
    due = ComplaintFact("R7", datetime(2026, 11, 25, 9), datetime(2026, 11, 28, 18), "new", "inquiry")
    assert keys(candidates(facts(complaints=[late, due]), on=ON, settings=S)) == ["service_followup:R8"]
    passive = SurveyFact("SV9", date(2026, 9, 1), 7.0)
    old = SurveyFact("SV9", date(2026, 8, 29), 2.0)  # 91 days ago
    assert candidates(facts(latest_nps=passive), on=ON, settings=S) == []
    assert candidates(facts(latest_nps=old), on=ON, settings=S) == []


def test_outcome_mapping_and_saves() -> None:
    assert task_outcome_for(TaskKind.retention, InteractionOutcome.retained) is TaskOutcome.retained
    assert task_outcome_for(TaskKind.maturity, InteractionOutcome.sold) is TaskOutcome.reinvested
    assert task_outcome_for(TaskKind.cadence, InteractionOutcome.sold) is TaskOutcome.contacted
    assert task_outcome_for(TaskKind.retention, InteractionOutcome.no_answer) is None
    assert task_outcome_for(TaskKind.retention, InteractionOutcome.lost) is TaskOutcome.lost
    assert {o: task_outcome_for(TaskKind.cadence, o) for o in InteractionOutcome} == {
        InteractionOutcome.reached: TaskOutcome.contacted,
        InteractionOutcome.no_answer: None,
        InteractionOutcome.declined: TaskOutcome.declined,
        InteractionOutcome.interested: TaskOutcome.contacted,
        InteractionOutcome.sold: TaskOutcome.contacted,
        InteractionOutcome.retained: TaskOutcome.retained,
        InteractionOutcome.lost: TaskOutcome.lost,
        InteractionOutcome.other: TaskOutcome.contacted,
    }
    assert is_save(TaskKind.retention, TaskOutcome.retained)
    assert not is_save(TaskKind.cadence, TaskOutcome.retained)
    assert not is_save(TaskKind.retention, TaskOutcome.contacted)
    assert identity_of("retention:C1@2026-10") == "retention:C1"
    assert identity_of("maturity:P1") == "maturity:P1"
