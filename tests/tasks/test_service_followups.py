"""The nightly task generation and the service desk's follow-up tasks: a follow-up the desk raised for a
breached request stays while the request is open and past due, and closes once it is resolved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.service import service as svc
from wealthcrm.service.rules import Action
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import AlertFact, ComplaintFact, CustomerFacts, candidates
from wealthcrm.tasks.service import generate
from wealthcrm.vocab import RequestType, ServiceChannel, TaskStatus

from ..service.data import bj, make_settings, seed, who


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _followup(session: Session, request_id: str) -> Task:
    task = session.scalar(select(Task).where(Task.source_key == f"service_followup:{request_id}"))
    assert task is not None
    return task


def test_the_nightly_keeps_the_follow_up_of_a_request_breached_today(session: Session, cfg: Settings) -> None:
    seed(session)
    # a sunflower inquiry opened Monday 13 October 2025 at 09:00: resolve within 8 business hours → 17:00
    req = svc.create(
        session, user=who("svc"), customer_id="C1", request_type=RequestType.inquiry,
        channel=ServiceChannel.phone, now=bj(2025, 10, 13, 9), settings=cfg, request_id="R7",
    )  # fmt: skip
    assert req.due_at == bj(2025, 10, 13, 17)
    svc.transition(
        session, user=who("svc"), request_id="R7", action=Action.acknowledge, expected_version=1,
        now=bj(2025, 10, 13, 9, 30), settings=cfg,
    )  # fmt: skip
    # 17:30: past due; the desk's batch gives the RM the follow-up at once
    svc.escalate_due(session, now=bj(2025, 10, 13, 17, 30), settings=cfg)
    assert _followup(session, "R7").status is TaskStatus.open
    # the nightly batch of the same evening keeps it: the request is open and past its due time
    generate(session, on=date(2025, 10, 13), settings=cfg)
    assert _followup(session, "R7").status is TaskStatus.open
    generate(session, on=date(2025, 10, 14), settings=cfg)
    task = _followup(session, "R7")
    assert (task.status, task.evidence["breached"], task.evidence["request_type"]) == (
        TaskStatus.open,
        True,
        "inquiry",
    )
    # resolved: the next run closes it
    svc.transition(
        session, user=who("svc"), request_id="R7", action=Action.resolve, expected_version=2,
        now=bj(2025, 10, 14, 10), settings=cfg,
    )  # fmt: skip
    generate(session, on=date(2025, 10, 14), settings=cfg)
    assert _followup(session, "R7").status is TaskStatus.cancelled


def test_a_request_waiting_for_the_customer_past_its_due_time_keeps_its_follow_up(
    session: Session, cfg: Settings
) -> None:
    seed(session)
    svc.create(
        session, user=who("svc"), customer_id="C1", request_type=RequestType.transaction_problem,
        channel=ServiceChannel.branch, now=bj(2025, 10, 13, 9), settings=cfg, request_id="R8",
    )  # fmt: skip
    svc.escalate_due(session, now=bj(2025, 10, 16, 9, 30), settings=cfg)  # long past due
    req = svc.get(session, user=who("svc"), request_id="R8")
    svc.transition(
        session, user=who("svc"), request_id="R8", action=Action.acknowledge, expected_version=req.version,
        now=bj(2025, 10, 16, 10), settings=cfg,
    )  # fmt: skip
    svc.transition(
        session, user=who("svc"), request_id="R8", action=Action.wait, expected_version=req.version,
        now=bj(2025, 10, 16, 11), settings=cfg,
    )  # fmt: skip
    generate(session, on=date(2025, 10, 17), settings=cfg)
    assert _followup(session, "R8").status is TaskStatus.open


def test_the_rule_keeps_a_request_due_today_only_once_the_desk_saw_its_breach(cfg: Settings) -> None:
    due_today = ComplaintFact(
        "R5", datetime(2026, 11, 20, 1), datetime(2026, 11, 28, 2), "in_progress", "inquiry"
    )
    facts = CustomerFacts(customer_id="C1", rm_id="S01", complaints=[due_today])
    assert candidates(facts, on=date(2026, 11, 28), settings=cfg) == []
    breach = AlertFact(9, "sla_breach", "medium", "apologise_and_fix", {"request_id": "R5"})
    other = AlertFact(8, "sla_breach", "medium", "apologise_and_fix", {"request_id": "R4"})
    seen = candidates(replace(facts, alerts=[other, breach]), on=date(2026, 11, 28), settings=cfg)
    assert [(c.source_key, c.evidence["breached"]) for c in seen] == [("service_followup:R5", False)]
    assert candidates(replace(facts, alerts=[other]), on=date(2026, 11, 28), settings=cfg) == []
