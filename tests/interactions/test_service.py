"""Logging a contact: the interaction, the follow-up task, the worked task and the met cadence — scoped,
checked and audited (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.interactions import service
from wealthcrm.interactions.models import Interaction
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    TaskKind,
    TaskOutcome,
    TaskStatus,
)

from ..customers.workbench import load_workbench

ON = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 16, 30)
WHEN = datetime(2026, 11, 28, 10, 15)


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        tasks.generate(session, on=ON, settings=settings)
    return engine


def _task(session: Session, key: str) -> Task:
    task = session.scalar(select(Task).where(Task.source_key == key))
    assert task is not None
    return task


def log(session: Session, username: str, customer_id: str = "C001", **values: Any) -> service.Logged:
    args: dict[str, Any] = {
        "channel": InteractionChannel.phone,
        "purpose": InteractionPurpose.retention,
        "outcome": InteractionOutcome.retained,
        "notes": "客户同意保留资产",
        "occurred_at": WHEN,
        "on": ON,
        "now": NOW,
    }
    return service.log_interaction(
        session, user=users.get(session, username=username), customer_id=customer_id, **(args | values)
    )


def test_a_retention_call_closes_the_task_as_a_save_meets_the_cadence_and_sets_a_follow_up(
    wb: Engine,
) -> None:
    with session_scope(wb) as session:
        retention = _task(session, "retention:C001@2026-10")
        logged = log(session, "rm01", task_id=retention.id, task_version=1, follow_up_on=date(2026, 12, 5))
        i = logged.interaction
        assert i.interaction_id.startswith("APP-") and len(i.interaction_id) == 36
        rm01 = users.get(session, username="rm01")
        assert (i.customer_id, i.staff_id, i.occurred_at, i.outcome, i.follow_up_on, i.logged_by) == (
            "C001",
            "S001",
            WHEN,
            InteractionOutcome.retained,
            date(2026, 12, 5),
            rm01.id,
        )
        assert (retention.status, retention.outcome, retention.interaction_id, retention.completed_by) == (
            TaskStatus.done,
            TaskOutcome.retained,
            i.interaction_id,
            rm01.id,
        )
        cadence = _task(session, "cadence:C001@2026-11-02")
        assert (cadence.status, cadence.outcome, cadence.interaction_id) == (
            TaskStatus.done,
            TaskOutcome.contacted,
            i.interaction_id,
        )
        assert logged.cadence_closed == [cadence.id] and logged.task_closed
        follow = logged.follow_up
        assert follow is not None
        assert (
            follow.kind,
            follow.assignee_id,
            follow.customer_id,
            follow.due_on,
            follow.note,
            follow.created_by,
        ) == (
            TaskKind.follow_up,
            "S001",
            "C001",
            date(2026, 12, 5),
            "客户同意保留资产",
            rm01.id,
        )
        assert follow.evidence == {
            "interaction_id": i.interaction_id,
            "purpose": "retention",
            "channel": "phone",
            "contacted_on": "2026-11-28",
        }
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.details)
            .where(AuditEntry.actor == "rm01")
            .order_by(AuditEntry.seq)
        ).all()
        assert [(a, e) for a, e, _ in entries] == [
            ("interaction.create", i.interaction_id),
            ("task.create", str(follow.id)),
            ("task.done", str(retention.id)),
            ("task.done", str(cadence.id)),
        ]
        assert entries[0][2] == {
            "channel": "phone",
            "purpose": "retention",
            "outcome": "retained",
            "occurred_at": "2026-11-28T10:15:00",
            "follow_up_on": "2026-12-05",
            "task_id": retention.id,
        }
        assert "客户" not in str([d for _, _, d in entries])  # notes stay out of the audit details
        assert entries[2][2]["save"] is True and entries[3][2]["save"] is False
        # the contact is on the customer's timeline, marked as logged in the app
        page = service.list_interactions(session, user=rm01, customer_id="C001")
        assert [(r.interaction_id, r.logged_in_app, r.staff_name) for r in page.rows] == [
            (i.interaction_id, True, "王经理"),
            ("I1", False, "王经理"),
        ]


def test_no_answer_leaves_the_task_and_the_cadence_open(wb: Engine) -> None:
    with session_scope(wb) as session:
        retention = _task(session, "retention:C003@2026-10")
        logged = log(session, "rm01", "C003", outcome=InteractionOutcome.no_answer, task_id=retention.id)
        assert (logged.task_closed, logged.cadence_closed, retention.status, retention.version) == (
            False,
            [],
            TaskStatus.open,
            1,
        )
        assert _task(session, "cadence:C003@never").status is TaskStatus.open
        # an explicit task outcome closes it anyway
        log(
            session, "rm01", "C003", outcome=InteractionOutcome.no_answer, task_id=retention.id,
            task_outcome=TaskOutcome.no_answer,
        )  # fmt: skip
        assert (retention.status, retention.outcome) == (TaskStatus.done, TaskOutcome.no_answer)


def test_a_maturity_sale_reinvests(wb: Engine) -> None:
    with session_scope(wb) as session:
        task = tasks.create(
            session, kind=TaskKind.maturity, assignee_id="S001", due_on=ON, customer_id="C001"
        )
        log(
            session,
            "rm01",
            purpose=InteractionPurpose.maturity,
            outcome=InteractionOutcome.sold,
            task_id=task.id,
        )
        assert (task.status, task.outcome) == (TaskStatus.done, TaskOutcome.reinvested)


@pytest.mark.parametrize(
    ("username", "customer_id", "error", "message"),
    [
        ("rm02", "C001", NotFound, "no customer 'C001'"),  # another RM's customer: as if missing
        ("rm01", "C999", NotFound, "no customer 'C999'"),
        ("audit", "C001", Forbidden, "may not log contacts"),
        ("analyst", "C001", Forbidden, "may not log contacts"),
        ("svc", "C001", Forbidden, "may not log contacts"),
        ("boss", "C001", Forbidden, "may not log contacts"),
    ],
)
def test_who_may_log_a_contact(
    wb: Engine, username: str, customer_id: str, error: type, message: str
) -> None:
    with session_scope(wb) as session:
        with pytest.raises(error, match=message):
            log(session, username, customer_id)
        assert (
            session.scalars(select(Interaction).where(Interaction.interaction_id.like("APP-%"))).all() == []
        )


def test_the_lead_logs_for_the_team_and_the_lead_gets_the_follow_up(wb: Engine) -> None:
    with session_scope(wb) as session:
        logged = log(session, "lead", "C003", follow_up_on=ON)
        assert logged.interaction.staff_id == "S002"
        assert logged.follow_up is not None and logged.follow_up.assignee_id == "S002"


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"occurred_at": datetime(2026, 11, 28, 16, 36)}, Invalid, "in the future"),
        ({"occurred_at": datetime(2025, 11, 27, 10)}, Invalid, "at most 365 days ago"),
        ({"follow_up_on": date(2026, 11, 27)}, Invalid, "in the past"),
        ({"follow_up_on": date(2027, 11, 29)}, Invalid, "at most 365 days ahead"),
        ({"notes": "长" * 2001}, Invalid, "longer than 2000"),
    ],
)
def test_bad_input_is_refused(wb: Engine, values: dict[str, Any], error: type, message: str) -> None:
    with session_scope(wb) as session, pytest.raises(error, match=message):
        log(session, "rm01", **values)


def test_task_checks(wb: Engine) -> None:
    with session_scope(wb) as session:
        c003 = _task(session, "retention:C003@2026-10")
        c004 = _task(session, "retention:C004@2026-10")
        with pytest.raises(Invalid, match="about another customer"):
            log(session, "rm01", "C001", task_id=c003.id)
        with pytest.raises(NotFound, match=f"no task {c004.id}"):
            log(session, "rm01", "C001", task_id=c004.id)
        with pytest.raises(Conflict, match="changed by someone else"):
            log(session, "rm01", "C003", task_id=c003.id, task_version=2)
        log(session, "rm01", "C003", task_id=c003.id, task_version=1)
        with pytest.raises(Conflict, match="already done"):
            log(session, "rm01", "C003", task_id=c003.id)
